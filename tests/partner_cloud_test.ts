/**
 * The partner OpenNebula cloud provider end to end: the built `dist/` actions and probes, run
 * as oned 5.x runs them, against a stand-in partner oned (`partner_oned.ts`) whose VMs move
 * through their states over time. Exact exit codes, stdout and stderr.
 */

import assert from "node:assert/strict";
import { actionData, writeDeployment } from "./deployments.ts";
import {
  type ActionResult,
  failureLine,
  fenced,
  monitoringPairs,
  oneBase64,
  runAction,
  runProcess,
  sharedTest as test,
} from "./harness.ts";
import { handMadeVm, type PartnerOned, startPartnerOned } from "./partner_oned.ts";

const DIST = new URL("../dist", import.meta.url).pathname;
const PASSWORD = "Partner-s3cret";
const tmp = await Deno.makeTempDir({ prefix: "hybrid-partner-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const partner: PartnerOned = await startPartnerOned({ password: PASSWORD, stepMs: 150 });
partner.templates.set(7, {
  name: "small",
  context: { NETWORK: "YES", SSH_PUBLIC_KEY: "$USER[SSH_PUBLIC_KEY]" },
});

/** A port nothing listens on: a server started and stopped. */
const deadUrl = (() => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return `http://127.0.0.1:${port}/RPC2`;
})();

const authFile = `${tmp}/partner_auth`;
await Deno.writeTextFile(authFile, `partner:${PASSWORD}\n`, { mode: 0o600 });
await Deno.chmod(authFile, 0o600);
const config = `${tmp}/hybrid_driver.json`;
await Deno.writeTextFile(
  config,
  JSON.stringify({
    defaults: {
      provider: "opennebula",
      endpoint: partner.url,
      stateWaitSeconds: 20,
      statePollSeconds: 0.05,
      capacity: { vcpus: 16, memoryGiB: 32 },
    },
    hosts: {
      "partner-a": { user: "partner", password: PASSWORD },
      "partner-b": { user: "partner", password: PASSWORD },
      "partner-file": { authFile },
      "partner-wrong": { user: "partner", password: "not-the-password" },
      "partner-down": {
        user: "partner",
        password: PASSWORD,
        endpoint: deadUrl,
        // Reads are asked again until the deadline is near: keep it short.
        actionTimeoutSeconds: 15,
        stateWaitSeconds: 5,
      },
    },
  }),
  { mode: 0o600 },
);
await Deno.chmod(config, 0o600);
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };

