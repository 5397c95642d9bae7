/**
 * The host probes of a partner OpenNebula cloud host as OpenNebula runs them, exact outputs:
 * 4.4–5.10's `one_im_sh` running `im/provider.d/poll`, 5.12+'s monitord-client running
 * `vm/status`, the orphans, and a wild partner VM imported with `onehost importvm` (after which
 * the local oned, played by `oned_xmlrpc.ts`, has a VM with its deploy id on the host). One
 * partner user holds two hosts, a VM deployed to each, an orphan (marked for a VM oned does not
 * have) and a VM made by hand on the partner. Last, pools larger than one answer can hold (a
 * partner user's, the local oned's), read page by page, and an oned that cannot be listed.
 */

import assert from "node:assert/strict";
import { actionData, writeDeployment } from "./deployments.ts";
import {
  type ActionResult,
  oneBase64,
  runAction,
  runProcess,
  sharedTest as test,
} from "./harness.ts";
import { type FakeOned, startFakeOned } from "./oned_xmlrpc.ts";
import { handMadeVm, type PartnerOned, startPartnerOned } from "./partner_oned.ts";

const DIST = new URL("../dist", import.meta.url).pathname;
const IM_ARGS = ["provider", "/var/lib/one//datastores", "4124", "20"];
const PASSWORD = "Probe-s3cret";
const tmp = await Deno.makeTempDir({ prefix: "hybrid-partner-probes-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const partner: PartnerOned = await startPartnerOned({ password: PASSWORD, stepMs: 20 });
partner.templates.set(7, { name: "small", context: {} });
const oned: FakeOned = await startFakeOned({ user: "oneadmin", password: "local-pass" });
const AUTH = `${tmp}/one_auth`;
await Deno.writeTextFile(AUTH, "oneadmin:local-pass\n");

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
      capacity: { vcpus: 16, memoryGiB: 32 },
    },
    hosts: { "partner-a": {}, "partner-b": {} },
  }),
  { mode: 0o600 },
);
await Deno.chmod(config, 0o600);
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config, ONE_XMLRPC: oned.url, ONE_AUTH: AUTH };
/** Host ids of their own, so that vm/status's state files in dist/im/ are this file's. */
const HOST_IDS: Record<string, number> = { "partner-a": 40, "partner-b": 41 };
for (const [name, id] of Object.entries(HOST_IDS)) oned.setHost(id, name);

/** Deploys a VM through the built deploy action, as 5.x does; oned knows it unless told not. */
async function deploy(vmId: number, host: string, known = true): Promise<string> {
  const xml = `<VM><ID>${vmId}</ID><NAME>web-${vmId}</NAME><STATE>3</STATE>` +
    `<LCM_STATE>2</LCM_STATE><TEMPLATE><CPU>1</CPU><MEMORY>512</MEMORY></TEMPLATE>` +
    "<USER_TEMPLATE><PUBLIC_CLOUD><TYPE>opennebula</TYPE><TEMPLATE_ID>7</TEMPLATE_ID>" +
    "</PUBLIC_CLOUD></USER_TEMPLATE></VM>";
  const file = await writeDeployment(tmp, vmId, xml, 0);
  const result = await runAction("deploy", [file, host, String(vmId), host], {
    stdin: oneBase64(xml),
    env: ENV,
  });
  assert.equal(result.code, 0, result.stdout);
  const id = result.stdout.trim();
  if (known) oned.setVm(vmId, { state: 3, lcmState: 3, deployId: id, host });
  return id;
}

/** Runs a VM action as 5.x does, with the action data and the VM's LCM state on stdin. */
function act(action: string, id: string, vmId: number, host: string, lcm = 3) {
  return runAction(action, [id, host, String(vmId), host], {
    stdin: oneBase64(actionData(vmId, host, id, { lcmState: lcm })),
    env: ENV,
  });
}

/** Plays 4.4–5.10's `one_im_sh`: `run_probes` runs `im/provider.d/poll` with the host. */
function oneImSh(host: string): Promise<ActionResult> {
  return runProcess("./poll", [...IM_ARGS, String(HOST_IDS[host]), host], {
    cwd: `${DIST}/im/provider.d`,
    env: ENV,
  });
}

