/**
 * The template keys beyond the basics (Elastic IP, Spot, instance profile, volumes, IMDS,
 * contextualization) and the checkpoint action, run through the built `dist/` actions as oned
 * runs them, checked against what the local EC2 endpoint recorded.
 */

import assert from "node:assert/strict";
import {
  AMAZON_LINUX_AMI,
  DATA_SNAPSHOT,
  DEFAULT_SECURITY_GROUP,
  type Ec2Endpoint,
  EIP_ADDRESS_A,
  EIP_ADDRESS_B,
  EIP_ALLOCATION_B,
  INSTANCE_PROFILE,
  startEc2Endpoint,
  SUBNET_A,
  TEST_CREDENTIALS,
} from "./ec2_endpoint/mod.ts";
import { actionData, type Section, vmDeployment, writeDeployment } from "./deployments.ts";
import {
  type ActionResult,
  deployedId,
  failureLine,
  instanceOf,
  instancesOfVm as instancesOfVmIn,
  monitoringPairs,
  oneBase64,
  runAction,
  sharedTest as test,
  writeLocalConfig,
} from "./harness.ts";

const HOST = "aws-test";
const BASE: Section = {
  AMI: AMAZON_LINUX_AMI,
  INSTANCETYPE: "t3.micro",
  SECURITYGROUPIDS: DEFAULT_SECURITY_GROUP,
  SUBNETID: SUBNET_A,
};

const tmp = await Deno.makeTempDir({ prefix: "hybrid-template-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const ep: Ec2Endpoint = await startEc2Endpoint({
  timing: { pendingMs: 100, shuttingDownMs: 100, imageMs: 200 },
});
const config = await writeLocalConfig(`${tmp}/hybrid_driver.json`, ep.url, TEST_CREDENTIALS, {
  defaults: { statePollSeconds: 0.05, notFoundRetrySeconds: 1 },
});
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };

/** Deploys as oned 5.x does: the deployment file's path, and the file base64 on stdin. */
async function deploy(vmId: number, section: Section, context?: Section): Promise<ActionResult> {
  const xml = vmDeployment(vmId, { ...BASE, ...section }, context ? { context } : {});
  const path = await writeDeployment(tmp, vmId, xml);
  return await runAction("deploy", [path, HOST, String(vmId), HOST], {
    stdin: oneBase64(xml),
    env: ENV,
  });
}

const instance = (id: string) => instanceOf(ep, id);
const instancesOfVm = (vmId: number) => instancesOfVmIn(ep, vmId);

async function poll(vmId: number, id: string): Promise<Record<string, string>> {
  const result = await runAction("poll", [id, HOST, String(vmId), HOST], {
    stdin: oneBase64(actionData(vmId, HOST, id)),
    env: ENV,
  });
  assert.equal(result.code, 0, result.stdout);
  return monitoringPairs(result.stdout);
}

test("ELASTICIP: deploy associates the address once the instance runs, and poll reports it", async () => {
  ep.reset();
  const id = deployedId(await deploy(501, { ELASTICIP: EIP_ADDRESS_A }));
  assert.equal(instance(id).state, "running");
  assert.equal(instance(id).elasticIp?.publicIp, EIP_ADDRESS_A);
  const address = ep.addresses("us-east-1").find((a) => a.publicIp === EIP_ADDRESS_A);
  assert.equal(address?.instanceId, id);
  const facts = await poll(501, id);
  assert.equal(facts.AWS_PUBLIC_IP_ADDRESS, EIP_ADDRESS_A);
});

test("ELASTICIP by allocation id, with a retried deploy associating nothing twice", async () => {
  ep.reset();
  const id = deployedId(await deploy(502, { ELASTICIP: EIP_ALLOCATION_B }));
  assert.equal(instance(id).elasticIp?.publicIp, EIP_ADDRESS_B);
  assert.equal(ep.countCalls("AssociateAddress"), 1);
  assert.equal(deployedId(await deploy(502, { ELASTICIP: EIP_ALLOCATION_B })), id);
  assert.equal(ep.countCalls("RunInstances"), 1);
  assert.equal(ep.countCalls("AssociateAddress"), 1, "already associated: left alone");
});

test("ELASTICIP held by another VM fails the deploy, terminates the new instance and takes nothing", async () => {
  ep.reset();
  const first = deployedId(await deploy(503, { ELASTICIP: EIP_ADDRESS_A }));
  const line = failureLine(await deploy(504, { ELASTICIP: EIP_ADDRESS_A }));
  const [second] = instancesOfVm(504);
  assert.ok(second, "the second deploy launched an instance");
  assert.match(
    line,
    new RegExp(
      `^Cannot associate Elastic IP ${EIP_ADDRESS_A} with ${second.instanceId}: .*Resource\\.AlreadyAssociated.*; instance ${second.instanceId} was terminated$`,
    ),
  );
  assert.ok(["shutting-down", "terminated"].includes(instance(second.instanceId).state));
  assert.equal(instance(first).elasticIp?.publicIp, EIP_ADDRESS_A, "the first VM keeps it");
});

test("ELASTICIP that the account does not hold fails the deploy and leaves no instance running", async () => {
  ep.reset();
  const line = failureLine(await deploy(505, { ELASTICIP: "198.51.100.77" }));
  assert.match(line, /^Cannot associate Elastic IP 198\.51\.100\.77 with i-[0-9a-f]{17}: /);
  assert.match(line, /was terminated$/);
  assert.deepEqual(
    instancesOfVm(505).map((i) => i.state).filter((s) => s === "running" || s === "pending"),
    [],
  );
});

