/**
 * The host probes as OpenNebula runs them: `one_im_sh` (4.4–5.10) running `im/<name>.d/poll`
 * and 5.12+'s monitord-client running every probe of `im/<name>-probes.d/`, both played here
 * against the built `dist/` executables, the local EC2 endpoint and a stand-in oned. One
 * account holds two hosts in us-east-1 and one in us-west-2, instances the driver deployed, a
 * wild one launched by hand, and an orphan (tagged for a VM oned does not have).
 */

import assert from "node:assert/strict";
import { RunInstancesCommand } from "@aws-sdk/client-ec2";
import {
  AMAZON_LINUX_AMI,
  type Ec2Endpoint,
  startEc2Endpoint,
  TEST_CREDENTIALS,
} from "./ec2_endpoint/mod.ts";
import { clientFor } from "./ec2_endpoint/testing.ts";
import { actionData, vmDeployment, writeDeployment } from "./deployments.ts";
import {
  type ActionResult,
  deployedId,
  failureLine,
  FIXTURE_SECTION,
  instanceOf,
  launchByHand,
  oneBase64,
  runAction,
  runProcess,
  sharedTest as test,
  writeLocalConfig,
} from "./harness.ts";
import { type FakeOned, startFakeOned } from "./oned_xmlrpc.ts";

const DIST = new URL("../dist", import.meta.url).pathname;
/** The arguments oned's IM drivers pass before the host id and name. */
const IM_ARGS = ["provider", "/var/lib/one//datastores", "4124", "20"];

const tmp = await Deno.makeTempDir({ prefix: "hybrid-im-" });
const ep: Ec2Endpoint = await startEc2Endpoint({ timing: { pendingMs: 0 } });
const oned: FakeOned = await startFakeOned({ user: "oneadmin", password: "probe-pass" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const AUTH = `${tmp}/one_auth`;
await Deno.writeTextFile(AUTH, "oneadmin:probe-pass\n");
const config = await writeLocalConfig(`${tmp}/hybrid_driver.json`, ep.url, TEST_CREDENTIALS, {
  defaults: { statePollSeconds: 0.05 },
  hosts: {
    "aws-a": { capacity: { "t3.micro": 4 } },
    "aws-b": { capacity: { "t3.micro": 2, "t3.small": 1 } },
    "aws-west": { region: "us-west-2", capacity: { "t3.micro": 1 } },
    "aws-many": { region: "eu-west-1", capacity: { "t3.micro": 2000 } },
    "aws-none": {},
    "aws-tmpl": { region: "ap-south-1" },
    "aws-import": { region: "sa-east-1", capacity: { "t3.small": 2 } },
    "aws-import-b": { region: "sa-east-1", capacity: { "t3.small": 2 } },
    "aws-life": { capacity: { "t3.micro": 20 } },
  },
});
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config, ONE_XMLRPC: oned.url, ONE_AUTH: AUTH };
const HOST_IDS: Record<string, number> = {
  "aws-a": 0,
  "aws-b": 1,
  "aws-west": 2,
  "aws-many": 3,
  "aws-none": 4,
  "aws-tmpl": 5,
  "aws-import": 6,
  "aws-import-b": 7,
  "aws-life": 8,
};
for (const [name, id] of Object.entries(HOST_IDS)) oned.setHost(id, name);

/** Deploys a VM through the built deploy action, as 5.x does, and tells oned about it. */
async function deploy(vmId: number, host: string, known = true): Promise<string> {
  const xml = vmDeployment(vmId, FIXTURE_SECTION);
  const file = `${tmp}/deployment.${vmId}`;
  await Deno.writeTextFile(file, xml);
  const id = deployedId(
    await runAction("deploy", [file, host, String(vmId), host], {
      stdin: oneBase64(xml),
      env: ENV,
    }),
  );
  if (known) oned.setVm(vmId, { state: 3, lcmState: 3, deployId: id, host });
  return id;
}

/** Runs an executable from a directory, as OpenNebula's probe runners do (`cd dir; ./probe`). */
function runIn(dir: string, file: string, args: string[], stdin = ""): Promise<ActionResult> {
  return runProcess(`./${file}`, args, { cwd: dir, env: ENV, stdin });
}

/** The executables of a directory that run_probes / monitord-client would run, in `ls` order. */
function probesOf(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort().filter((name) => {
    try {
      const stat = Deno.statSync(`${dir}/${name}`); // follows links; a dangling one is skipped
      return stat.isFile && (stat.mode! & 0o111) !== 0;
    } catch {
      return false;
    }
  });
}

/**
 * Plays 4.4–5.10's `one_im_sh` monitoring a host: `run_probes` runs every executable of
 * `im/provider.d/` with the driver's arguments plus host id and name.
 */
async function oneImSh(host: string): Promise<ActionResult> {
  const dir = `${DIST}/im/provider.d`;
  const probes = probesOf(dir);
  assert.deepEqual(probes, ["poll"], "4.x finds only poll to run (the 5.12 links dangle there)");
  return await runIn(dir, "poll", [...IM_ARGS, String(HOST_IDS[host]), host]);
}

/** Plays 5.12+'s monitord-client running one probe directory for a host. */
async function monitordProbes(host: string, path: string): Promise<ActionResult> {
  const dir = `${DIST}/im/provider-probes.d/${path}`;
  const results: ActionResult[] = [];
  for (const probe of probesOf(dir)) {
    // What monitord-client gives its probes: the monitoring configuration with the host id.
    const stdin =
      `<MONITOR_CONFIGURATION><PROBES_PERIOD><STATE_VM>5</STATE_VM></PROBES_PERIOD><HOST_ID>${
        HOST_IDS[host]
      }</HOST_ID></MONITOR_CONFIGURATION>`;
    results.push(await runIn(dir, probe, [...IM_ARGS, String(HOST_IDS[host]), host], stdin));
  }
  assert.equal(results.length, 1, `one probe in ${path}`);
  return results[0]!;
}

const vmA = await deploy(10, "aws-a");
const vmB = await deploy(11, "aws-b");
const orphan = await deploy(12, "aws-a", false);
const vmWest = await deploy(13, "aws-west");
const wildClient = clientFor(ep);
const wild = await launchByHand(wildClient, AMAZON_LINUX_AMI);

/** What the VMM poll action prints for an instance (no stdin: the 4.x form, legacy keys). */
async function vmmPoll(deployId: string, host: string): Promise<string> {
  const result = await runAction("poll", [deployId, host, "99", host], { env: ENV });
  assert.equal(result.code, 0, result.stdout);
  return result.stdout.trim();
}

function decode(text: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)));
}