/** Plays 5.12+'s monitord-client running one probe of a directory for a host. */
function monitord(host: string, path: string): Promise<ActionResult> {
  const dir = `${DIST}/im/provider-probes.d/${path}`;
  const [probe] = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    n.startsWith("probe")
  );
  const stdin = `<MONITOR_CONFIGURATION><HOST_ID>${
    HOST_IDS[host]
  }</HOST_ID></MONITOR_CONFIGURATION>`;
  return runProcess(`./${probe}`, [...IM_ARGS, String(HOST_IDS[host]), host], {
    cwd: dir,
    env: ENV,
    stdin,
  });
}

/** What the VMM poll action prints for a partner VM (no stdin: the 4.x form). */
async function vmmPoll(id: string, host: string): Promise<string> {
  const result = await runAction("poll", [id, host, "99", host], { env: ENV });
  assert.deepEqual({ code: result.code, stderr: result.stderr }, { code: 0, stderr: "" });
  return result.stdout.trim();
}

function decode(text: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)));
}

/** Replaces each base64 IMPORT_TEMPLATE and MONITOR by its decoded text, for exact comparison. */
function decoded(stdout: string): string {
  return stdout.replace(
    /(IMPORT_TEMPLATE|MONITOR)="([A-Za-z0-9+/=]+)"/g,
    (_, key, b) => `${key}=<<${decode(b)}>>`,
  );
}

/** The import template of a partner VM of template 7 (1 VCPU, 512 MB) seen by a host. */
function importOf(id: string, name: string, host: string, idKey: string): string {
  return [
    `NAME = "Instance from ${name} (${id})"`,
    'CPU = "1"',
    'VCPU = "1"',
    'MEMORY = "512"',
    'HYPERVISOR = "opennebula"',
    "PUBLIC_CLOUD = [",
    '  TYPE = "opennebula",',
    '  TEMPLATE_ID = "7" ]',
    `${idKey} = "${id}"`,
    `SCHED_REQUIREMENTS = "NAME=\\"${host}\\""`,
    `DESCRIPTION = "Instance imported from opennebula: ${id}"`,
    "",
  ].join("\n");
}

/** A 4.4–5.10 `VM=[...]` entry, its import template decoded. */
function legacyVm(vmId: number, id: string, template: string, poll: string): string[] {
  return [
    "VM=[",
    `  ID=${vmId},`,
    `  DEPLOY_ID=${id},`,
    `  VM_NAME=${id},`,
    `  IMPORT_TEMPLATE=<<${template}>>,`,
    `  POLL="${poll}" ]`,
  ];
}

const vmA = await deploy(10, "partner-a");
const vmB = await deploy(11, "partner-b");
const orphan = await deploy(12, "partner-a", false);
partner.vms.set(900, handMadeVm(900, { name: "by-hand" }));
const wild = "opennebula-hybrid-900";

/** The host lines of partner-a's 4.x report with n VMs of 1 VCPU and 512 MB on it. */
function hostLinesA(n: number): string[] {
  return [
    "HYPERVISOR=opennebula",
    "PUBLIC_CLOUD=YES",
    "PRIORITY=-1",
    "TOTALMEMORY=33554432",
    "TOTALCPU=1600",
    "CPUSPEED=1000",
    'HOSTNAME="partner-a"',
    `USEDMEMORY=${n * 524288}`,
    `USEDCPU=${n * 100}`,
    `FREEMEMORY=${33554432 - n * 524288}`,
    `FREECPU=${1600 - n * 100}`,
  ];
}