test("SPOT=yes launches a one-time Spot Instance, and poll says so", async () => {
  ep.reset();
  const id = deployedId(await deploy(511, { SPOT: "yes", SPOTPRICE: "0.01" }));
  assert.equal(instance(id).instanceLifecycle, "spot");
  assert.equal(instance(id).spotInstanceType, "one-time");
  assert.equal((await poll(511, id)).AWS_INSTANCE_LIFECYCLE, "spot");
});

test("SPOTPRICE below the current Spot price fails with SpotMaxPriceTooLow and launches nothing", async () => {
  ep.reset();
  const line = failureLine(await deploy(512, { SPOT: "yes", SPOTPRICE: "0.002" }));
  assert.match(line, /SpotMaxPriceTooLow/);
  assert.deepEqual(instancesOfVm(512), []);
});

test("IAMINSTANCEPROFILE, ROOTVOLUMESIZE, BLOCKDEVICEMAPPING and METADATA_HTTP_TOKENS reach the instance", async () => {
  ep.reset();
  const id = deployedId(
    await deploy(521, {
      IAMINSTANCEPROFILE: INSTANCE_PROFILE,
      ROOTVOLUMESIZE: "30",
      ROOTVOLUMETYPE: "gp3",
      BLOCKDEVICEMAPPING: `/dev/sdf=${DATA_SNAPSHOT}:40:true:gp3`,
      METADATA_HTTP_TOKENS: "optional",
    }),
  );
  const launched = instance(id);
  assert.match(launched.iamInstanceProfileArn ?? "", /:instance-profile\/one-burst-role$/);
  assert.equal(launched.metadataHttpTokens, "optional");
  const devices = launched.blockDevices.map((d) => [d.deviceName, d.sizeGiB, d.volumeType]);
  assert.deepEqual(devices, [["/dev/xvda", 30, "gp3"], ["/dev/sdf", 40, "gp3"]]);
  assert.equal(launched.blockDevices[1]?.snapshotId, DATA_SNAPSHOT);
  assert.equal(ep.countCalls("DescribeImages"), 1, "the root device name comes from the AMI");
});

test("without METADATA_HTTP_TOKENS the instance requires IMDSv2", async () => {
  ep.reset();
  const id = deployedId(await deploy(522, {}));
  assert.equal(instance(id).metadataHttpTokens, "required");
});

test("a snapshot that does not exist fails with the EC2 code and launches nothing", async () => {
  ep.reset();
  const line = failureLine(
    await deploy(523, { BLOCKDEVICEMAPPING: "/dev/sdf=snap-0deadbeefdeadbee0:40" }),
  );
  assert.match(line, /InvalidSnapshot\.NotFound/);
  assert.deepEqual(instancesOfVm(523), []);
});

test("CONTEXT becomes a #cloud-config with the SSH key, the host name and the variables", async () => {
  ep.reset();
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 ops@front";
  const id = deployedId(
    await deploy(531, {}, {
      SSH_PUBLIC_KEY: key,
      SET_HOSTNAME: "web-531",
      APP_ROLE: "frontend",
      ETH0_IP: "10.0.0.5",
      TARGET: "hda",
    }),
  );
  const userData = new TextDecoder().decode(
    Uint8Array.from(atob(instance(id).userData ?? ""), (c) => c.charCodeAt(0)),
  );
  assert.match(userData, /^#cloud-config\n/);
  assert.ok(userData.includes(key), userData);
  assert.match(userData, /hostname: "?web-531"?/);
  assert.ok(userData.includes("APP_ROLE='frontend'"), userData);
  assert.ok(!userData.includes("ETH0_IP"), "a local network's settings are left out");
  assert.ok(!userData.includes("TARGET"), "the context disk's settings are left out");
});

test("a CONTEXT over EC2's 16 KB user-data limit fails before any API call", async () => {
  ep.reset();
  const line = failureLine(await deploy(532, {}, { BLOB: "x".repeat(17_000) }));
  assert.match(line, /16384/);
  assert.equal(ep.calls.length, 0);
});

test("checkpoint records an AMI of the running instance, tagged with the VM id, without stopping it", async () => {
  ep.reset();
  const id = deployedId(await deploy(541, {}));
  const file = `${tmp}/vms/541/checkpoint`;
  const result = await runAction("checkpoint", [id, file, HOST, "541", HOST], {
    stdin: oneBase64(actionData(541, HOST, id)),
    env: ENV,
  });
  assert.deepEqual(result, { code: 0, stdout: "", stderr: "" });
  const written = JSON.parse(await Deno.readTextFile(file));
  assert.equal(written.kind, "checkpoint");
  assert.equal(written.deployId, id);
  assert.match(written.imageId, /^ami-[0-9a-f]{17}$/);
  const image = ep.images("us-east-1").find((i) => i.imageId === written.imageId);
  assert.ok(image, "the endpoint has the image");
  assert.equal(image.sourceInstanceId, id);
  assert.equal(image.tags["opennebula:vm-id"], "541");
  assert.equal(instance(id).state, "running");
  assert.equal(instance(id).rebootCount, 0, "NoReboot: the VM kept running");
});

test("checkpoint of an instance the cloud does not know fails and writes no file", async () => {
  ep.reset();
  const file = `${tmp}/vms/542/checkpoint`;
  await Deno.mkdir(`${tmp}/vms/542`, { recursive: true });
  const result = await runAction(
    "checkpoint",
    ["i-0123456789abcdef0", file, HOST, "542", HOST],
    { env: ENV },
  );
  assert.match(failureLine(result), /InvalidInstanceID\.NotFound/);
  await assert.rejects(Deno.stat(file), Deno.errors.NotFound);
  assert.equal(ep.countCalls("CreateImage"), 0);
});
