/**
 * The contract suite against moto, an EC2 emulator the project did not write (LocalStack's EC2
 * is built on it): the built `dist/` actions run as oned 5.x runs them, and every outcome is
 * read back from moto through the AWS SDK, not from the driver's own view.
 *
 * What moto proves and what it cannot: moto answers the EC2 Query API as its authors read it
 * (tag and state filters, idempotency fields, Elastic IPs, images, error codes), so passing here
 * shows the driver depends on nothing that only the project's endpoint does. moto changes state
 * at once, does not deduplicate `ClientToken`, has no eventual consistency and no throttling;
 * those behaviours are proven against the project's endpoint (`tests/lifecycle_test.ts`,
 * `tests/actions_test.ts`, `lab/soak.ts`), and the soak puts moto behind a fault layer
 * (`tests/fault_proxy.ts`) that adds throttling, lost answers and late visibility.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  AllocateAddressCommand,
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  type Instance,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { SimulatedVm } from "./one_vmm.ts";
import { actionData, vmDeployment, writeDeployment } from "./deployments.ts";
import {
  failureLine,
  monitoringPairs,
  oneBase64,
  runAction,
  sharedTest as test,
  writeLocalConfig,
} from "./harness.ts";
import { useMoto } from "./moto.ts";

const HOST = "moto-us-east-1";
const CREDENTIALS = {
  accessKeyId: "AKIAMOTOEXAMPLE00001",
  secretAccessKey: "motoSecret/K7MDENG/x1",
};

const moto = await useMoto();
await moto.reset();
const ec2 = new EC2Client({
  region: "us-east-1",
  endpoint: moto.url,
  credentials: CREDENTIALS,
  // The default user agent reads os.release(), which needs --allow-sys.
  defaultUserAgentProvider: () => Promise.resolve([["one-hybrid-tests"]]),
});
const tmp = await Deno.makeTempDir({ prefix: "hybrid-moto-" });
const config = await writeLocalConfig(`${tmp}/hybrid_driver.json`, moto.url, CREDENTIALS, {
  defaults: { statePollSeconds: 0.1, notFoundRetrySeconds: 1 },
});
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };
globalThis.addEventListener("unload", () => {
  ec2.destroy();
  moto.kill();
  Deno.removeSync(tmp, { recursive: true });
});

/** An AMI moto knows (its default images). */
const AMI =
  (await ec2.send(new DescribeImagesCommand({ Owners: ["amazon"] }))).Images?.find((i) =>
    i.RootDeviceType === "ebs" && i.Architecture === "x86_64"
  )?.ImageId ?? "";
assert.match(AMI, /^ami-/, "moto lists a default x86_64 EBS image");
const SECTION = { AMI, INSTANCETYPE: "t3.micro", TAGS: "team=web" };

function vm(id: number, section: Record<string, string> = SECTION): SimulatedVm {
  return new SimulatedVm("5.x", id, HOST, section, tmp, ENV);
}

/** moto's instances of an OpenNebula VM, by the driver's tag, in any state. */
async function instancesOfVm(vmId: number): Promise<Instance[]> {
  const out = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [{ Name: "tag:opennebula:vm-id", Values: [String(vmId)] }],
    }),
  );
  return out.Reservations?.flatMap((r) => r.Instances ?? []) ?? [];
}

async function instance(id: string): Promise<Instance> {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  const found = out.Reservations?.[0]?.Instances?.[0];
  assert.ok(found, `moto has no instance ${id}`);
  return found;
}

const stateOf = async (id: string) => (await instance(id)).State?.Name;
const tagsOf = (i: Instance) => Object.fromEntries((i.Tags ?? []).map((t) => [t.Key, t.Value]));