test("one_im_sh (4.4-5.10): a partner host's poll reports its capacity and use, the orphan, its VM with the VMM poll's string, and the partner user's wild VM to import", async () => {
  const result = await oneImSh("partner-a");
  assert.equal(result.stderr, "");
  assert.equal(result.code, 0);
  assert.equal(
    decoded(result.stdout),
    [
      // VM 10 and the orphan hold the host's capacity.
      ...hostLinesA(2),
      `ORPHANED_INSTANCES="${orphan}"`,
      "VM_POLL=YES",
      ...legacyVm(
        10,
        vmA,
        importOf(vmA, "one-10-partner-a", "partner-a", "IMPORT_VM_ID"),
        await vmmPoll(vmA, "partner-a"),
      ),
      ...legacyVm(
        -1,
        wild,
        importOf(wild, "by-hand", "partner-a", "IMPORT_VM_ID"),
        await vmmPoll(wild, "partner-a"),
      ),
      "",
    ].join("\n"),
  );
  const b = await oneImSh("partner-b");
  assert.equal(b.code, 0, b.stderr);
  const vms = [...b.stdout.matchAll(/^ {2}ID=(-?\d+),\n {2}DEPLOY_ID=(\S+),$/gm)];
  assert.deepEqual(vms.map((m) => `${m[1]} ${m[2]}`), [`11 ${vmB}`, `-1 ${wild}`]);
  assert.doesNotMatch(b.stdout, /ORPHANED_INSTANCES/);
});

test("the orphans tool and host/system name the partner VM marked for a VM oned no longer has, and leave it running", async () => {
  const a = await runProcess("./orphans", ["partner-a"], {
    cwd: `${DIST}/vmm/provider`,
    env: ENV,
  });
  assert.deepEqual(a, { code: 0, stdout: `${orphan} VM 12 RUNNING\n`, stderr: "" });
  const b = await runProcess("./orphans", ["partner-b"], {
    cwd: `${DIST}/vmm/provider`,
    env: ENV,
  });
  assert.deepEqual(b, { code: 0, stdout: "", stderr: "" });
  const system = await monitord("partner-a", "host/system");
  assert.equal(system.stderr, "");
  assert.equal(
    decoded(system.stdout),
    [
      "HYPERVISOR=opennebula",
      "PUBLIC_CLOUD=YES",
      "PRIORITY=-1",
      "TOTALCPU=1600",
      "TOTALMEMORY=33554432",
      `ORPHANED_INSTANCES="${orphan}"`,
      `VM = [ UUID="${wild}", ID="-1", DEPLOY_ID="${wild}", TYPE="1vcpu.512mib", ` +
      `STATE="RUNNING", IMPORT_TEMPLATE=<<${
        importOf(wild, "by-hand", "partner-a", "DEPLOY_ID")
      }>>, VM_NAME="by-hand" ]`,
      "",
    ].join("\n"),
  );
  assert.deepEqual(partner.stateOf(partnerIdOf(orphan)), [3, 3]);
});

function partnerIdOf(id: string): number {
  return Number(id.replace("opennebula-hybrid-", ""));
}

test("monitord-client (5.12+): a partner host's vm/status sends its VMs first, then only changes; a VM whose partner VM ended is never reported with its old deploy id, and the next full list leaves it out", async () => {
  // Until the status probe's memory was keyed by VM id, a deploy id missing for three runs was
  // reported STATE=UNKNOWN with that deploy id, which oned takes as the VM's DEPLOY_ID.
  const file = `${DIST}/im/status_opennebula_${HOST_IDS["partner-b"]}.json`;
  await Deno.remove(file).catch(() => {});
  try {
    const status = async () => {
      const result = await monitord("partner-b", "vm/status");
      assert.equal(result.stderr, "");
      assert.equal(result.code, 0, result.stdout);
      return result.stdout;
    };
    const line = (state: string) => `VM = [ ID="11", DEPLOY_ID="${vmB}",  STATE="${state}" ]\n`;
    assert.equal(await status(), `SYNC_STATE=yes\nMISSING_STATE=UNKNOWN\n${line("RUNNING")}`);
    assert.equal(await status(), "");
    const vm = partner.vms.get(partnerIdOf(vmB))!;
    [vm.state, vm.lcm] = [8, 0]; // powered off on the partner's side
    assert.equal(await status(), line("POWEROFF"));
    assert.equal(await status(), "");
    [vm.state, vm.lcm] = [6, 0]; // DONE: gone from the partner's pool
    for (let run = 1; run <= 5; run++) assert.equal(await status(), "", `missing run ${run}`);
    // The next full list leaves VM 11 out (oned then takes it as missing: true): its partner
    // VM, described, is DONE.
    const memory = JSON.parse(await Deno.readTextFile(file));
    await Deno.writeTextFile(file, JSON.stringify({ ...memory, syncedAt: 1 }));
    assert.equal(await status(), "SYNC_STATE=yes\nMISSING_STATE=UNKNOWN\n");
  } finally {
    await Deno.remove(file).catch(() => {});
  }
});

