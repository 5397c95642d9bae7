/**
 * The way over from OpenNebula's built-in EC2 driver (5.4–6.10, removed in 7.0), against moto:
 * instances launched as that driver launches them (`RunInstances` without tags, the template's
 * `TAGS` and then `ONE_ID` added by `CreateTags` once the instance exists), and VMs the stand-in
 * oned has with those instances as `DEPLOY_ID` on the driver's hosts, as an upgrade leaves them.
 * The probes are run as OpenNebula runs them (from their directory, the IM arguments, host id
 * and name last); a call-logging proxy in front of moto counts the EC2 calls.
 */

import assert from "node:assert/strict";
import {
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
} from "@aws-sdk/client-ec2";
import { vmDeployment } from "./deployments.ts";
import * as harness from "./harness.ts";
import { startFaultProxy } from "./fault_proxy.ts";
import { useMoto } from "./moto.ts";
import { startFakeOned } from "./oned_xmlrpc.ts";

const test = harness.sharedTest;
const CREDENTIALS = { accessKeyId: "AKIAMOTOEXAMPLE00021", secretAccessKey: "motoSecret/x21" };
/** The arguments oned's IM drivers pass the probes before the host id and name. */
const IM_ARGS = ["provider", "/var/lib/one//datastores", "4124", "20"];
const PROBES = new URL("../dist/im", import.meta.url).pathname;
/** Each host in a region of its own, so that each test's listing holds only its instances. */
const HOSTS: Record<string, { id: number; region: string }> = {
  "upgraded": { id: 70, region: "ca-central-1" },
  "upgraded-b": { id: 71, region: "ca-central-1" },
  "upgraded-4x": { id: 72, region: "eu-north-1" },
  "upgraded-done": { id: 73, region: "ap-southeast-2" },
  "upgraded-calls": { id: 74, region: "eu-west-3" },
  "upgraded-claims": { id: 75, region: "sa-east-1" },
  "upgraded-claims-b": { id: 76, region: "sa-east-1" },
};

const moto = await useMoto();
await moto.reset();
const proxy = startFaultProxy({ target: moto.url });
const oned = await startFakeOned({ user: "oneadmin", password: "upgrade-pass" });
const tmp = await Deno.makeTempDir({ prefix: "hybrid-builtin-ec2-" });
const clients = new Map<string, EC2Client>();
globalThis.addEventListener("unload", () => {
  for (const client of clients.values()) client.destroy();
  moto.kill();
  Deno.removeSync(tmp, { recursive: true });
});
const AUTH = `${tmp}/one_auth`;
await Deno.writeTextFile(AUTH, "oneadmin:upgrade-pass\n");
const config = await harness.writeLocalConfig(`${tmp}/hybrid_driver.json`, proxy.url, CREDENTIALS, {
  defaults: { statePollSeconds: 0.1, notFoundRetrySeconds: 1 },
  hosts: Object.fromEntries(
    Object.entries(HOSTS).map(([name, { region }]) => [
      name,
      { region, capacity: { "t3.micro": 1 } },
    ]),
  ),
});
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config, ONE_XMLRPC: oned.url, ONE_AUTH: AUTH };
for (const [name, { id }] of Object.entries(HOSTS)) oned.setHost(id, name);

/** An SDK client of moto (not through the proxy: the test's own calls are not counted). */
function ec2(region: string): EC2Client {
  let client = clients.get(region);
  if (!client) {
    client = new EC2Client({
      region,
      endpoint: moto.url,
      credentials: CREDENTIALS,
      defaultUserAgentProvider: () => Promise.resolve([["one-hybrid-tests"]]),
    });
    clients.set(region, client);
  }
  return client;
}

/** An x86_64 EBS image moto lists by default in a region. */
async function imageOf(region: string): Promise<string> {
  const images = (await ec2(region).send(new DescribeImagesCommand({ Owners: ["amazon"] })))
    .Images;
  const ami = images?.find((i) => i.RootDeviceType === "ebs" && i.Architecture === "x86_64")
    ?.ImageId ?? "";
  assert.match(ami, /^ami-/, `moto lists a default x86_64 EBS image in ${region}`);
  return ami;
}