test("moto: deploys of several VMs in one account each launch one tagged, running instance", async () => {
  const ids: string[] = [];
  for (const vmId of [701, 702, 703]) {
    const v = vm(vmId);
    assert.match(await v.deploy(), new RegExp(`^DEPLOY SUCCESS ${vmId} i-[0-9a-f]{17}$`));
    ids.push(v.deployId!);
  }
  assert.equal(new Set(ids).size, 3);
  for (const [index, vmId] of [701, 702, 703].entries()) {
    const found = await instancesOfVm(vmId);
    assert.equal(found.length, 1, `one instance for VM ${vmId}`);
    assert.equal(found[0]?.InstanceId, ids[index]);
    assert.equal(found[0]?.State?.Name, "running");
    const tags = tagsOf(found[0]!);
    assert.equal(tags["opennebula:host"], HOST);
    assert.equal(tags["opennebula:driver"], "one-hybrid");
    assert.equal(tags["opennebula:launch-token"], found[0]?.ClientToken);
    assert.equal(tags.Name, `one-${vmId}-web-${vmId}`);
    assert.equal(tags.team, "web");
  }
});

test("moto: a retried deploy returns the first instance and launches nothing, though moto does not deduplicate tokens", async () => {
  const v = vm(704);
  const first = await v.deploy();
  assert.equal(await v.retryDeploy(), first);
  assert.equal(await v.retryDeploy(), first);
  assert.equal((await instancesOfVm(704)).length, 1);
});

test("moto: a deployment whose instance was terminated outside OpenNebula launches a new one", async () => {
  const v = vm(705);
  await v.deploy();
  const old = v.deployId!;
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [old] }));
  assert.match(await v.retryDeploy(), /^DEPLOY SUCCESS 705 i-[0-9a-f]{17}$/);
  assert.notEqual(v.deployId, old);
  assert.equal(await stateOf(v.deployId!), "running");
  const live = (await instancesOfVm(705)).filter((i) => i.State?.Name !== "terminated");
  assert.equal(live.length, 1);
});

test("moto: poll reports the facts moto gives for the instance", async () => {
  const v = vm(706);
  await v.deploy();
  const described = await instance(v.deployId!);
  const reply = await v.poll();
  assert.match(reply, /^POLL SUCCESS 706 STATE=a /);
  const pairs = monitoringPairs(reply.slice("POLL SUCCESS 706 ".length));
  assert.equal(pairs.AWS_STATE, "running");
  assert.equal(pairs.AWS_INSTANCE_TYPE, "t3.micro");
  assert.equal(pairs.AWS_IMAGE_ID, AMI);
  assert.equal(pairs.AWS_PRIVATE_IP_ADDRESS, described.PrivateIpAddress);
  assert.equal(pairs.AWS_AVAILABILITY_ZONE, described.Placement?.AvailabilityZone);
  assert.equal(pairs.MEMORY, String(1024 * 1024), "t3.micro's 1 GiB, in KiB");
});

test("moto: a poll served from the shared listing prints byte for byte what a poll that describes the instance alone prints", async () => {
  const v = vm(716);
  await v.deploy();
  const id = v.deployId!;
  const stateDir = `${tmp}/poll-state-716`;
  const shared = await writeLocalConfig(`${tmp}/shared.json`, moto.url, CREDENTIALS, {
    defaults: { pollWindowSeconds: 60, pollStateDir: stateDir },
  });
  const direct = await writeLocalConfig(`${tmp}/direct.json`, moto.url, CREDENTIALS, {
    defaults: { pollWindowSeconds: 0 },
  });
  const poll = (config: string) =>
    runAction("poll", [id, HOST, "716"], { env: { ...ENV, HYBRID_DRIVER_CONFIG: config } });
  const listing = await poll(shared);
  const [file] = [...Deno.readDirSync(stateDir)].filter((e) => e.name.endsWith(".listing"));
  const listed = await Deno.stat(`${stateDir}/${file!.name}`);
  const served = await poll(shared);
  assert.deepEqual(
    (await Deno.stat(`${stateDir}/${file!.name}`)).mtime,
    listed.mtime,
    "the second poll was served from the first one's listing",
  );
  const described = await poll(direct);
  assert.equal(described.code, 0);
  assert.match(described.stdout, /^STATE=a USEDMEMORY=1048576 AWS_STATE=running /);
  assert.deepEqual(listing, described);
  assert.deepEqual(served, described);
});