test("a wild partner VM imported by onehost importvm is the host's VM from then on: reported with its VM id by every probe, offered by none, and poll and shutdown act on it", async () => {
  // What `onehost importvm` leaves: a VM of oned's with the partner VM's deploy id, on partner-a.
  oned.setVm(77, { state: 3, lcmState: 3, deployId: wild, host: "partner-a" });
  try {
    const legacy = await oneImSh("partner-a");
    assert.equal(legacy.stderr, "");
    assert.equal(
      decoded(legacy.stdout),
      [
        ...hostLinesA(3),
        `ORPHANED_INSTANCES="${orphan}"`,
        "VM_POLL=YES",
        // In the partner's order: 5.8+ lists the newest VM first (API_LIST_ORDER DESC).
        ...legacyVm(
          77,
          wild,
          importOf(wild, "by-hand", "partner-a", "IMPORT_VM_ID"),
          await vmmPoll(wild, "partner-a"),
        ),
        ...legacyVm(
          10,
          vmA,
          importOf(vmA, "one-10-partner-a", "partner-a", "IMPORT_VM_ID"),
          await vmmPoll(vmA, "partner-a"),
        ),
        "",
      ].join("\n"),
    );
    const system = await monitord("partner-a", "host/system");
    assert.equal(system.code, 0, system.stderr);
    assert.doesNotMatch(system.stdout, /^VM = /m, "nothing to import any more");
    const monitor = await monitord("partner-a", "vm/monitor");
    assert.equal(monitor.code, 0, monitor.stderr);
    const listed = [...monitor.stdout.matchAll(/UUID="([^"]+)", ID="(\d+)", NAME="([^"]+)"/g)];
    // The orphan (VM 12, which oned does not have) is no VM line: vm/monitor asks oned for the
    // host's VMs, and for a VM id that is not among them.
    assert.deepEqual(listed.map((m) => m.slice(1).join(" ")), [
      `${wild} 77 by-hand`,
      `${vmA} 10 one-10-partner-a`,
    ]);
    assert.match(
      decoded(monitor.stdout),
      new RegExp(
        `ID="77", NAME="by-hand", DEPLOY_ID="${wild}", TYPE="1vcpu.512mib", ` +
          `STATE="RUNNING", MONITOR=<<MEMORY=524288 ONE_VM_ID=900 ONE_STATE=RUNNING `,
      ),
    );
    const hostMonitor = await monitord("partner-a", "host/monitor");
    assert.match(hostMonitor.stdout, /^USEDCPU=300\nUSEDMEMORY=1572864\n/m);
    // The other host of the partner user neither offers it nor reports it.
    for (const path of ["host/system", "vm/monitor"]) {
      const b = await monitord("partner-b", path);
      assert.equal(b.code, 0, b.stderr);
      assert.doesNotMatch(b.stdout, new RegExp(wild));
    }
    const poll = await act("poll", wild, 77, "partner-a");
    assert.deepEqual(poll, {
      code: 0,
      stdout: "STATE=a MEMORY=524288 ONE_VM_ID=900 ONE_STATE=RUNNING ONE_NAME=by-hand " +
        "ONE_IP=192.168.150.150 ONE_TEMPLATE_ID=7\n",
      stderr: "",
    });
    assert.deepEqual(await act("shutdown", wild, 77, "partner-a", 12), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assert.deepEqual(partner.stateOf(900), [6, 0]);
    assert.deepEqual(partner.vms.get(900)!.actions, ["terminate-hard"]);
  } finally {
    oned.setVm(77, { state: 6, lcmState: 0, deployId: wild, host: "partner-a" });
  }
});

/** A partner VM made by hand on the partner, with a context as most VMs have. */
function byHand(id: number) {
  partner.vms.set(
    id,
    handMadeVm(id, { context: { SSH_PUBLIC_KEY: "ssh-ed25519 AAAAC3Nza me@example" } }),
  );
}

test("a partner user with more VMs than one answer holds (1,200 full documents, over 4 MiB): deploy finds its VM among them and the probes list them all, a page at a time", async () => {
  for (let id = 1000; id < 2200; id++) byHand(id);
  try {
    const before = partner.calls.length;
    const id = await deploy(13, "partner-b");
    // Deploy looked for an earlier attempt's VM among them all: pages of rows, none the pool.
    const pages = partner.calls.slice(before).filter((c) => c.method === "one.vmpool.infoextended")
      .map((c) => c.params.slice(2, 4) as number[]);
    assert.ok(pages.length >= 4, `${pages.length} pages`);
    assert.ok(pages.every(([start, end]) => start! >= 0 && end! < -1), JSON.stringify(pages));
    const monitor = await monitord("partner-b", "vm/monitor");
    assert.equal(monitor.stderr, "");
    assert.match(monitor.stdout, new RegExp(`UUID="${id}", ID="13"`));
    const system = await monitord("partner-b", "host/system");
    assert.equal(system.stderr, "");
    // Every VM made by hand is offered for import, once.
    const offered = [...system.stdout.matchAll(/DEPLOY_ID="opennebula-hybrid-(\d+)"/g)]
      .map((m) => Number(m[1])).filter((vm) => vm >= 1000 && vm < 2200);
    assert.equal(offered.length, 1200);
    assert.equal(new Set(offered).size, 1200);
    assert.equal((await act("cancel", id, 13, "partner-b", 12)).code, 0);
  } finally {
    for (let id = 1000; id < 2200; id++) partner.vms.delete(id);
  }
});

test("a local oned with more VMs than one answer holds (4,000): host/system still names the orphan and takes the VM oned imported as the host's, not one to offer", async () => {
  for (let vmId = 10_000; vmId < 14_000; vmId++) {
    oned.setVm(vmId, { state: 3, lcmState: 3, deployId: `vm-${vmId}`, host: "kvm-1" });
  }
  // A partner VM made by hand, imported into oned as VM 91 (`onehost importvm`).
  byHand(3001);
  oned.setVm(91, { state: 3, lcmState: 3, deployId: "opennebula-hybrid-3001", host: "partner-a" });
  const before = oned.calls.length;
  try {
    const system = await monitord("partner-a", "host/system");
    assert.equal(system.stderr, "");
    assert.equal(system.code, 0);
    assert.match(system.stdout, new RegExp(`^ORPHANED_INSTANCES="${orphan}"$`, "m"));
    assert.doesNotMatch(system.stdout, /opennebula-hybrid-3001/, "imported: nothing to offer");
    // oned was read a page at a time.
    const pages = oned.calls.slice(before).filter((c) => c.method === "one.vmpool.info");
    assert.ok(pages.length >= 3, `${pages.length} pages`);
    assert.ok(pages.every((c) => (c.params[3] as number) < -1), JSON.stringify(pages));
  } finally {
    for (let vmId = 10_000; vmId < 14_000; vmId++) oned.vms.delete(vmId);
    oned.setVm(91, { state: 6, lcmState: 0, deployId: "opennebula-hybrid-3001" });
    partner.vms.get(3001)!.state = 6;
  }
});

test("when oned cannot list its VMs, host/system says that orphans and imported VMs are not told apart this run", async () => {
  oned.misbehave("http-500");
  try {
    const system = await monitord("partner-a", "host/system");
    assert.equal(system.code, 0);
    assert.doesNotMatch(system.stdout, /ORPHANED_INSTANCES/);
    assert.equal(
      system.stderr,
      `WARNING: oned's VMs cannot be listed (oned at ${oned.url} answered one.vmpool.info with HTTP 500 Internal Server Error): instances whose VM oned no longer has, and instances OpenNebula imported, are not told apart this run\n`,
    );
  } finally {
    oned.misbehave(undefined);
  }
});
