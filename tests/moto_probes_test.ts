/**
 * The host probes against moto, an EC2 emulator the project did not write: two hosts sharing
 * one moto account, VMs the driver deployed, an instance launched by hand (wild) and one left
 * over (an orphan: tagged for a VM the stand-in oned does not have). The probes are run as
 * OpenNebula runs them (`cd` into the directory, the IM arguments, host id and name last).
 */

import assert from "node:assert/strict";
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  StopInstancesCommand,
} from "@aws-sdk/client-ec2";
import { actionData, vmDeployment } from "./deployments.ts";
import {
  type ActionResult,
  deployedId,
  launchByHand,
  oneBase64,
  runAction,
  runProcess,
  sharedTest as test,
  writeLocalConfig,
} from "./harness.ts";
import { useMoto } from "./moto.ts";
import { startFakeOned } from "./oned_xmlrpc.ts";

const CREDENTIALS = {
  accessKeyId: "AKIAMOTOEXAMPLE00002",
  secretAccessKey: "motoSecret/K7MDENG/x2",
};
const DIST = new URL("../dist/im", import.meta.url).pathname;
const IM_ARGS = ["provider", "/var/lib/one//datastores", "4124", "20"];
const HOST_IDS: Record<string, number> = {
  "moto-a": 0,
  "moto-b": 1,
  "moto-burst": 2,
  "moto-west": 3,
};
/** A second account, reached by assuming a role in it (moto's STS hands the role out). */
const BURST_ROLE = "arn:aws:iam::111111111111:role/one-burst";

const moto = await useMoto();
await moto.reset();
const oned = await startFakeOned({ user: "oneadmin", password: "probe-pass" });
const ec2 = new EC2Client({
  region: "us-east-1",
  endpoint: moto.url,
  credentials: CREDENTIALS,
  // The default user agent reads os.release(), which needs --allow-sys.
  defaultUserAgentProvider: () => Promise.resolve([["one-hybrid-tests"]]),
});
const tmp = await Deno.makeTempDir({ prefix: "hybrid-moto-probes-" });
globalThis.addEventListener("unload", () => {
  ec2.destroy();
  moto.kill();
  Deno.removeSync(tmp, { recursive: true });
});
const AUTH = `${tmp}/one_auth`;
await Deno.writeTextFile(AUTH, "oneadmin:probe-pass\n");
const config = await writeLocalConfig(`${tmp}/hybrid_driver.json`, moto.url, CREDENTIALS, {
  defaults: { statePollSeconds: 0.1, notFoundRetrySeconds: 1, stsEndpoint: moto.url },
  hosts: {
    "moto-a": { capacity: { "t3.micro": 4 } },
    "moto-b": { capacity: { "t3.micro": 2 } },
    "moto-burst": { roleArn: BURST_ROLE, capacity: { "t3.micro": 2 } },
    "moto-west": { region: "us-west-2", capacity: { "t3.micro": 2 } },
  },
});
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config, ONE_XMLRPC: oned.url, ONE_AUTH: AUTH };

/** An x86_64 EBS image moto lists by default in a region. */
async function defaultImage(client: EC2Client): Promise<string> {
  const images = (await client.send(new DescribeImagesCommand({ Owners: ["amazon"] }))).Images;
  const ami = images?.find((i) => i.RootDeviceType === "ebs" && i.Architecture === "x86_64")
    ?.ImageId ?? "";
  assert.match(ami, /^ami-/, "moto lists a default x86_64 EBS image");
  return ami;
}
const AMI = await defaultImage(ec2);
const west = new EC2Client({
  region: "us-west-2",
  endpoint: moto.url,
  credentials: CREDENTIALS,
  defaultUserAgentProvider: () => Promise.resolve([["one-hybrid-tests"]]),
});
const WEST_AMI = await defaultImage(west);
west.destroy();

/** Deploys a VM through the built deploy action, and tells oned about it unless `known` is false. */
async function deploy(vmId: number, host: string, known = true, ami = AMI): Promise<string> {
  const xml = vmDeployment(vmId, { AMI: ami, INSTANCETYPE: "t3.micro" });
  const file = `${tmp}/deployment.${vmId}`;
  await Deno.writeTextFile(file, xml);
  const env = ENV;
  const id = deployedId(
    await runAction("deploy", [file, host, String(vmId), host], { stdin: oneBase64(xml), env }),
  );
  if (known) oned.setVm(vmId, { state: 3, lcmState: 3, deployId: id });
  return id;
}