/** A 5.x deployment file of a VM with a partner section and a context. */
function deployment(vmId: number, section: Record<string, string>, extra = ""): string {
  const cdata = (r: Record<string, string>) =>
    Object.entries(r).map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`).join("");
  return `<VM><ID>${vmId}</ID><NAME>web-${vmId}</NAME><STATE>3</STATE><LCM_STATE>2</LCM_STATE>` +
    `<STIME>${
      Math.floor(Date.now() / 1000)
    }</STIME>${extra}<TEMPLATE><CPU>1</CPU><MEMORY>512</MEMORY>` +
    `<CONTEXT>${
      cdata({ SET_HOSTNAME: `web-${vmId}`, ETH0_IP: "10.0.0.9", DISK_ID: "1", MOTD: "hi & <bye>" })
    }</CONTEXT></TEMPLATE><USER_TEMPLATE><PUBLIC_CLOUD><TYPE>opennebula</TYPE>${
      cdata(section)
    }</PUBLIC_CLOUD></USER_TEMPLATE></VM>`;
}

/** Runs deploy as 5.x does: the file's path, host, VM id, host; the file in base64 on stdin. */
async function deploy(vmId: number, host: string, xml: string, seq = 0): Promise<ActionResult> {
  const file = await writeDeployment(tmp, vmId, xml, seq);
  return await runAction("deploy", [file, host, String(vmId), host], {
    stdin: oneBase64(xml),
    env: ENV,
  });
}

/** Runs a VM action as 5.x does, with the action data and the VM's LCM state on stdin. */
function act(
  action: string,
  deployId: string,
  vmId: number,
  host: string,
  lcmState = 3,
  params: string[] = [],
): Promise<ActionResult> {
  const args = action === "save"
    ? [deployId, ...params, host, String(vmId), host]
    : action === "restore"
    ? [...params, host, deployId, String(vmId), host]
    : [deployId, host, String(vmId), host];
  return runAction(action, args, {
    stdin: oneBase64(actionData(vmId, host, deployId, { lcmState })),
    env: ENV,
  });
}

function ok(result: ActionResult, stdout = ""): void {
  assert.deepEqual(result, { code: 0, stdout, stderr: "" });
}

const partnerId = (deployId: string) => Number(deployId.replace("opennebula-hybrid-", ""));

test("a VM's whole life on a partner cloud: deploy instantiates the template once with the VM's marks and context, and every action maps to the partner's", async () => {
  const before = partner.count("one.template.instantiate");
  const xml = deployment(42, { TEMPLATE_ID: "7", HOST: "partner-a" });
  const first = await deploy(42, "partner-a", xml);
  assert.equal(first.stderr, "");
  assert.equal(first.code, 0);
  assert.match(first.stdout, /^opennebula-hybrid-\d+\n$/);
  const id = first.stdout.trim();
  const vm = partner.vms.get(partnerId(id))!;
  assert.deepEqual(partner.stateOf(vm.id), [3, 3], "deploy returns once the VM runs");
  assert.equal(vm.name, "one-42-partner-a");
  assert.deepEqual(vm.user, {
    REMOTE_OPENNEBULA: "YES",
    REMOTE_OPENNEBULA_VM_ID: "42",
    ONE_HYBRID_HOST: "partner-a",
    ONE_HYBRID_DRIVER: "one-hybrid",
  });
  // The partner template's context is kept; the local VM's goes over it, without its disk and NICs.
  assert.deepEqual(vm.context, {
    NETWORK: "YES",
    SSH_PUBLIC_KEY: "$USER[SSH_PUBLIC_KEY]",
    SET_HOSTNAME: "web-42",
    MOTD: "hi & <bye>",
  });

  // oned retries the same deploy: the VM of the first attempt, no second instantiate.
  ok(await deploy(42, "partner-a", xml), `${id}\n`);
  assert.equal(partner.count("one.template.instantiate"), before + 1);

  const poll = await act("poll", id, 42, "partner-a");
  assert.equal(poll.code, 0);
  assert.equal(poll.stderr, "");
  assert.deepEqual(monitoringPairs(poll.stdout.trim()), {
    STATE: "a",
    MEMORY: "524288",
    ONE_VM_ID: String(vm.id),
    ONE_STATE: "RUNNING",
    ONE_NAME: "one-42-partner-a",
    ONE_IP: `192.168.150.${vm.id % 250}`,
    ONE_TEMPLATE_ID: "7",
  });

  ok(await act("reboot", id, 42, "partner-a"));
  ok(await act("reset", id, 42, "partner-a"));
  // Power-off: shutdown with SHUTDOWN_POWEROFF (18); resume: deploy with BOOT_POWEROFF (20).
  ok(await act("shutdown", id, 42, "partner-a", 18));
  assert.deepEqual(partner.stateOf(vm.id), [8, 0]);
  const resumeXml = deployment(42, { TEMPLATE_ID: "7" }, `<DEPLOY_ID>${id}</DEPLOY_ID>`)
    .replace("<LCM_STATE>2</LCM_STATE>", "<LCM_STATE>20</LCM_STATE>");
  ok(await deploy(42, "partner-a", resumeXml, 1), `${id}\n`);
  assert.deepEqual(partner.stateOf(vm.id), [3, 3]);
  // Undeploy --hard: cancel with SHUTDOWN_UNDEPLOY (29); resume from undeployed.
  ok(await act("cancel", id, 42, "partner-a", 29));
  assert.deepEqual(partner.stateOf(vm.id), [9, 0]);
  ok(
    await deploy(42, "partner-a", resumeXml.replace("<LCM_STATE>20<", "<LCM_STATE>32<"), 2),
    `${id}\n`,
  );
  // Suspend and resume: save and restore.
  const checkpoint = `${tmp}/checkpoint.42`;
  ok(await act("save", id, 42, "partner-a", 5, [checkpoint]));
  assert.deepEqual(partner.stateOf(vm.id), [5, 0]);
  ok(await act("restore", id, 42, "partner-a", 9, [checkpoint]));
  assert.deepEqual(partner.stateOf(vm.id), [3, 3]);
  // Terminate: shutdown with SHUTDOWN (12).
  ok(await act("shutdown", id, 42, "partner-a", 12));
  assert.deepEqual(partner.stateOf(vm.id), [6, 0]);
  assert.deepEqual(vm.actions, [
    "reboot",
    "reboot-hard",
    "poweroff",
    "resume",
    "undeploy-hard",
    "resume",
    "suspend",
    "resume",
    "terminate-hard",
  ]);
  // A poll of the terminated VM reports it gone.
  assert.equal(
    (await act("poll", id, 42, "partner-a")).stdout,
    "STATE=d ONE_VM_ID=" + vm.id + " ONE_STATE=DONE ONE_NAME=one-42-partner-a ONE_IP=192.168.150." +
      (vm.id % 250) + " ONE_TEMPLATE_ID=7\n",
  );
});

test("a section without TEMPLATE_ID, or with an unknown key, is refused before any call to the partner", async () => {
  const calls = partner.calls.length;
  const missing = await deploy(50, "partner-a", deployment(50, { HOST: "partner-a" }));
  assert.equal(
    failureLine(missing),
    "The PUBLIC_CLOUD section of TYPE opennebula has no TEMPLATE_ID (the partner template to instantiate)",
  );
  const typo = await deploy(50, "partner-a", deployment(50, { TEMPLATEID: "7" }));
  assert.equal(
    failureLine(typo),
    "Invalid PUBLIC_CLOUD section: TEMPLATEID: unknown PUBLIC_CLOUD attribute of a partner OpenNebula cloud; did you mean TEMPLATE_ID?",
  );
  assert.equal(partner.calls.length, calls, "no call to the partner");
});

test("wrong credentials fail with the partner's answer and never print the password, not even when the answer quotes it", async () => {
  const result = await deploy(51, "partner-wrong", deployment(51, { TEMPLATE_ID: "7" }));
  const line =
    `Cannot list the partner VMs of host partner-wrong: the partner cloud at ${partner.url} answered one.vmpool.infoextended with error 256: [one.vmpool.infoextended] User couldn't be authenticated, aborting call. (check the partner user and its password for this host)`;
  assert.deepEqual(result, { code: 1, stdout: `${line}\n`, stderr: fenced(line) });
  // The partner's refusal quotes the session it was sent: the password goes out as ***.
  partner.fail("one.vmpool.infoextended", "echo-session");
  const echoed = await deploy(51, "partner-wrong", deployment(51, { TEMPLATE_ID: "7" }));
  const redacted =
    `Cannot list the partner VMs of host partner-wrong: the partner cloud at ${partner.url} answered one.vmpool.infoextended with error 256: [one.vmpool.infoextended] User couldn't be authenticated with session partner:***, aborting call. (check the partner user and its password for this host)`;
  assert.deepEqual(echoed, { code: 1, stdout: `${redacted}\n`, stderr: fenced(redacted) });
  assert.ok(!JSON.stringify([result, echoed]).includes("not-the-password"));
});

