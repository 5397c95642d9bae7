/**
 * The soak's fault layer in front of moto: throttling and server errors answered in EC2's
 * shape without forwarding, drops that apply the call and send back nothing, and new instances
 * kept out of sight as NotFound or left out of answers.
 */

import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { instanceItems, leaveOut, startFaultProxy } from "./fault_proxy.ts";
import { sharedTest as test } from "./harness.ts";
import { useMoto } from "./moto.ts";

const moto = await useMoto();
await moto.reset();
globalThis.addEventListener("unload", () => moto.kill());

function client(url: string): EC2Client {
  return new EC2Client({
    region: "us-east-1",
    endpoint: url,
    credentials: { accessKeyId: "AKIAPROXYEXAMPLE0001", secretAccessKey: "proxySecret/K7MDENG" },
    maxAttempts: 1,
    defaultUserAgentProvider: () => Promise.resolve([["one-hybrid-tests"]]),
  });
}
const direct = client(moto.url);
globalThis.addEventListener("unload", () => direct.destroy());
const AMI = (await direct.send(new DescribeImagesCommand({ Owners: ["amazon"] }))).Images!
  .find((i) => i.RootDeviceType === "ebs" && i.Architecture === "x86_64")!.ImageId!;

/** Launches one instance through a client, tagged `form=<form>`. */
async function launch(ec2: EC2Client, form = "not-found"): Promise<string> {
  const out = await ec2.send(
    new RunInstancesCommand({
      ImageId: AMI,
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "form", Value: form }] }],
    }),
  );
  return out.Instances![0]!.InstanceId!;
}

/** Ids of the instances moto itself lists (no proxy in between). */
async function motoIds(): Promise<string[]> {
  const out = await direct.send(new DescribeInstancesCommand({}));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!);
}

/** Writes a signed-looking call on a connection of its own; returns all bytes that came back. */
async function rawCall(url: string, query: string): Promise<string> {
  const { port } = new URL(url);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  try {
    const head = "POST / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n" +
      "content-type: application/x-www-form-urlencoded\r\n" +
      "authorization: AWS4-HMAC-SHA256 Credential=AKIAPROXYEXAMPLE0001/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0\r\n" +
      `content-length: ${query.length}\r\n\r\n`;
    await conn.write(new TextEncoder().encode(head + query));
    let received = "";
    const chunk = new Uint8Array(16 * 1024);
    for (let n = await conn.read(chunk); n !== null; n = await conn.read(chunk)) {
      received += new TextDecoder().decode(chunk.subarray(0, n));
    }
    return received;
  } finally {
    conn.close();
  }
}

test("throttling and server errors answer in EC2's error shape and never reach moto", async () => {
  await moto.reset();
  for (
    const [rates, code, status] of [
      [{ throttleRate: 1 }, "RequestLimitExceeded", 503],
      [{ serverErrorRate: 1 }, "InternalError", 500],
    ] as const
  ) {
    await using proxy = startFaultProxy({ target: moto.url, ...rates });
    const ec2 = client(proxy.url);
    const error = await launch(ec2).then(() => undefined, (e) => e);
    assert.equal(error?.name, code);
    assert.equal(error?.$metadata?.httpStatusCode, status);
    assert.deepEqual(proxy.calls.map((c) => [c.action, c.fault]), [[
      "RunInstances",
      status === 503 ? "throttled" : "server-error",
    ]]);
    ec2.destroy();
  }
  const text = await (async () => {
    await using proxy = startFaultProxy({ target: moto.url, throttleRate: 1 });
    return await rawCall(proxy.url, "Action=DescribeInstances&Version=2016-11-15");
  })();
  assert.match(
    text,
    /^HTTP\/1\.1 503 .*<Response><Errors><Error><Code>RequestLimitExceeded<\/Code><Message>Request limit exceeded\.<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/s,
  );
  assert.deepEqual(await motoIds(), []);
});

test("a dropped call is applied by moto and not one byte of the answer comes back", async () => {
  await moto.reset();
  await using proxy = startFaultProxy({ target: moto.url, dropAfterApplyRate: 1 });
  const query =
    `Action=RunInstances&Version=2016-11-15&ImageId=${AMI}&InstanceType=t3.micro&MinCount=1&MaxCount=1`;
  assert.equal(await rawCall(proxy.url, query), "");
  assert.equal((await motoIds()).length, 1);
  assert.deepEqual(proxy.calls.map((c) => [c.action, c.fault, c.status]), [[
    "RunInstances",
    "dropped",
    200,
  ]]);
  assert.equal(proxy.launched.length, 1, "the proxy still knows the instance it launched");
});

test("new instances stay out of sight for the delay, as NotFound or left out, then show", async () => {
  await moto.reset();
  await using proxy = startFaultProxy({
    target: moto.url,
    visibilityDelayMs: 1_500,
    invisibleAs: (tags) => tags.get("form") === "left-out" ? "left-out" : "not-found",
  });
  const ec2 = client(proxy.url);
  const notFound = await launch(ec2, "not-found");
  const leftOut = await launch(ec2, "left-out");
  const asked = (id: string) => ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  const error = await asked(notFound).then(() => undefined, (e) => e);
  assert.equal(error?.name, "InvalidInstanceID.NotFound");
  assert.equal(error?.message, `The instance ID '${notFound}' does not exist`);
  assert.deepEqual((await asked(leftOut)).Reservations, []);
  const listed = await ec2.send(new DescribeInstancesCommand({}));
  assert.deepEqual(listed.Reservations, [], "a listing leaves both out");
  const terminate = ec2.send(new TerminateInstancesCommand({ InstanceIds: [notFound] }));
  assert.equal(
    (await terminate.then(() => undefined, (e) => e))?.name,
    "InvalidInstanceID.NotFound",
  );
  assert.deepEqual(proxy.calls.map((c) => c.notFound ?? c.leftOut ?? []), [
    [],
    [],
    [notFound],
    [leftOut],
    [notFound, leftOut],
    [notFound],
  ]);
  await new Promise((resolve) => setTimeout(resolve, 1_600));
  const later = await ec2.send(new DescribeInstancesCommand({}));
  const ids = (later.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId);
  assert.deepEqual(ids.sort(), [notFound, leftOut].sort());
  ec2.destroy();
});

Deno.test("an instance's own id is read, not a nested one, and an emptied reservation goes whole", () => {
  const xml = "<R><reservationSet>" +
    "<item><reservationId>r-1</reservationId><instancesSet>" +
    "<item><networkInterfaceSet><item><instanceId>i-nested</instanceId></item></networkInterfaceSet>" +
    "<groupSet/><instanceId>i-a</instanceId></item>" +
    "<item><instanceId>i-b</instanceId></item></instancesSet></item>" +
    "<item><reservationId>r-2</reservationId><instancesSet><item><instanceId>i-c</instanceId></item>" +
    "</instancesSet></item></reservationSet></R>";
  assert.deepEqual(instanceItems(xml).map((i) => i.id), ["i-a", "i-b", "i-c"]);
  const some = leaveOut(xml, (id) => id === "i-a");
  assert.deepEqual(instanceItems(some.xml).map((i) => i.id), ["i-b", "i-c"]);
  assert.deepEqual(some.leftOut, ["i-a"]);
  const emptied = leaveOut(xml, (id) => id === "i-c");
  assert.ok(!emptied.xml.includes("r-2"), emptied.xml);
  assert.ok(emptied.xml.includes("r-1"));
});
