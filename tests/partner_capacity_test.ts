/**
 * A partner cloud host without a configured capacity takes it from the partner user's VM
 * quota (`one.user.info`): the built `dist/` probes report what the quota leaves the host, and
 * deploy refuses a VM past it before anything is instantiated. Against a stand-in partner oned
 * of its own, whose quota counts every VM of the user.
 */

import assert from "node:assert/strict";
import { actionData, writeDeployment } from "./deployments.ts";
import {
  type ActionResult,
  failureLine,
  oneBase64,
  runAction,
  runProcess,
  sharedTest as test,
} from "./harness.ts";
import { handMadeVm, type PartnerOned, startPartnerOned } from "./partner_oned.ts";

const DIST = new URL("../dist", import.meta.url).pathname;
const PASSWORD = "Quota-s3cret";
const tmp = await Deno.makeTempDir({ prefix: "hybrid-partner-quota-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const partner: PartnerOned = await startPartnerOned({ password: PASSWORD, stepMs: 100 });
partner.templates.set(3, { name: "tiny", context: {} });

const config = `${tmp}/hybrid_driver.json`;
await Deno.writeTextFile(
  config,
  JSON.stringify({
    defaults: {
      provider: "opennebula",
      endpoint: partner.url,
      user: "partner",
      password: PASSWORD,
      stateWaitSeconds: 20,
      statePollSeconds: 0.05,
    },
    hosts: { "partner-q": {}, "partner-other": {} },
  }),
  { mode: 0o600 },
);
await Deno.chmod(config, 0o600);
// No ONE_AUTH: the local oned cannot be asked for the host template's CAPACITY.
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };

/**
 * A 5.x deployment of a VM with a partner section: of 1 CPU and 512 MB from partner template 3,
 * unless `template` names another and the VM's size.
 */
function deployment(
  vmId: number,
  extra = "",
  lcm = 2,
  template = { id: 3, size: "<CPU>1</CPU><MEMORY>512</MEMORY>" },
): string {
  return `<VM><ID>${vmId}</ID><NAME>q-${vmId}</NAME><STATE>3</STATE><LCM_STATE>${lcm}</LCM_STATE>` +
    `${extra}<TEMPLATE>${template.size}</TEMPLATE><USER_TEMPLATE><PUBLIC_CLOUD>` +
    `<TYPE>opennebula</TYPE><TEMPLATE_ID>${template.id}</TEMPLATE_ID></PUBLIC_CLOUD>` +
    "</USER_TEMPLATE></VM>";
}

async function deploy(vmId: number, host: string, xml: string, seq = 0): Promise<ActionResult> {
  const file = await writeDeployment(tmp, vmId, xml, seq);
  return await runAction("deploy", [file, host, String(vmId), host], {
    stdin: oneBase64(xml),
    env: ENV,
  });
}

function act(action: string, id: string, vmId: number, host: string, lcm: number) {
  return runAction(action, [id, host, String(vmId), host], {
    stdin: oneBase64(actionData(vmId, host, id, { lcmState: lcm })),
    env: ENV,
  });
}

/** Runs a 5.12+ probe of a host as monitord does. */
async function probe(path: string, host: string): Promise<ActionResult> {
  const args = ["provider", "/var/lib/one//datastores", "4124", "20", "7", host];
  return await runProcess(`./probe_${path.replace("/", "_")}`, args, {
    cwd: `${DIST}/im/provider-probes.d/${path}`,
    env: ENV,
  });
}

/** Adds a VM the partner user made by hand (wild: no marks), running. */
function byHand(id: number): void {
  partner.vms.set(id, handMadeVm(id, { templateId: 3 }));
}

test("the probes of a host without capacity report what the partner user's quota leaves it: limits, defaults for -1, every VM of the user counted", async () => {
  // CPU 4 and MEMORY 2048 MB of the user's own; VMS -1: the default quota's 3.
  Object.assign(partner.userQuota, { CPU: 4, MEMORY: 2048, VMS: -1 });
  Object.assign(partner.defaultQuota, { VMS: 3 });
  const first = await deploy(10, "partner-q", deployment(10));
  assert.equal(first.code, 0, first.stdout);
  const id = first.stdout.trim();

  const system = await probe("host/system", "partner-q");
  assert.equal(system.stderr, "");
  assert.deepEqual(system.stdout.split("\n").slice(0, 5), [
    "HYPERVISOR=opennebula",
    "PUBLIC_CLOUD=YES",
    "PRIORITY=-1",
    "TOTALCPU=400",
    "TOTALMEMORY=2097152",
  ]);
  assert.equal(
    (await probe("host/monitor", "partner-q")).stdout,
    "HYPERVISOR=opennebula\nPUBLIC_CLOUD=YES\nUSEDCPU=100\nUSEDMEMORY=524288\nFREECPU=300\nFREEMEMORY=1572864\n",
  );
  // A VM of the same user outside this host takes its share of the quota from the host.
  byHand(500);
  assert.equal(
    (await probe("host/monitor", "partner-q")).stdout,
    "HYPERVISOR=opennebula\nPUBLIC_CLOUD=YES\nUSEDCPU=100\nUSEDMEMORY=524288\nFREECPU=200\nFREEMEMORY=1048576\n",
  );
  // Another host of the same user sees what is left for it, its own VMs none.
  assert.equal(
    (await probe("host/monitor", "partner-other")).stdout,
    "HYPERVISOR=opennebula\nPUBLIC_CLOUD=YES\nUSEDCPU=0\nUSEDMEMORY=0\nFREECPU=200\nFREEMEMORY=1048576\n",
  );
  assert.equal((await act("cancel", id, 10, "partner-q", 12)).code, 0);
  partner.vms.get(500)!.state = 6;
});

test("deploy refuses a VM past what the quota leaves before instantiating, and still resumes a powered-off VM the quota already counts", async () => {
  Object.assign(partner.userQuota, { CPU: 8, MEMORY: 8192, VMS: 3 });
  byHand(501);
  const a = await deploy(20, "partner-q", deployment(20));
  const b = await deploy(21, "partner-q", deployment(21));
  assert.equal(a.code + b.code, 0, a.stdout + b.stdout);
  const instantiated = partner.count("one.template.instantiate");
  const refused = await deploy(22, "partner-q", deployment(22));
  assert.equal(
    failureLine(refused),
    "Cannot deploy VM 22 to host partner-q: its capacity allows 2 instances and 2 are pending or running (what the cloud account's quota leaves)",
  );
  assert.equal(partner.count("one.template.instantiate"), instantiated, "nothing instantiated");

  // VM 20 powered off still holds one of the 3 VMS; resuming it needs no more.
  const id = a.stdout.trim();
  assert.equal((await act("shutdown", id, 20, "partner-q", 18)).code, 0);
  const resume = deployment(20, `<DEPLOY_ID>${id}</DEPLOY_ID>`, 20);
  assert.deepEqual(await deploy(20, "partner-q", resume, 1), {
    code: 0,
    stdout: `${id}\n`,
    stderr: "",
  });
  // With RUNNING_VMS full, the resume is refused before the partner is asked.
  assert.equal((await act("shutdown", id, 20, "partner-q", 18)).code, 0);
  partner.userQuota.RUNNING_VMS = 2;
  const actions = partner.vms.get(Number(id.split("-").pop()))!.actions.length;
  assert.equal(
    failureLine(await deploy(20, "partner-q", resume, 2)),
    "Cannot deploy VM 20 to host partner-q: its capacity allows 1 instances and 1 is pending or running (what the cloud account's quota leaves)",
  );
  assert.equal(partner.vms.get(Number(id.split("-").pop()))!.actions.length, actions);
  delete partner.userQuota.RUNNING_VMS;
  for (const [vm, result] of [[20, a], [21, b]] as const) {
    assert.equal((await act("cancel", result.stdout.trim(), vm, "partner-q", 12)).code, 0);
  }
  partner.vms.get(501)!.state = 6;
});

test("a quota that does not cap both CPU and memory gives no capacity: the probe says what to set", async () => {
  Object.assign(partner.userQuota, { CPU: -2, MEMORY: -2, VMS: 10 });
  const result = await probe("host/system", "partner-q");
  assert.equal(
    failureLine(result),
    `Host partner-q has no capacity: its cloud account's quota caps neither CPU nor memory; set "capacity" for it in ${config} (e.g. "capacity": {"vcpus": 16, "memoryGiB": 32}), CAPACITY in the host's template (e.g. CAPACITY=[VCPUS="16", MEMORY_GIB="32"]), or a CPU and MEMORY quota for the account, so that OpenNebula can place VMs on it`,
  );
  // Unlimited in all: deploy checks nothing more and instantiates.
  partner.userQuota.VMS = -2;
  const ok = await deploy(30, "partner-q", deployment(30));
  assert.equal(ok.code, 0, ok.stdout);
  assert.equal((await act("cancel", ok.stdout.trim(), 30, "partner-q", 12)).code, 0);
});

/** Partner template 4: half a CPU (what oned charges the CPU quotas) of 2 VCPUs, 512 MB. */
partner.templates.set(4, { name: "half", context: {}, cpu: 0.5, vcpu: 2, memory: 512 });
const HALF = { id: 4, size: "<CPU>0.5</CPU><VCPU>2</VCPU><MEMORY>512</MEMORY>" };

/** Sets the user's quota limits, every other metric unlimited. */
function quota(limits: Record<string, number>): void {
  for (const metric of ["VMS", "RUNNING_VMS", "CPU", "RUNNING_CPU", "MEMORY", "RUNNING_MEMORY"]) {
    partner.userQuota[metric] = limits[metric] ?? -2;
  }
}

test("the probes count a partner VM by the CPU its template charges the quota (0.5), not by its VCPU (2)", async () => {
  quota({ CPU: 2, MEMORY: 2048 });
  const deployed = await deploy(40, "partner-q", deployment(40, "", 2, HALF));
  assert.equal(deployed.code, 0, deployed.stdout);
  try {
    const system = await probe("host/system", "partner-q");
    assert.equal(system.stderr, "");
    assert.deepEqual(system.stdout.split("\n").slice(3, 5), [
      "TOTALCPU=200",
      "TOTALMEMORY=2097152",
    ]);
    // 0.5 of the 2 CPUs are used, as the partner counts them (CPU_USED 0.50): 1.5 are free.
    assert.equal(
      (await probe("host/monitor", "partner-q")).stdout,
      "HYPERVISOR=opennebula\nPUBLIC_CLOUD=YES\nUSEDCPU=50\nUSEDMEMORY=524288\nFREECPU=150\nFREEMEMORY=1572864\n",
    );
  } finally {
    assert.equal((await act("cancel", deployed.stdout.trim(), 40, "partner-q", 12)).code, 0);
  }
});

test("deploy counts the CPU the partner template charges the quota: four VMs of 0.5 CPU (2 VCPUs) fit a CPU quota of 2, the fifth is refused before instantiating", async () => {
  quota({ CPU: 2 });
  const ids: [number, string][] = [];
  try {
    for (const vmId of [50, 51, 52, 53]) {
      const result = await deploy(vmId, "partner-q", deployment(vmId, "", 2, HALF));
      assert.equal(result.code, 0, result.stdout);
      ids.push([vmId, result.stdout.trim()]);
    }
    const instantiated = partner.count("one.template.instantiate");
    assert.equal(
      failureLine(await deploy(54, "partner-q", deployment(54, "", 2, HALF))),
      "Cannot deploy VM 54 to host partner-q: its capacity allows 2 CPU, pending and running instances hold 2 and the instance needs 0.5 (what the cloud account's quota leaves)",
    );
    assert.equal(partner.count("one.template.instantiate"), instantiated, "nothing instantiated");
  } finally {
    for (const [vmId, id] of ids) {
      assert.equal((await act("cancel", id, vmId, "partner-q", 12)).code, 0);
    }
  }
});

test("a RUNNING_CPU quota counts running VMs by their template's CPU, and not a powered-off VM, which holds CPU but not RUNNING_CPU", async () => {
  quota({ RUNNING_CPU: 1, MEMORY: 2048 });
  // Powered off by hand on the partner: 1.5 CPU and 512 MB held, no RUNNING_* charged.
  partner.vms.set(700, handMadeVm(700, { templateId: 3, state: 8, lcm: 0, cpu: 1.5 }));
  const deployed = await deploy(41, "partner-q", deployment(41, "", 2, HALF));
  assert.equal(deployed.code, 0, deployed.stdout);
  try {
    assert.equal(
      (await probe("host/monitor", "partner-q")).stdout,
      "HYPERVISOR=opennebula\nPUBLIC_CLOUD=YES\nUSEDCPU=50\nUSEDMEMORY=524288\nFREECPU=50\nFREEMEMORY=1048576\n",
    );
  } finally {
    assert.equal((await act("cancel", deployed.stdout.trim(), 41, "partner-q", 12)).code, 0);
    partner.vms.get(700)!.state = 6;
  }
});

globalThis.addEventListener("unload", () => void partner.close());