const vmA = await deploy(20, "moto-a");
const vmB = await deploy(21, "moto-b");
const orphan = await deploy(22, "moto-a", false);
const vmBurst = await deploy(30, "moto-burst");
const vmWest = await deploy(31, "moto-west", true, WEST_AMI);
const wild = await launchByHand(ec2, AMI);

/** Runs one probe from its directory with the IM arguments, as OpenNebula's runners do. */
function probe(dir: string, file: string, host: string, stdin = ""): Promise<ActionResult> {
  const args = [...IM_ARGS, String(HOST_IDS[host]), host];
  return runProcess(`./${file}`, args, { cwd: `${DIST}/${dir}`, env: ENV, stdin });
}

/** The `ID DEPLOY_ID` pairs of a report's VM entries, in order. */
function vmEntries(stdout: string): string[] {
  return [...stdout.matchAll(/\bID="?(-?\d+)"?,\s*DEPLOY_ID="?(i-\w+)"?/g)].map((m) =>
    `${m[1]} ${m[2]}`
  );
}

/** The decoded IMPORT_TEMPLATE of the entry of an instance. */
function importTemplateOf(stdout: string, id: string): string {
  const entry = stdout.slice(stdout.indexOf(id));
  const encoded = /IMPORT_TEMPLATE="([A-Za-z0-9+/=]+)"/.exec(entry)?.[1] ?? "";
  return new TextDecoder().decode(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)));
}

test("on moto, the 4.x poll probe reports capacity, the host's VMs with the VMM poll's string, the wild instance to import and the orphan", async () => {
  const result = await probe("provider.d", "poll", "moto-a");
  assert.equal(result.stderr, "");
  assert.equal(result.code, 0);
  assert.match(
    result.stdout,
    /^HYPERVISOR=ec2\nPUBLIC_CLOUD=YES\nPRIORITY=-1\nTOTALMEMORY=4194304\nTOTALCPU=800\n/,
  );
  // VM 20 and the orphan run t3.micro (2 vCPU, 1 GiB) for this host.
  assert.match(result.stdout, /^USEDMEMORY=2097152\nUSEDCPU=400\n/m);
  assert.match(result.stdout, new RegExp(`^ORPHANED_INSTANCES="${orphan}"$`, "m"));
  assert.deepEqual(vmEntries(result.stdout), [`20 ${vmA}`, `-1 ${wild}`]);
  const poll = await runAction("poll", [vmA, "moto-a", "20", "moto-a"], { env: ENV });
  assert.equal(poll.code, 0, poll.stdout);
  assert.ok(result.stdout.includes(`POLL="${poll.stdout.trim()}"`), result.stdout);
  const imported = importTemplateOf(result.stdout, wild);
  assert.match(imported, new RegExp(`AMI = "${AMI}"`));
  assert.match(imported, /INSTANCETYPE = "t3.small"/);
  assert.match(imported, /SCHED_REQUIREMENTS = "NAME=\\"moto-a\\""/);
});

test("on moto, the other host of the account reports its own VM and the wild instance, not the first host's", async () => {
  const result = await probe("provider.d", "poll", "moto-b");
  assert.equal(result.code, 0, result.stdout);
  assert.deepEqual(vmEntries(result.stdout), [`21 ${vmB}`, `-1 ${wild}`]);
  assert.doesNotMatch(result.stdout, /ORPHANED_INSTANCES/);
});