test("an unreachable partner is asked until the deadline is near, then fails the deploy in one line naming it and the attempts", async () => {
  const result = await deploy(52, "partner-down", deployment(52, { TEMPLATE_ID: "7" }));
  assert.match(
    failureLine(result),
    new RegExp(
      `^Cannot list the partner VMs of host partner-down: the partner cloud at ${
        deadUrl.replaceAll(".", "\\.")
      } cannot be reached: Connection refused \\(os error 111\\) \\(\\d+ attempts in \\d+\\.\\d s\\)$`,
    ),
  );
});

test("an unknown template and the partner's VM quota fail the deploy with the partner's words, and nothing is left behind", async () => {
  const missing = await deploy(53, "partner-a", deployment(53, { TEMPLATE_ID: "99" }));
  assert.equal(
    failureLine(missing),
    `Cannot deploy VM 53: partner template 99: the partner cloud at ${partner.url} answered one.template.info with error 1024: [one.template.info] Error getting template [99].`,
  );
  const live = [...partner.vms.values()].filter((vm) => partner.stateOf(vm.id)[0] !== 6).length;
  partner.vmQuota = live;
  try {
    const refused = await deploy(54, "partner-file", deployment(54, { TEMPLATE_ID: "7" }));
    assert.equal(
      failureLine(refused),
      `Cannot deploy VM 54 from partner template 7: the partner cloud at ${partner.url} answered one.template.instantiate with error 512: [one.template.instantiate] User [2] : user [2] limit of ${live} reached for VMS quota in VM.`,
    );
  } finally {
    partner.vmQuota = undefined;
  }
});

test("a VM that fails to boot on the partner is terminated before the deploy fails", async () => {
  partner.failNextBoot = true;
  const result = await deploy(55, "partner-file", deployment(55, { TEMPLATE_ID: "7" }));
  const vm = [...partner.vms.values()].find((v) => v.name === "one-55-partner-file")!;
  assert.equal(
    failureLine(result),
    `opennebula-hybrid-${vm.id} is BOOT_FAILURE on the partner cloud while waiting for it to be running; partner VM opennebula-hybrid-${vm.id} was terminated`,
  );
  assert.deepEqual(vm.actions, ["terminate-hard"]);
});

test("actions the partner cloud driver does not do fail with its own reasons", async () => {
  const calls = partner.calls.length;
  const result = await runAction("attach_disk", [
    "opennebula-hybrid-1",
    "x",
    "y",
    "0",
    "-",
    "60",
    "partner-a",
  ], { env: ENV });
  assert.equal(
    failureLine(result),
    "Action attach_disk is not supported by the partner OpenNebula cloud driver: the partner VM's disks are the partner template's, not this OpenNebula's images",
  );
  assert.equal(partner.calls.length, calls);
});