test("moto: the whole life-cycle keeps one instance: save, restore, reboot, reset, power-off, resume, undeploy, resume, terminate", async () => {
  const v = vm(707);
  await v.deploy();
  const id = v.deployId!;
  assert.equal(await v.save(), "SAVE SUCCESS 707 -");
  assert.equal(await stateOf(id), "stopped");
  assert.equal(JSON.parse(await Deno.readTextFile(v.checkpointFile)).deployId, id);
  assert.match(await v.poll(), /^POLL SUCCESS 707 STATE=p AWS_STATE=stopped /);
  assert.equal(await v.restore(), "RESTORE SUCCESS 707 -");
  assert.equal(await stateOf(id), "running");
  assert.equal(await v.reboot(), "REBOOT SUCCESS 707 -");
  assert.equal(await v.reset(), "RESET SUCCESS 707 -");
  assert.equal(await stateOf(id), "running");
  assert.equal(await v.poweroff(), "SHUTDOWN SUCCESS 707 -");
  assert.equal(await stateOf(id), "stopped", "power-off keeps the instance");
  assert.equal(await v.resumeFromPoweroff(), `DEPLOY SUCCESS 707 ${id}`);
  assert.equal(await stateOf(id), "running");
  assert.equal(await v.undeploy(true), "CANCEL SUCCESS 707 -");
  assert.equal(await stateOf(id), "stopped", "undeploy --hard keeps the instance");
  assert.equal(await v.resumeFromUndeploy(), `DEPLOY SUCCESS 707 ${id}`);
  assert.equal(await v.terminate(true), "CANCEL SUCCESS 707 -");
  assert.equal(await stateOf(id), "terminated");
  assert.match(await v.poll(), /^POLL SUCCESS 707 STATE=d AWS_STATE=terminated /);
  assert.equal((await instancesOfVm(707)).length, 1, "one instance for the whole life-cycle");
});

test("moto: ELASTICIP is associated once the instance runs, and a retried deploy keeps it", async () => {
  const address = await ec2.send(new AllocateAddressCommand({ Domain: "vpc" }));
  const v = vm(708, { ...SECTION, ELASTICIP: address.PublicIp! });
  await v.deploy();
  const held = await ec2.send(new DescribeAddressesCommand({ PublicIps: [address.PublicIp!] }));
  assert.equal(held.Addresses?.[0]?.InstanceId, v.deployId);
  assert.equal(await v.retryDeploy(), `DEPLOY SUCCESS 708 ${v.deployId}`);
  assert.match(
    await v.poll(),
    new RegExp(`AWS_PUBLIC_IP_ADDRESS=${address.PublicIp!.replaceAll(".", "\\.")}( |$)`),
  );
});

test("moto: ELASTICIP held by another VM fails the deploy, takes nothing and terminates the new instance", async () => {
  const address = await ec2.send(new AllocateAddressCommand({ Domain: "vpc" }));
  const section = { ...SECTION, ELASTICIP: address.PublicIp! };
  const holder = vm(709, section);
  await holder.deploy();
  const v = vm(710, section);
  const reply = await v.deploy();
  assert.match(
    reply,
    /^DEPLOY FAILURE 710 Cannot associate Elastic IP .*; instance i-[0-9a-f]{17} was terminated$/,
  );
  const held = await ec2.send(new DescribeAddressesCommand({ PublicIps: [address.PublicIp!] }));
  assert.equal(held.Addresses?.[0]?.InstanceId, holder.deployId, "the address stays with its VM");
  const states = (await instancesOfVm(710)).map((i) => i.State?.Name);
  assert.deepEqual(states, ["terminated"]);
});

test("moto: checkpoint creates an image of the running instance, tagged with the VM id", async () => {
  const v = vm(711);
  await v.deploy();
  const file = `${tmp}/vms/711/checkpoint`;
  assert.equal(await v.other("checkpoint", [file]), "CHECKPOINT SUCCESS 711 -");
  const written = JSON.parse(await Deno.readTextFile(file));
  const images = await ec2.send(new DescribeImagesCommand({ ImageIds: [written.imageId] }));
  const tags = tagsOf(images.Images![0]! as Instance);
  assert.equal(tags["opennebula:vm-id"], "711");
  assert.equal(await stateOf(v.deployId!), "running", "no reboot, no stop");
});