/**
 * Launches an instance as OpenNebula's built-in EC2 driver deploys a VM (`ec2_driver.rb` of
 * 5.4–6.10, `deploy`): `create_instances` with the template's options and the VM's CONTEXT as
 * user data, no tags; then `create_tags` with the template's `TAGS`, and once it runs,
 * `create_tags` with `ONE_ID`, the VM id. Its deploy id is the instance id.
 */
async function launchAsBuiltIn(
  host: string,
  vmId: number,
  tags: Record<string, string> = {},
): Promise<string> {
  const client = ec2(HOSTS[host]!.region);
  const out = await client.send(
    new RunInstancesCommand({
      ImageId: await imageOf(HOSTS[host]!.region),
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      UserData: btoa(`DISK_ID="1"\nETH0_IP="10.0.0.${vmId}"\nTARGET="hda"`),
    }),
  );
  const id = out.Instances![0]!.InstanceId!;
  if (Object.keys(tags).length > 0) {
    await client.send(
      new CreateTagsCommand({
        Resources: [id],
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  }
  await client.send(
    new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "ONE_ID", Value: String(vmId) }] }),
  );
  return id;
}

/** An instance's state and tags, as moto has them. */
async function cloud(host: string, id: string) {
  const out = await ec2(HOSTS[host]!.region).send(
    new DescribeInstancesCommand({ InstanceIds: [id] }),
  );
  const i = out.Reservations?.[0]?.Instances?.[0];
  assert.ok(i, `moto has no instance ${id}`);
  return {
    state: i.State?.Name ?? "?",
    tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key!, t.Value!])),
  };
}

/** Runs one 5.12+ probe (`host/system`, `vm/monitor`, ...) for a host, as monitord-client does. */
function probe(path: string, host: string, env: Record<string, string> = ENV) {
  const dir = `${PROBES}/provider-probes.d/${path}`;
  const [file] = [...Deno.readDirSync(dir)].map((e) => e.name);
  const id = String(HOSTS[host]!.id);
  const stdin = `<MONITOR_CONFIGURATION><HOST_ID>${id}</HOST_ID></MONITOR_CONFIGURATION>`;
  return harness.runProcess(`./${file}`, [...IM_ARGS, id, host], { cwd: dir, env, stdin });
}

/** Runs 4.4–5.10's `poll` probe for a host, as `one_im_sh` does. */
function legacyPoll(host: string): Promise<harness.ActionResult> {
  const dir = `${PROBES}/provider.d`;
  return harness.runProcess("./poll", [...IM_ARGS, String(HOSTS[host]!.id), host], {
    cwd: dir,
    env: ENV,
  });
}