test("the host probes list the host's partner VMs and the partner user's wild VMs", async () => {
  const own = await deploy(60, "partner-a", deployment(60, { TEMPLATE_ID: "7" }));
  const ownId = own.stdout.trim();
  // A VM the partner user made by hand: wild.
  partner.vms.set(900, handMadeVm(900, { name: "by-hand" }));
  const dir = `${DIST}/im/provider-probes.d`;
  const args = ["provider", "/var/lib/one//datastores", "4124", "20", "3", "partner-a"];
  const system = await runProcess(`./probe_host_system`, args, {
    cwd: `${dir}/host/system`,
    env: ENV,
  });
  assert.equal(system.code, 0, system.stderr);
  const lines = system.stdout.trim().split("\n");
  assert.deepEqual(lines.slice(0, 5), [
    "HYPERVISOR=opennebula",
    "PUBLIC_CLOUD=YES",
    "PRIORITY=-1",
    "TOTALCPU=1600",
    "TOTALMEMORY=33554432",
  ]);
  const wildLines = lines.filter((l) => l.startsWith("VM = ["));
  assert.equal(wildLines.length, 1, system.stdout);
  assert.match(wildLines[0]!, /UUID="opennebula-hybrid-900"/);
  const monitor = await runProcess(`./probe_vm_monitor`, args, {
    cwd: `${dir}/vm/monitor`,
    env: ENV,
  });
  assert.equal(monitor.code, 0, monitor.stderr);
  assert.match(monitor.stdout, new RegExp(`UUID="${ownId}", ID="60"`));
  assert.doesNotMatch(monitor.stdout, /opennebula-hybrid-900/);
  const hostMonitor = await runProcess(`./probe_host_monitor`, args, {
    cwd: `${dir}/host/monitor`,
    env: ENV,
  });
  assert.equal(
    hostMonitor.stdout,
    "HYPERVISOR=opennebula\nPUBLIC_CLOUD=YES\nUSEDCPU=100\nUSEDMEMORY=524288\nFREECPU=1500\nFREEMEMORY=33030144\n",
  );
  ok(await act("cancel", ownId, 60, "partner-a", 12));
  partner.vms.get(900)!.state = 6;
});

test("migrate between two hosts of the same partner cloud and user moves the VM's host mark and succeeds: the new host's probes report it, the old one's no longer do; to another partner cloud it is refused, saying what to do", async () => {
  const xml = deployment(61, { TEMPLATE_ID: "7" });
  const deployed = await deploy(61, "partner-a", xml);
  assert.equal(deployed.code, 0, deployed.stderr);
  const id = deployed.stdout.trim();
  const vmMonitor = async (host: string) => {
    const result = await runProcess(
      "./probe_vm_monitor",
      ["provider", "/var/lib/one//datastores", "4124", "20", "3", host],
      { cwd: `${DIST}/im/provider-probes.d/vm/monitor`, env: ENV },
    );
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.includes(`UUID="${id}", ID="61"`);
  };
  assert.deepEqual([await vmMonitor("partner-a"), await vmMonitor("partner-b")], [true, false]);
  const before = partner.calls.length;
  const migrate = (to: string) =>
    runAction("migrate", [id, to, "partner-a", "61", "partner-a"], {
      stdin: oneBase64(actionData(61, "partner-a", id, { lcmState: 4 })),
      env: ENV,
    });
  ok(await migrate("partner-b"));
  const partnerId = Number(id.replace("opennebula-hybrid-", ""));
  assert.deepEqual(partner.calls.slice(before).filter((c) => c.method !== "one.vm.info"), [
    {
      method: "one.vm.update",
      params: [
        partner.session,
        partnerId,
        "<TEMPLATE><ONE_HYBRID_HOST>partner-b</ONE_HYBRID_HOST></TEMPLATE>",
        1,
      ],
    },
    { method: "one.vm.rename", params: [partner.session, partnerId, "one-61-partner-b"] },
  ]);
  const vm = partner.vms.get(partnerId)!;
  assert.deepEqual(vm.user, {
    REMOTE_OPENNEBULA: "YES",
    REMOTE_OPENNEBULA_VM_ID: "61",
    ONE_HYBRID_HOST: "partner-b",
    ONE_HYBRID_DRIVER: "one-hybrid",
  });
  assert.equal(vm.name, "one-61-partner-b");
  assert.deepEqual([await vmMonitor("partner-a"), await vmMonitor("partner-b")], [false, true]);
  const refused = await migrate("partner-down");
  assert.equal(
    failureLine(refused),
    `Cannot migrate ${id} from host partner-a (partner cloud at ${partner.url}) to host partner-down (partner cloud at ${deadUrl}): a partner VM cannot move to another partner cloud or user; undeploy the VM and deploy it there instead`,
  );
  assert.equal(refused.code, 1);
  ok(await act("cancel", id, 61, "partner-b", 12));
});