test("on moto, 5.12+'s host/system probe lists the wild instance to import and host/monitor the usage", async () => {
  const stdin = `<MONITOR_CONFIGURATION><HOST_ID>0</HOST_ID></MONITOR_CONFIGURATION>`;
  const dir = "provider-probes.d/host/system";
  const [system] = [...Deno.readDirSync(`${DIST}/${dir}`)].map((e) => e.name);
  const result = await probe(dir, system!, "moto-a", stdin);
  assert.equal(result.code, 0, result.stdout);
  assert.match(result.stdout, /TOTALCPU=800/);
  assert.deepEqual(vmEntries(result.stdout).filter((e) => e.startsWith("-1")), [`-1 ${wild}`]);
  assert.match(importTemplateOf(result.stdout, wild), /INSTANCETYPE = "t3.small"/);
  const monitorDir = "provider-probes.d/host/monitor";
  const [monitor] = [...Deno.readDirSync(`${DIST}/${monitorDir}`)].map((e) => e.name);
  const usage = await probe(monitorDir, monitor!, "moto-a", stdin);
  assert.equal(usage.code, 0, usage.stdout);
  assert.match(usage.stdout, /USEDCPU=400/);
});

test("on moto, the orphans tool lists the host's instance whose VM oned does not have", async () => {
  const result = await runProcess(
    new URL("../dist/vmm/provider/orphans", import.meta.url).pathname,
    ["moto-a"],
    { env: ENV },
  );
  assert.equal(result.code, 0, result.stdout);
  assert.ok(result.stdout.includes(orphan), result.stdout);
  assert.ok(!result.stdout.includes(vmA), result.stdout);
});

test("on moto, a host in another account (an assumed role) and one in another region each report only their own instances", async () => {
  const burst = await probe("provider.d", "poll", "moto-burst");
  assert.equal(burst.code, 0, burst.stdout);
  assert.deepEqual(vmEntries(burst.stdout), [`30 ${vmBurst}`]);
  assert.match(burst.stdout, /^USEDCPU=200$/m);
  const westReport = await probe("provider.d", "poll", "moto-west");
  assert.equal(westReport.code, 0, westReport.stdout);
  assert.deepEqual(vmEntries(westReport.stdout), [`31 ${vmWest}`]);
  const first = await probe("provider.d", "poll", "moto-a");
  assert.ok(!first.stdout.includes(vmBurst) && !first.stdout.includes(vmWest), first.stdout);
});

test("on moto, the doctor passes a good host: endpoint, credentials, the default AMI and a dry-run launch", async () => {
  const path = await writeLocalConfig(`${tmp}/doctor.json`, moto.url, CREDENTIALS, {
    hosts: { "moto-doctor": { template: { AMI, INSTANCETYPE: "t3.micro" } } },
  });
  const launchedBefore = vmEntries((await probe("provider.d", "poll", "moto-a")).stdout).length;
  oned.setVersion("5.10.1");
  const result = await runProcess(
    new URL("../dist/vmm/provider/doctor", import.meta.url).pathname,
    ["moto-doctor"],
    { env: { ...ENV, HYBRID_DRIVER_CONFIG: path } },
  ).finally(() => oned.setVersion(undefined));
  assert.equal(result.code, 0, result.stdout);
  for (const check of ["config", "endpoint", "credentials", "default AMI", "launch"]) {
    assert.match(result.stdout, new RegExp(`^moto-doctor +${check} +PASS `, "m"), check);
  }
  assert.match(result.stdout, /^- +oned +PASS /m);
  // The dry run launched nothing: the wild instances moto-a sees are the same.
  assert.equal(
    vmEntries((await probe("provider.d", "poll", "moto-a")).stdout).length,
    launchedBefore,
  );
});

test("on moto, migrate between two hosts of the account retags the instance: the new host's vm/monitor reports it, the old host's no longer does", async () => {
  const id = await deploy(23, "moto-a");
  const stdin = `<MONITOR_CONFIGURATION><HOST_ID>0</HOST_ID></MONITOR_CONFIGURATION>`;
  const dir = "provider-probes.d/vm/monitor";
  const [monitor] = [...Deno.readDirSync(`${DIST}/${dir}`)].map((e) => e.name);
  const reported = async (host: string) => {
    const result = await probe(dir, monitor!, host, stdin);
    assert.equal(result.code, 0, result.stdout);
    return result.stdout.includes(`UUID="${id}", ID="23"`);
  };
  assert.deepEqual([await reported("moto-a"), await reported("moto-b")], [true, false]);
  const migrate = await runAction("migrate", [id, "moto-b", "moto-a", "23", "moto-a"], {
    stdin: oneBase64(actionData(23, "moto-a", id, { lcmState: 4 })),
    env: ENV,
  });
  assert.deepEqual(migrate, { code: 0, stdout: "", stderr: "" });
  oned.setVm(23, { state: 3, lcmState: 3, deployId: id, host: "moto-b" });
  assert.deepEqual([await reported("moto-a"), await reported("moto-b")], [false, true]);
  const poll = await runAction("poll", [id, "moto-b", "23", "moto-b"], { env: ENV });
  assert.equal(poll.code, 0, poll.stdout);
  assert.match(poll.stdout, /^STATE=a /);
});