/** The `ID DEPLOY_ID` pairs of a report's VM entries, in order. */
function vmEntries(stdout: string): string[] {
  return [...stdout.matchAll(/\bID="?(-?\d+)"?,\s*(?:NAME="[^"]*",\s*)?DEPLOY_ID="?(i-\w+)"?/g)]
    .map((m) => `${m[1]} ${m[2]}`);
}

/** The tags the driver puts on an instance of a VM on a host. */
function ourTags(vmId: number, host: string): Record<string, string> {
  return {
    "opennebula:vm-id": String(vmId),
    "opennebula:host": host,
    "opennebula:driver": "one-hybrid",
  };
}

/** The calls of an EC2 action the driver made through the proxy since a mark. */
function callsSince(mark: number, action: string): number {
  return proxy.calls.slice(mark).filter((c) => c.action === action).length;
}

test("host/system adopts the built-in driver's instances of the VMs oned has on the host: our tags added, ONE_ID kept, none offered for import", async () => {
  const running = await launchAsBuiltIn("upgraded", 40, { team: "web" });
  const off = await launchAsBuiltIn("upgraded", 41);
  await ec2("ca-central-1").send(new StopInstancesCommand({ InstanceIds: [off] }));
  const wild = await harness.launchByHand(ec2("ca-central-1"), await imageOf("ca-central-1"));
  oned.setVm(40, { state: 3, lcmState: 3, deployId: running, host: "upgraded" });
  oned.setVm(41, { state: 8, lcmState: 0, deployId: off, host: "upgraded" });
  const system = await probe("host/system", "upgraded");
  assert.equal(system.code, 0, system.stderr);
  assert.equal(
    system.stderr,
    [[running, 40], [off, 41]].map(([id, vmId]) =>
      `INFO: adopted ${id}, launched by OpenNebula's own driver for VM ${vmId}: now marked as this driver's on host upgraded\n`
    ).join(""),
  );
  assert.deepEqual(vmEntries(system.stdout), [`-1 ${wild}`], "only the wild one is offered");
  assert.deepEqual((await cloud("upgraded", running)).tags, {
    ONE_ID: "40",
    team: "web",
    ...ourTags(40, "upgraded"),
  });
  assert.deepEqual((await cloud("upgraded", off)).tags, {
    ONE_ID: "41",
    ...ourTags(41, "upgraded"),
  });
  assert.deepEqual((await cloud("upgraded", wild)).tags, { Name: "by hand" });
});

test("once adopted, the built-in driver's running instance is counted in the host's used capacity and both VMs are reported as theirs", async () => {
  const usage = await probe("host/monitor", "upgraded");
  assert.equal(usage.code, 0, usage.stderr);
  // t3.micro: 2 vCPUs, 1 GiB; the stopped one holds nothing.
  assert.match(usage.stdout, /^USEDCPU=200\nUSEDMEMORY=1048576\nFREECPU=0\nFREEMEMORY=0$/m);
  const vms = await probe("vm/monitor", "upgraded");
  assert.equal(vms.code, 0, vms.stderr);
  const running = oned.vms.get(40)!.deployId!;
  const off = oned.vms.get(41)!.deployId!;
  assert.deepEqual(vmEntries(vms.stdout).sort(), [`40 ${running}`, `41 ${off}`].sort());
  assert.match(vms.stdout, new RegExp(`UUID="${off}", ID="41", .*STATE="POWEROFF"`));
});

test("a deploy to a host full of the built-in driver's adopted instances is refused before anything is launched", async () => {
  const before = proxy.calls.length;
  const xml = vmDeployment(42, { AMI: await imageOf("ca-central-1"), INSTANCETYPE: "t3.micro" });
  const file = `${tmp}/deployment.42`;
  await Deno.writeTextFile(file, xml);
  const result = await harness.runAction("deploy", [file, "upgraded", "42", "upgraded"], {
    stdin: harness.oneBase64(xml),
    env: ENV,
  });
  assert.match(harness.failureLine(result), /^Cannot deploy VM 42 to host upgraded: .*t3\.micro/);
  assert.equal(callsSince(before, "RunInstances"), 0);
});

test("the built-in driver's instance of a powered-off VM that oned then terminates (telling the driver nothing) is terminated by the next vm/monitor", async () => {
  const id = await launchAsBuiltIn("upgraded-done", 43);
  await ec2("ap-southeast-2").send(new StopInstancesCommand({ InstanceIds: [id] }));
  oned.setVm(43, { state: 8, lcmState: 0, deployId: id, host: "upgraded-done" });
  const system = await probe("host/system", "upgraded-done");
  assert.equal(system.code, 0, system.stderr);
  // onevm terminate of the powered-off VM: EPILOG, then DONE; no driver action is sent.
  oned.setVm(43, { state: 6, lcmState: 0, deployId: id, host: "upgraded-done" });
  const vms = await probe("vm/monitor", "upgraded-done");
  assert.equal(vms.code, 0, vms.stderr);
  assert.equal(vms.stderr, `INFO: terminating ${id}: OpenNebula has its VM 43 DONE\n`);
  assert.ok(
    ["shutting-down", "terminated"].includes((await cloud("upgraded-done", id)).state),
    "terminated",
  );
});

test("4.4–5.10's poll adopts the built-in driver's instance too: reported as its VM, counted, not offered", async () => {
  const id = await launchAsBuiltIn("upgraded-4x", 50);
  oned.setVm(50, { state: 3, lcmState: 3, deployId: id, host: "upgraded-4x" });
  const report = await legacyPoll("upgraded-4x");
  assert.equal(report.code, 0, report.stderr);
  assert.deepEqual(vmEntries(report.stdout), [`50 ${id}`]);
  assert.match(report.stdout, /^USEDMEMORY=1048576\nUSEDCPU=200$/m);
  assert.deepEqual((await cloud("upgraded-4x", id)).tags, {
    ONE_ID: "50",
    ...ourTags(50, "upgraded-4x"),
  });
});

test("adoption costs one CreateTags per instance, once: only host/system tags, however many probes run at the same time, and later probes no longer read oned's VM pool", async () => {
  const ids: string[] = [];
  for (const vmId of [55, 56]) {
    ids.push(await launchAsBuiltIn("upgraded-calls", vmId));
    oned.setVm(vmId, { state: 3, lcmState: 3, deployId: ids.at(-1)!, host: "upgraded-calls" });
  }
  const before = proxy.calls.length;
  const runs = await Promise.all(
    ["host/system", "host/monitor", "vm/monitor", "vm/status"].map((path) =>
      probe(path, "upgraded-calls")
    ),
  );
  for (const run of runs) assert.equal(run.code, 0, run.stderr);
  assert.equal(callsSince(before, "CreateTags"), 2, "one per instance, by host/system alone");
  for (const [n, id] of ids.entries()) {
    assert.deepEqual((await cloud("upgraded-calls", id)).tags, {
      ONE_ID: String(55 + n),
      ...ourTags(55 + n, "upgraded-calls"),
    });
  }
  const again = proxy.calls.length;
  const system = await probe("host/system", "upgraded-calls");
  assert.deepEqual([system.code, system.stderr], [0, ""]);
  assert.equal(callsSince(again, "CreateTags"), 0, "nothing tagged twice");
  // host/system reads oned's pool to name orphans; the probes of every cycle no longer need it.
  const pool = oned.calls.filter((c) => c.method === "one.vmpool.info").length;
  for (const path of ["host/monitor", "vm/monitor"]) {
    const run = await probe(path, "upgraded-calls");
    assert.equal(run.code, 0, run.stderr);
  }
  assert.equal(
    oned.calls.filter((c) => c.method === "one.vmpool.info").length,
    pool,
    "every instance is marked: oned's pool is not read",
  );
});

test("an instance whose ONE_ID names a VM oned has with another deploy id, on another host, moving, or not at all is not adopted by the host, nor offered for import", async () => {
  const other = await launchAsBuiltIn("upgraded-claims", 60);
  const elsewhere = await launchAsBuiltIn("upgraded-claims", 61);
  const gone = await launchAsBuiltIn("upgraded-claims", 62);
  const moving = await launchAsBuiltIn("upgraded-claims", 63);
  oned.setVm(60, {
    state: 3,
    lcmState: 3,
    deployId: "i-0123456789abcdef0",
    host: "upgraded-claims",
  });
  oned.setVm(61, { state: 3, lcmState: 3, deployId: elsewhere, host: "upgraded-claims-b" });
  // ACTIVE/MIGRATE: oned may change the VM's host meanwhile.
  oned.setVm(63, { state: 3, lcmState: 4, deployId: moving, host: "upgraded-claims" });
  const system = await probe("host/system", "upgraded-claims");
  assert.equal(system.code, 0, system.stderr);
  assert.deepEqual(vmEntries(system.stdout), [], "none is offered for import");
  for (const [vmId, id] of [[60, other], [61, elsewhere], [62, gone], [63, moving]] as const) {
    assert.deepEqual((await cloud("upgraded-claims", id)).tags, { ONE_ID: String(vmId) });
  }
  const vms = await probe("vm/monitor", "upgraded-claims");
  assert.equal(vms.code, 0, vms.stderr);
  assert.deepEqual(vmEntries(vms.stdout), [`63 ${moving}`], "the moving VM is still reported");
  // The host oned has VM 61 on adopts it.
  const b = await probe("host/system", "upgraded-claims-b");
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual((await cloud("upgraded-claims", elsewhere)).tags, {
    ONE_ID: "61",
    ...ourTags(61, "upgraded-claims-b"),
  });
  // Without oned, nothing is adopted and none of them is offered either.
  const blind = await probe("host/system", "upgraded-claims", { ...ENV, ONE_AUTH: `${tmp}/none` });
  assert.equal(blind.code, 0, blind.stderr);
  assert.deepEqual(vmEntries(blind.stdout), []);
  assert.deepEqual((await cloud("upgraded-claims", moving)).tags, { ONE_ID: "63" });
});