/** The import template of a t3.small/t3.micro instance pinned to a host. */
function expectedImport(
  id: string,
  name: string,
  type: "t3.micro" | "t3.small",
  host: string,
  idKey: string,
): string {
  return [
    `NAME = "Instance from ${name} (${id})"`,
    'CPU = "2"',
    'VCPU = "2"',
    `MEMORY = "${type === "t3.micro" ? 1024 : 2048}"`,
    'HYPERVISOR = "ec2"',
    "PUBLIC_CLOUD = [",
    '  TYPE = "ec2",',
    `  AMI = "${AMAZON_LINUX_AMI}",`,
    `  INSTANCETYPE = "${type}" ]`,
    `${idKey} = "${id}"`,
    `SCHED_REQUIREMENTS = "NAME=\\"${host}\\""`,
    `DESCRIPTION = "Instance imported from ec2: ${id}"`,
    "",
  ].join("\n");
}

/** Replaces each IMPORT_TEMPLATE's base64 by its decoded text, for exact comparison. */
function decodeImports(stdout: string): string {
  return stdout.replace(
    /IMPORT_TEMPLATE="([A-Za-z0-9+/=]+)"/g,
    (_, b) => `IMPORT_TEMPLATE=<<${decode(b)}>>`,
  );
}

test("one_im_sh (4.4-5.10): poll reports the host's capacity, its VMs with the VMM poll's string, the wild instance to import and the orphan, and nothing of the other host", async () => {
  const result = await oneImSh("aws-a");
  assert.equal(result.stderr, "");
  assert.equal(result.code, 0);
  const vm = (id: number, deployId: string, template: string, poll: string) => [
    "VM=[",
    `  ID=${id},`,
    `  DEPLOY_ID=${deployId},`,
    `  VM_NAME=${deployId},`,
    `  IMPORT_TEMPLATE=<<${template}>>,`,
    `  POLL="${poll}" ]`,
  ];
  const expected = [
    "HYPERVISOR=ec2",
    "PUBLIC_CLOUD=YES",
    "PRIORITY=-1",
    `TOTALMEMORY=${4 * 1024 * 1024}`,
    "TOTALCPU=800",
    "CPUSPEED=1000",
    'HOSTNAME="aws-a"',
    // VM 10 and the orphan both run t3.micro on this host's account.
    `USEDMEMORY=${2 * 1024 * 1024}`,
    "USEDCPU=400",
    `FREEMEMORY=${2 * 1024 * 1024}`,
    "FREECPU=400",
    `ORPHANED_INSTANCES="${orphan}"`,
    "VM_POLL=YES",
    ...vm(
      10,
      vmA,
      expectedImport(vmA, "one-10-web-10", "t3.micro", "aws-a", "IMPORT_VM_ID"),
      await vmmPoll(vmA, "aws-a"),
    ),
    ...vm(
      -1,
      wild,
      expectedImport(wild, "by hand", "t3.small", "aws-a", "IMPORT_VM_ID"),
      await vmmPoll(wild, "aws-a"),
    ),
    "",
  ].join("\n");
  assert.equal(decodeImports(result.stdout), expected);
});

test("one_im_sh: the other host of the account reports its own VM and the same wild instance; a host in another region sees neither", async () => {
  const vmLines = (stdout: string) =>
    [...stdout.matchAll(/^ {2}ID=(-?\d+),\n {2}DEPLOY_ID=(i-\w+),$/gm)].map((m) =>
      `${m[1]} ${m[2]}`
    );
  const b = await oneImSh("aws-b");
  assert.equal(b.code, 0, b.stdout);
  assert.deepEqual(vmLines(b.stdout), [`11 ${vmB}`, `-1 ${wild}`]);
  assert.match(
    b.stdout,
    /^TOTALCPU=600\nCPUSPEED=1000\nHOSTNAME="aws-b"\nUSEDMEMORY=1048576\nUSEDCPU=200\n/m,
  );
  assert.doesNotMatch(b.stdout, /ORPHANED_INSTANCES/);
  const west = await oneImSh("aws-west");
  assert.equal(west.code, 0, west.stdout);
  assert.deepEqual(vmLines(west.stdout), [`13 ${vmWest}`]);
  assert.match(west.stdout, /^FREECPU=0$/m);
});