test("moto: a subnet moto does not know fails the deploy with moto's code and launches nothing", async () => {
  const xml = vmDeployment(712, { ...SECTION, SUBNETID: "subnet-0000000000000dead" });
  const path = await writeDeployment(tmp, 712, xml);
  const result = await runAction("deploy", [path, HOST, "712", HOST], {
    stdin: oneBase64(xml),
    env: ENV,
  });
  assert.equal(
    failureLine(result),
    "Cannot launch instance: InvalidSubnetID.NotFound: The subnet ID 'subnet-0000000000000dead' does not exist",
  );
  assert.deepEqual(await instancesOfVm(712), []);
});

test("moto: rejected input fails with one line and launches nothing", async () => {
  const cases: [number, Record<string, string>, string][] = [
    [
      720,
      { ...SECTION, KEYPAIRR: "one-key" },
      "KEYPAIRR: unknown PUBLIC_CLOUD attribute; did you mean KEYPAIR?",
    ],
    [721, { ...SECTION, INSTANCETYPE: "t3 micro" }, "INSTANCETYPE"],
    [722, { ...SECTION, AMI: "not-an-ami" }, "AMI"],
  ];
  for (const [vmId, section, says] of cases) {
    const xml = vmDeployment(vmId, section);
    const path = await writeDeployment(tmp, vmId, xml);
    const result = await runAction("deploy", [path, HOST, String(vmId), HOST], {
      stdin: oneBase64(xml),
      env: ENV,
    });
    assert.ok(failureLine(result).includes(says), result.stdout);
    assert.deepEqual(await instancesOfVm(vmId), []);
  }
});

test("moto: shutdown and poll of an id moto does not know", async () => {
  const unknown = "i-0123456789abcdef0";
  // Deployed long ago (action data): an id the cloud does not know is gone.
  const old = oneBase64(actionData(714, HOST, unknown, { stime: 1_000_000_000 }));
  const poll = await runAction("poll", [unknown, HOST, "714", HOST], { stdin: old, env: ENV });
  assert.equal(poll.code, 0);
  assert.match(poll.stdout, /^STATE=d /);
  const shutdown = await runAction("shutdown", [unknown, HOST, "714", HOST], {
    stdin: oneBase64(actionData(714, HOST, unknown, { lcmState: 12 })),
    env: ENV,
  });
  assert.deepEqual(shutdown, { code: 0, stdout: "", stderr: "" });
});

test("moto: a deploy that names another VM's instance is refused and starts nothing", async () => {
  const owner = vm(715);
  await owner.deploy();
  await owner.poweroff();
  const xml = vmDeployment(716, SECTION, { deployId: owner.deployId!, lcmState: 20 });
  const path = await writeDeployment(tmp, 716, xml);
  const result = await runAction("deploy", [path, HOST, "716", HOST], {
    stdin: oneBase64(xml),
    env: ENV,
  });
  assert.equal(
    failureLine(result),
    `Cannot resume VM 716: instance ${owner.deployId} was launched for VM 715, not VM 716`,
  );
  assert.equal(await stateOf(owner.deployId!), "stopped");
});

test("moto: a deploy past its host's vCPUs is refused, sizing a type the driver's table does not know by DescribeInstanceTypes", async () => {
  const capped = await writeLocalConfig(`${tmp}/capacity.json`, moto.url, CREDENTIALS, {
    defaults: { statePollSeconds: 0.1, notFoundRetrySeconds: 1 },
    hosts: { "moto-capacity": { capacity: { vcpus: 3, memoryGiB: 64 } } },
  });
  const env = { ...ENV, HYBRID_DRIVER_CONFIG: capped };
  const first = new SimulatedVm(
    "5.x",
    761,
    "moto-capacity",
    { ...SECTION, INSTANCETYPE: "i4i.large" },
    tmp,
    env,
  );
  assert.match(await first.deploy(), /^DEPLOY SUCCESS 761 i-[0-9a-f]{17}$/);
  const second = new SimulatedVm("5.x", 762, "moto-capacity", SECTION, tmp, env);
  assert.equal(
    await second.deploy(),
    "DEPLOY FAILURE 762 Cannot deploy VM 762 to host moto-capacity: its capacity allows 3 vCPUs, pending and running instances hold 2 and t3.micro needs 2",
  );
  assert.deepEqual(await instancesOfVm(762), []);
  assert.match(await first.deploy(), /^DEPLOY SUCCESS 761 /, "a retry is not refused by itself");
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [first.deployId!] }));
});