test("on moto, a cold migration (save on one host, restore on another of the account, as 7.x does it) moves the instance's host mark, and a resume on another host too", async () => {
  const id = await deploy(24, "moto-a");
  const hostTag = async () => {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    return out.Reservations?.[0]?.Instances?.[0]?.Tags?.find((t) => t.Key === "opennebula:host")
      ?.Value;
  };
  const checkpoint = `${tmp}/checkpoint.24`;
  const save = await runAction("save", [id, checkpoint, "moto-a", "24", "moto-a"], {
    stdin: oneBase64(actionData(24, "moto-a", id, { lcmState: 7 })),
    env: ENV,
  });
  assert.deepEqual(save, { code: 0, stdout: "", stderr: "" });
  const restore = await runAction("restore", [checkpoint, "moto-b", id, "24", "moto-b"], {
    stdin: oneBase64(actionData(24, "moto-b", id, { lcmState: 9 })),
    env: ENV,
  });
  assert.deepEqual(restore, { code: 0, stdout: "", stderr: "" });
  assert.equal(await hostTag(), "moto-b");
  // Powered off on moto-b, resumed on moto-a: deploy with the VM's DEPLOY_ID (BOOT_POWEROFF).
  await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
  const xml = vmDeployment(24, { AMI, INSTANCETYPE: "t3.micro" }, { deployId: id, lcmState: 20 });
  const file = `${tmp}/deployment.24.1`;
  await Deno.writeTextFile(file, xml);
  const resumed = await runAction("deploy", [file, "moto-a", "24", "moto-a"], {
    stdin: oneBase64(xml),
    env: ENV,
  });
  assert.equal(deployedId(resumed), id);
  assert.equal(await hostTag(), "moto-a");
});

test("on moto, vm/monitor terminates the stopped instance of a VM oned reports DONE (terminated while powered off), and keeps the orphan of a VM oned does not have", async () => {
  oned.setHost(HOST_IDS["moto-a"]!, "moto-a");
  const id = await deploy(24, "moto-a");
  await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
  oned.setVm(24, { state: 8, lcmState: 0, deployId: id, host: "moto-a" });
  const stateOf = async (instance: string) =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instance] })))
      .Reservations?.[0]?.Instances?.[0]?.State?.Name;
  const stdin = `<MONITOR_CONFIGURATION><HOST_ID>0</HOST_ID></MONITOR_CONFIGURATION>`;
  const dir = "provider-probes.d/vm/monitor";
  const [monitor] = [...Deno.readDirSync(`${DIST}/${dir}`)].map((e) => e.name);
  const first = await probe(dir, monitor!, "moto-a", stdin);
  assert.equal(first.code, 0, first.stdout);
  assert.equal(first.stderr, "");
  assert.ok(["stopping", "stopped"].includes((await stateOf(id))!), "powered off: kept");
  // onevm terminate of the powered-off VM: EPILOG, DONE, and the driver is told nothing.
  oned.setVm(24, { state: 6, lcmState: 0, deployId: id, host: "moto-a" });
  const second = await probe(dir, monitor!, "moto-a", stdin);
  assert.equal(second.code, 0, second.stdout);
  assert.equal(second.stderr, `INFO: terminating ${id}: OpenNebula has its VM 24 DONE\n`);
  assert.ok(["shutting-down", "terminated"].includes((await stateOf(id))!), await stateOf(id));
  assert.equal(await stateOf(orphan), "running", "VM 22 is unknown to oned: an orphan, kept");
  assert.doesNotMatch(second.stdout, new RegExp(`${id}|${orphan}`));
});