test("monitord-client (5.12+): host/system, host/monitor and vm/monitor print what 5.12/6.0's EC2 probes print, wild instances in host/system, the orphan in no VM line", async () => {
  const system = await monitordProbes("aws-a", "host/system");
  assert.equal(system.stderr, "");
  assert.equal(
    decodeImports(system.stdout),
    [
      "HYPERVISOR=ec2",
      "PUBLIC_CLOUD=YES",
      "PRIORITY=-1",
      "TOTALCPU=800",
      `TOTALMEMORY=${4 * 1024 * 1024}`,
      `ORPHANED_INSTANCES="${orphan}"`,
      `VM = [ UUID="${wild}", ID="-1", DEPLOY_ID="${wild}", TYPE="t3.small", STATE="RUNNING", ` +
      `IMPORT_TEMPLATE=<<${
        expectedImport(wild, "by hand", "t3.small", "aws-a", "DEPLOY_ID")
      }>>, VM_NAME="by hand" ]`,
      "",
    ].join("\n"),
  );
  const monitor = await monitordProbes("aws-a", "host/monitor");
  assert.deepEqual(monitor, {
    code: 0,
    stdout:
      "HYPERVISOR=ec2\nPUBLIC_CLOUD=YES\nUSEDCPU=400\nUSEDMEMORY=2097152\nFREECPU=400\nFREEMEMORY=2097152\n",
    stderr: "",
  });
  const vms = await monitordProbes("aws-a", "vm/monitor");
  assert.equal(vms.code, 0, vms.stdout);
  const current = async (id: string) =>
    (await vmmPoll(id, "aws-a")).replace(/^STATE=a /, "").replace(/^USEDMEMORY=/, "MEMORY=");
  const line = async (vmId: number, id: string) =>
    `VM = [ UUID="${id}", ID="${vmId}", NAME="one-${vmId}-web-${vmId}", DEPLOY_ID="${id}", TYPE="t3.micro", STATE="RUNNING", MONITOR=<<${await current(
      id,
    )}>> ]`;
  assert.equal(
    vms.stdout.replace(/MONITOR="([A-Za-z0-9+/=]+)"/g, (_, b) => `MONITOR=<<${decode(b)}>>`),
    // The orphan (VM 12, which oned does not have) is not reported as a VM: until vm/monitor
    // asked oned for the host's VMs it could not tell, and reported it as VM 12.
    `${await line(10, vmA)}\n`,
  );
});

test("the orphans tool lists the host's instances whose VM oned does not have, and changes nothing", async () => {
  const orphans = `${DIST}/vmm/provider/orphans`;
  const a = await runIn(`${DIST}/vmm/provider`, "orphans", ["aws-a"]);
  assert.deepEqual(a, { code: 0, stdout: `${orphan} VM 12 running\n`, stderr: "" });
  const b = await runIn(`${DIST}/vmm/provider`, "orphans", ["aws-b"]);
  assert.deepEqual(b, { code: 0, stdout: "", stderr: "" });
  assert.equal(ep.instances("us-east-1").find((i) => i.instanceId === orphan)?.state, "running");
  const child = await new Deno.Command(orphans, {
    args: ["aws-a"],
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      ...ENV,
      ONE_AUTH: `${tmp}/missing`,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  assert.equal(
    failureLine({
      code: child.code,
      stdout: text.decode(child.stdout),
      stderr: text.decode(child.stderr),
    }),
    `Cannot read the OpenNebula credentials file ${tmp}/missing (from ONE_AUTH): it does not exist`,
  );
});

test("without oned's credentials the probes report no orphan: the tagged instance is reported as its VM", async () => {
  const child = await new Deno.Command(`./poll`, {
    args: [...IM_ARGS, "0", "aws-a"],
    cwd: `${DIST}/im/provider.d`,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      ...ENV,
      ONE_AUTH: `${tmp}/missing`,
    },
    stdout: "piped",
  }).output();
  const stdout = new TextDecoder().decode(child.stdout);
  assert.equal(child.code, 0, stdout);
  assert.doesNotMatch(stdout, /ORPHANED_INSTANCES/);
  assert.match(stdout, new RegExp(`^  ID=12,\\n  DEPLOY_ID=${orphan},$`, "m"));
});

test("a host without capacity fails every host probe with one line saying how to set it", async () => {
  const message =
    `Host aws-none has no capacity: set "capacity" for it in ${config}, the instances allowed per instance type (e.g. "capacity": {"t3.micro": 10}), or CAPACITY in the host's template (e.g. CAPACITY=[T3_MICRO="10"]), so that OpenNebula can place VMs on it`;
  assert.equal(failureLine(await oneImSh("aws-none")), message);
  assert.equal(failureLine(await monitordProbes("aws-none", "host/system")), message);
  assert.equal(failureLine(await monitordProbes("aws-none", "host/monitor")), message);
  const bad = await runIn(`${DIST}/im/provider.d`, "poll", ["aws-a"]);
  assert.equal(
    failureLine(bad),
    'poll: expected the host id and host name as the last two arguments, got "aws-a"',
  );
});

test("one probe run of a host with 1,200 instances makes two DescribeInstances calls", async () => {
  const ec2 = clientFor(ep, { region: "eu-west-1" });
  for (let i = 0; i < 3; i++) {
    await ec2.send(
      new RunInstancesCommand({
        ImageId: AMAZON_LINUX_AMI,
        InstanceType: "t3.micro",
        MinCount: 400,
        MaxCount: 400,
      }),
    );
  }
  const describes = () =>
    ep.calls.filter((c) => c.action === "DescribeInstances" && c.region === "eu-west-1").length;
  for (const run of [() => oneImSh("aws-many"), () => monitordProbes("aws-many", "host/system")]) {
    const before = describes();
    const result = await run();
    assert.equal(result.code, 0, result.stdout);
    assert.equal(describes() - before, 2);
    assert.equal(result.stdout.match(/ID=("?)-1\1,/g)?.length, 1200);
  }
});

test("monitord-client (5.12+): vm/status sends the full list first, then only changes; a VM whose instance ended is never reported with its old deploy id, and the next full list leaves it out", async () => {
  // Until this change, a deploy id missing for three runs was reported STATE=UNKNOWN with that
  // deploy id: oned takes DEPLOY_ID from every line, so that re-pointed a VM at a dead
  // instance. oned finds missing VMs itself from the full list.
  const file = `${DIST}/im/status_ec2_${HOST_IDS["aws-b"]}.json`;
  await Deno.remove(file).catch(() => {});
  try {
    const status = async () => {
      const result = await monitordProbes("aws-b", "vm/status");
      assert.equal(result.code, 0, result.stdout);
      assert.equal(result.stderr, "");
      return result.stdout;
    };
    assert.equal(
      await status(),
      `SYNC_STATE=yes\nMISSING_STATE=UNKNOWN\nVM = [ ID="11", DEPLOY_ID="${vmB}",  STATE="RUNNING" ]\n`,
    );
    const before = oned.calls.length;
    assert.equal(await status(), "");
    assert.deepEqual(
      callsSince(before),
      [],
      "a change-only run asks oned nothing (of its own)",
    );
    ep.setInstanceState(vmB, "stopped");
    assert.equal(await status(), `VM = [ ID="11", DEPLOY_ID="${vmB}",  STATE="POWEROFF" ]\n`);
    ep.setInstanceState(vmB, "terminated");
    for (let run = 1; run <= 5; run++) assert.equal(await status(), "", `missing run ${run}`);
    await expireFullList(file);
    const sync = await status();
    assert.equal(sync, "SYNC_STATE=yes\nMISSING_STATE=UNKNOWN\n");
    assert.deepEqual(missingPerOned(sync, "aws-b"), [11], "oned takes VM 11 as missing: true");
  } finally {
    await Deno.remove(file).catch(() => {});
  }
});

/**
 * The calls oned received since `before`, as `method params...` without the session. Every
 * probe of a region holding an instance without the driver's marks (the wild one here) also
 * asks for the VM pool, to take in instances OpenNebula imported: left out, as not this
 * change's.
 */
function callsSince(before: number): string[] {
  return oned.calls.slice(before).filter((c) => c.method !== "one.vmpool.info").map((c) =>
    `${c.method} ${c.params.slice(1).join(" ")}`
  );
}

/** Makes the next vm/status run's full list due, as SYNC_SECONDS passing would. */
async function expireFullList(file: string): Promise<void> {
  const memory = JSON.parse(await Deno.readTextFile(file));
  await Deno.writeTextFile(file, JSON.stringify({ ...memory, syncedAt: 1 }));
}

/** The LCM states in which oned takes a VM a full list leaves out as missing (6.10). */
const TAKEN_AS_MISSING = [3, 16, 12, 18, 29]; // RUNNING, UNKNOWN, SHUTDOWN, SHUTDOWN_POWEROFF/UNDEPLOY

/**
 * What oned 6.10 (`InformationManager::_vm_state`) would do with a vm/status report read now:
 * with SYNC_STATE=yes, the VMs of the host it has, ACTIVE in RUNNING, UNKNOWN or SHUTDOWN*,
 * that the report leaves out, which it takes as missing.
 */
function missingPerOned(stdout: string, host: string): number[] {
  if (!/^SYNC_STATE=yes$/m.test(stdout)) return [];
  const listed = new Set([...stdout.matchAll(/^VM = \[ ID="(\d+)"/gm)].map((m) => Number(m[1])));
  return [...oned.vms].filter(([id, vm]) =>
    vm.host === host && vm.state === 3 && TAKEN_AS_MISSING.includes(vm.lcmState) && !listed.has(id)
  ).map(([id]) => id);
}

/** The `ID DEPLOY_ID STATE` of each line of a vm/status report. */
function statusEntries(stdout: string): string[] {
  return [...stdout.matchAll(/^VM = \[ ID="(\d+)", DEPLOY_ID="([^"]*)", {2}STATE="(\w+)" \]$/gm)]
    .map((m) => `${m[1]} ${m[2]} ${m[3]}`);
}

/** Runs vm/status of aws-life, checking that it succeeds quietly. */
async function lifeStatus(): Promise<string> {
  const result = await monitordProbes("aws-life", "vm/status");
  assert.equal(result.code, 0, result.stdout);
  assert.equal(result.stderr, "");
  return result.stdout;
}

const LIFE_STATUS = `${DIST}/im/status_ec2_${HOST_IDS["aws-life"]}.json`;

/** Deploys a VM on aws-life again from a new deployment file, as a resume does (BOOT_POWEROFF). */
async function resume(vmId: number, deployId: string): Promise<string> {
  const xml = vmDeployment(vmId, FIXTURE_SECTION, { lcmState: 20, deployId });
  const file = await writeDeployment(tmp, vmId, xml, 1);
  return deployedId(
    await runAction("deploy", [file, "aws-life", String(vmId), "aws-life"], {
      stdin: oneBase64(xml),
      env: ENV,
    }),
  );
}

test("vm/status postpones the full list while a VM of the host may turn RUNNING before oned reads it (BOOT): a VM being deployed is never made missing", async () => {
  await Deno.remove(LIFE_STATUS).catch(() => {});
  try {
    // oned dispatched VM 70 to the host; its deploy is under way, no instance listed yet.
    oned.setVm(70, { state: 3, lcmState: 2, host: "aws-life" });
    const during = await lifeStatus();
    assert.doesNotMatch(during, /SYNC_STATE/, "no full list while VM 70 boots");
    // The deploy returns before oned reads the report: the report must not make it missing.
    const id = await deploy(70, "aws-life");
    assert.deepEqual(missingPerOned(during, "aws-life"), []);
    const after = await lifeStatus();
    assert.match(after, /^SYNC_STATE=yes$/m, "the next run sends the full list");
    assert.deepEqual(statusEntries(after), [`70 ${id} RUNNING`]);
  } finally {
    await Deno.remove(LIFE_STATUS).catch(() => {});
  }
});

test("vm/status asks oned for the host's VMs after the listing: a VM deployed meanwhile is in the full list, described, with one host.info and one vm.info", async () => {
  await Deno.remove(LIFE_STATUS).catch(() => {});
  let launched = "";
  const describes = () => ep.calls.filter((c) => c.action === "DescribeInstances").length;
  let afterDeploy = 0;
  try {
    // The deploy of VM 71 ends between the probe's listing and its first question to oned.
    oned.beforeAnswer(async () => {
      if (launched) return;
      launched = "pending";
      launched = await deploy(71, "aws-life");
      afterDeploy = describes();
    });
    const before = oned.calls.length;
    const report = await lifeStatus();
    oned.beforeAnswer(undefined);
    assert.match(report, /^SYNC_STATE=yes$/m);
    assert.ok(statusEntries(report).includes(`71 ${launched} RUNNING`), report);
    assert.deepEqual(missingPerOned(report, "aws-life"), []);
    assert.deepEqual(
      callsSince(before),
      [`one.host.info ${HOST_IDS["aws-life"]}`, "one.vm.info 71"],
    );
    assert.equal(describes() - afterDeploy, 1, "VM 71's instance described once");
  } finally {
    oned.beforeAnswer(undefined);
    await Deno.remove(LIFE_STATUS).catch(() => {});
  }
});

test("vm/status never reports an instance of an earlier life: power off, terminate the instance behind oned's back, resume on a new instance", async () => {
  await Deno.remove(LIFE_STATUS).catch(() => {});
  try {
    const first = await deploy(72, "aws-life");
    assert.ok(statusEntries(await lifeStatus()).includes(`72 ${first} RUNNING`));
    ep.setInstanceState(first, "stopped");
    oned.setVm(72, { state: 8, lcmState: 0, deployId: first, host: "aws-life" });
    assert.ok(statusEntries(await lifeStatus()).includes(`72 ${first} POWEROFF`));
    ep.setInstanceState(first, "terminated");
    oned.setVm(72, { state: 3, lcmState: 20, deployId: first, host: "aws-life" });
    const second = await resume(72, first);
    assert.notEqual(second, first);
    oned.setVm(72, { state: 3, lcmState: 3, deployId: second, host: "aws-life" });
    const seen: string[] = [];
    for (let run = 1; run <= 5; run++) seen.push(...statusEntries(await lifeStatus()));
    await expireFullList(LIFE_STATUS);
    const sync = await lifeStatus();
    seen.push(...statusEntries(sync));
    assert.deepEqual(
      seen.filter((e) => e.startsWith("72 ")),
      [`72 ${second} RUNNING`, `72 ${second} RUNNING`],
      "the new instance once as a change, once in the full list; the dead one never",
    );
    assert.deepEqual(missingPerOned(sync, "aws-life"), []);
  } finally {
    await Deno.remove(LIFE_STATUS).catch(() => {});
  }
});

/** Launches an instance carrying a VM's marks for a host, as a stray second launch would. */
async function launchTagged(vmId: number, host: string): Promise<string> {
  const out = await clientFor(ep).send(
    new RunInstancesCommand({
      ImageId: AMAZON_LINUX_AMI,
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [{
        ResourceType: "instance",
        Tags: [
          { Key: "opennebula:vm-id", Value: String(vmId) },
          { Key: "opennebula:host", Value: host },
          { Key: "opennebula:driver", Value: "one-hybrid" },
          { Key: "Name", Value: `one-${vmId}-stray` },
        ],
      }],
    }),
  );
  return out.Instances![0]!.InstanceId!;
}

test("two live instances carrying one VM's marks: the one oned knows (DEPLOY_ID) is the VM in every probe, the other an orphan; without oned neither is reported", async () => {
  await Deno.remove(LIFE_STATUS).catch(() => {});
  const known = await deploy(73, "aws-life");
  const stray = await launchTagged(73, "aws-life");
  try {
    const status = await lifeStatus();
    assert.deepEqual(statusEntries(status).filter((e) => e.startsWith("73 ")), [
      `73 ${known} RUNNING`,
    ]);
    assert.doesNotMatch(status, new RegExp(stray));
    const monitor = await monitordProbes("aws-life", "vm/monitor");
    assert.match(monitor.stdout, new RegExp(`UUID="${known}", ID="73"`));
    assert.doesNotMatch(monitor.stdout, new RegExp(stray));
    const system = await monitordProbes("aws-life", "host/system");
    assert.match(system.stdout, new RegExp(`^ORPHANED_INSTANCES="${stray}"$`, "m"));
    const legacy = await oneImSh("aws-life");
    assert.match(legacy.stdout, new RegExp(`^ {2}ID=73,\\n {2}DEPLOY_ID=${known},$`, "m"));
    assert.match(legacy.stdout, new RegExp(`^ORPHANED_INSTANCES="${stray}"$`, "m"));
    assert.doesNotMatch(legacy.stdout, new RegExp(`DEPLOY_ID=${stray}`));
    const listed = await runIn(`${DIST}/vmm/provider`, "orphans", ["aws-life"]);
    assert.deepEqual(listed, { code: 0, stdout: `${stray} VM 73 running\n`, stderr: "" });
    // oned cannot be asked: neither instance is VM 73 in this run, and no full list goes out.
    await Deno.remove(LIFE_STATUS).catch(() => {});
    oned.misbehave("http-500");
    const blind = await lifeStatus();
    oned.misbehave(undefined);
    assert.doesNotMatch(blind, /SYNC_STATE/);
    assert.deepEqual(statusEntries(blind).filter((e) => e.startsWith("73 ")), []);
  } finally {
    oned.misbehave(undefined);
    ep.setInstanceState(stray, "terminated");
    await Deno.remove(LIFE_STATUS).catch(() => {});
  }
});

test("vm/monitor terminates, within one run, the instance of a VM terminated while powered off or undeployed (DONE), and nothing else", async () => {
  const poweredOff = await deploy(74, "aws-life");
  const undeployed = await deploy(75, "aws-life");
  const unanswered = await deploy(76, "aws-life");
  const reused = await deploy(77, "aws-life");
  const stray = await launchTagged(78, "aws-life"); // VM 78: unknown to oned
  for (const id of [poweredOff, undeployed, unanswered, reused]) ep.setInstanceState(id, "stopped");
  oned.setVm(74, { state: 8, lcmState: 0, deployId: poweredOff, host: "aws-life" });
  oned.setVm(75, { state: 9, lcmState: 0, deployId: undeployed, host: "aws-life" });
  const stateOf = (id: string) => instanceOf(ep, id).state;
  const monitor = async () => {
    const result = await monitordProbes("aws-life", "vm/monitor");
    assert.equal(result.code, 0, result.stderr);
    return result;
  };
  try {
    let before = oned.calls.length;
    const quiet = await monitor();
    assert.equal(quiet.stderr, "");
    // VMs 74 (POWEROFF), 76 and 77 are on the host; 75 (UNDEPLOYED) and 78 (unknown) are not,
    // so each of those is asked about once.
    assert.deepEqual(
      callsSince(before),
      [`one.host.info ${HOST_IDS["aws-life"]}`, "one.vm.info 75", "one.vm.info 78"],
    );
    assert.doesNotMatch(quiet.stdout, new RegExp(stray), "an orphan is not reported as a VM");
    assert.match(quiet.stdout, new RegExp(`UUID="${undeployed}", ID="75"`));
    for (const id of [poweredOff, undeployed, unanswered, reused]) {
      assert.equal(stateOf(id), "stopped");
    }

    // onevm terminate of VMs 74 (POWEROFF) and 75 (UNDEPLOYED): EPILOG, DONE, no driver action.
    oned.setVm(74, { state: 6, lcmState: 0, deployId: poweredOff, host: "aws-life" });
    oned.setVm(75, { state: 6, lcmState: 0, deployId: undeployed, host: "aws-life" });
    // VM 77's id belongs to a VM created after its instance was started (another oned database).
    oned.setVm(77, {
      state: 6,
      lcmState: 0,
      deployId: "i-0000000000000beef",
      host: "aws-life",
      stime: Math.floor(Date.now() / 1000) + 3600,
    });
    before = oned.calls.length;
    const ending = await monitor();
    assert.ok(["shutting-down", "terminated"].includes(stateOf(poweredOff)), stateOf(poweredOff));
    assert.ok(["shutting-down", "terminated"].includes(stateOf(undeployed)), stateOf(undeployed));
    assert.equal(stateOf(reused), "stopped", "an instance older than the DONE VM is not its");
    assert.equal(stateOf(stray), "running", "an unknown VM id is an orphan: kept");
    assert.equal(
      ending.stderr,
      `INFO: terminating ${poweredOff}: OpenNebula has its VM 74 DONE\n` +
        `INFO: terminating ${undeployed}: OpenNebula has its VM 75 DONE\n`,
    );
    assert.doesNotMatch(ending.stdout, new RegExp(`${poweredOff}|${undeployed}|${reused}`));
    assert.equal(oned.calls.slice(before).filter((c) => c.method === "one.host.info").length, 1);

    // oned cannot answer: nothing is terminated, whatever it said before.
    oned.setVm(76, { state: 6, lcmState: 0, deployId: unanswered, host: "aws-life" });
    oned.misbehave("http-500");
    const blind = await monitor();
    oned.misbehave(undefined);
    assert.equal(blind.stderr, "");
    assert.equal(stateOf(unanswered), "stopped");
  } finally {
    oned.misbehave(undefined);
    for (const id of [unanswered, reused, stray]) ep.setInstanceState(id, "terminated");
  }
});

test("one_im_sh (4.4-5.10): poll terminates the instance of a DONE VM, keeps the orphan of an unknown VM, and orphans --terminate-done does the same by hand", async () => {
  const done = await deploy(79, "aws-life");
  ep.setInstanceState(done, "stopped");
  oned.setVm(79, { state: 6, lcmState: 0, deployId: done, host: "aws-life" });
  const stray = await launchTagged(80, "aws-life");
  try {
    const poll = await oneImSh("aws-life");
    assert.equal(poll.code, 0, poll.stdout);
    assert.ok(["shutting-down", "terminated"].includes(instanceOf(ep, done).state));
    assert.equal(instanceOf(ep, stray).state, "running");
    assert.match(poll.stdout, new RegExp(`^ORPHANED_INSTANCES="${stray}"$`, "m"));
    assert.doesNotMatch(poll.stdout, new RegExp(done));

    const byHand = await deploy(81, "aws-life");
    ep.setInstanceState(byHand, "stopped");
    oned.setVm(81, { state: 6, lcmState: 0, deployId: byHand, host: "aws-life" });
    const listed = await runIn(`${DIST}/vmm/provider`, "orphans", ["aws-life"]);
    assert.equal(listed.code, 0, listed.stdout);
    assert.equal(instanceOf(ep, byHand).state, "stopped", "without the flag nothing changes");
    const ended = await runIn(`${DIST}/vmm/provider`, "orphans", ["--terminate-done", "aws-life"]);
    assert.equal(ended.code, 0, ended.stdout);
    assert.match(ended.stdout, new RegExp(`^${byHand} VM 81 stopped terminating$`, "m"));
    assert.match(ended.stdout, new RegExp(`^${stray} VM 80 running$`, "m"));
    assert.ok(["shutting-down", "terminated"].includes(instanceOf(ep, byHand).state));
    assert.equal(instanceOf(ep, stray).state, "running");
  } finally {
    ep.setInstanceState(stray, "terminated");
  }
});

test("a host without capacity in the configuration takes its template's CAPACITY from oned, for 4.x and 5.12+ alike", async () => {
  oned.setHostCapacity(HOST_IDS["aws-tmpl"]!, { T3_MICRO: "3" });
  const legacy = await oneImSh("aws-tmpl");
  assert.equal(legacy.code, 0, legacy.stdout);
  assert.match(legacy.stdout, /^TOTALMEMORY=3145728\nTOTALCPU=600\n/m);
  const system = await monitordProbes("aws-tmpl", "host/system");
  assert.equal(system.code, 0, system.stdout);
  assert.match(system.stdout, /TOTALCPU=600/);
});

test("one_im_sh: the POLL strings use the usage keys of oned's version (MEMORY from 4.14, USEDMEMORY before)", async () => {
  try {
    oned.setVersion("5.10.1");
    const current = await oneImSh("aws-a");
    assert.equal(current.code, 0, current.stdout);
    assert.match(current.stdout, /POLL="STATE=a MEMORY=1048576 /);
    oned.setVersion("4.12.1");
    assert.match((await oneImSh("aws-a")).stdout, /POLL="STATE=a USEDMEMORY=1048576 /);
  } finally {
    oned.setVersion(undefined);
  }
});

test("a wild instance imported by onehost importvm is the host's VM from then on: reported with its VM id by every probe, offered by none, and poll and shutdown act on it", async () => {
  const ec2 = clientFor(ep, { region: "sa-east-1" });
  const hand = await launchByHand(ec2, AMAZON_LINUX_AMI);
  const offered = await monitordProbes("aws-import", "host/system");
  assert.equal(
    decodeImports(offered.stdout),
    "HYPERVISOR=ec2\nPUBLIC_CLOUD=YES\nPRIORITY=-1\nTOTALCPU=400\nTOTALMEMORY=4194304\n" +
      `VM = [ UUID="${hand}", ID="-1", DEPLOY_ID="${hand}", TYPE="t3.small", STATE="RUNNING", ` +
      `IMPORT_TEMPLATE=<<${
        expectedImport(hand, "by hand", "t3.small", "aws-import", "DEPLOY_ID")
      }>>, VM_NAME="by hand" ]\n`,
  );
  // What `onehost importvm` leaves: a VM of oned's with the instance's id as deploy id.
  oned.setVm(60, { state: 3, lcmState: 3, deployId: hand, host: "aws-import" });
  const legacy = await oneImSh("aws-import");
  assert.equal(legacy.code, 0, legacy.stderr);
  assert.match(legacy.stdout, /^USEDMEMORY=2097152\nUSEDCPU=200\n/m);
  assert.deepEqual(
    [...legacy.stdout.matchAll(/^ {2}ID=(-?\d+),\n {2}DEPLOY_ID=(i-\w+),$/gm)].map((m) =>
      `${m[1]} ${m[2]}`
    ),
    [`60 ${hand}`],
  );
  const system = await monitordProbes("aws-import", "host/system");
  assert.deepEqual(system, {
    code: 0,
    stdout: "HYPERVISOR=ec2\nPUBLIC_CLOUD=YES\nPRIORITY=-1\nTOTALCPU=400\nTOTALMEMORY=4194304\n",
    stderr: "",
  });
  const vms = await monitordProbes("aws-import", "vm/monitor");
  assert.match(
    vms.stdout,
    new RegExp(
      `^VM = \\[ UUID="${hand}", ID="60", NAME="by hand", DEPLOY_ID="${hand}", TYPE="t3.small", STATE="RUNNING", MONITOR="[A-Za-z0-9+/=]+" \\]\n$`,
    ),
  );
  for (const path of ["host/system", "vm/monitor"]) {
    const other = await monitordProbes("aws-import-b", path);
    assert.equal(other.code, 0, other.stderr);
    assert.doesNotMatch(other.stdout, new RegExp(hand), `${path} of the other host`);
  }
  const act = (action: string, lcmState: number) =>
    runAction(action, [hand, "aws-import", "60", "aws-import"], {
      stdin: oneBase64(actionData(60, "aws-import", hand, { lcmState })),
      env: ENV,
    });
  const poll = await act("poll", 3);
  assert.equal(poll.code, 0, poll.stdout);
  assert.match(poll.stdout, /^STATE=a MEMORY=2097152 /);
  assert.deepEqual(await act("shutdown", 12), { code: 0, stdout: "", stderr: "" });
  assert.equal(ep.instances("sa-east-1").find((i) => i.instanceId === hand)?.state, "terminated");
});

test("migrate between two hosts of the account retags the instance (CreateTags): the new host's probes report it, the old host's no longer do", async () => {
  const id = await deploy(15, "aws-a");
  const reported = async (host: string) => {
    const vms = await monitordProbes(host, "vm/monitor");
    assert.equal(vms.code, 0, vms.stdout);
    return vms.stdout.includes(`UUID="${id}", ID="15"`);
  };
  assert.deepEqual([await reported("aws-a"), await reported("aws-b")], [true, false]);
  const tags = () => ep.calls.filter((c) => c.action === "CreateTags").length;
  const before = tags();
  const migrate = await runAction("migrate", [id, "aws-b", "aws-a", "15", "aws-a"], {
    stdin: oneBase64(actionData(15, "aws-a", id, { lcmState: 4 })),
    env: ENV,
  });
  assert.deepEqual(migrate, { code: 0, stdout: "", stderr: "" });
  assert.equal(tags() - before, 1, "one CreateTags");
  assert.equal(
    ep.instances("us-east-1").find((i) => i.instanceId === id)?.tags["opennebula:host"],
    "aws-b",
  );
  oned.setVm(15, { state: 3, lcmState: 3, deployId: id, host: "aws-b" });
  assert.deepEqual([await reported("aws-a"), await reported("aws-b")], [false, true]);
  const legacy = await oneImSh("aws-b");
  assert.match(legacy.stdout, new RegExp(`^ {2}ID=15,\\n {2}DEPLOY_ID=${id},$`, "m"));
  assert.doesNotMatch((await oneImSh("aws-a")).stdout, new RegExp(id));
  // oned retries a migrate that timed out: the instance is on the new host already.
  assert.deepEqual(
    await runAction("migrate", [id, "aws-b", "aws-a", "15", "aws-a"], {
      stdin: oneBase64(actionData(15, "aws-a", id, { lcmState: 4 })),
      env: ENV,
    }),
    { code: 0, stdout: "", stderr: "" },
  );
  assert.equal(
    ep.instances("us-east-1").find((i) => i.instanceId === id)?.tags["opennebula:host"],
    "aws-b",
  );
});
