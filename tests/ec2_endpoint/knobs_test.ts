/** The test knobs: injected failures, random faults, the call log and reset. */

import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { AMAZON_LINUX_AMI, startEc2Endpoint } from "./mod.ts";
import { clientFor, expectError, launchOne, rawCall } from "./testing.ts";

Deno.test("fail() fails the next calls of an action, or of any, before any state changes", async () => {
  await using ep = await startEc2Endpoint();
  const ec2 = clientFor(ep);
  ep.fail("RunInstances", { code: "InsufficientInstanceCapacity" }, 2);
  ep.fail("*", { code: "UnauthorizedOperation", message: "no", status: 403 });
  await expectError(launchOne(ec2), "InsufficientInstanceCapacity", 500);
  await expectError(launchOne(ec2), "InsufficientInstanceCapacity", 500);
  const denied = await expectError(
    ec2.send(new DescribeInstancesCommand({})),
    "UnauthorizedOperation",
    403,
  );
  assert.equal(denied.message, "no");
  assert.equal(ep.instances().length, 0);
  await launchOne(ec2);
  assert.equal(ep.instances().length, 1);
  assert.deepEqual(ep.calls.map((c) => c.errorCode), [
    "InsufficientInstanceCapacity",
    "InsufficientInstanceCapacity",
    "UnauthorizedOperation",
    undefined,
  ]);
  assert.equal(ep.countCalls("RunInstances"), 3);
  ep.reset();
  assert.deepEqual([ep.countCalls(), ep.instances()], [0, []]);
  ec2.destroy();
});

Deno.test("random faults throttle or fail a call before applying it", async () => {
  for (
    const [faults, code, status] of [
      [{ throttleRate: 1 }, "RequestLimitExceeded", 503],
      [{ serverErrorRate: 1 }, "InternalError", 500],
    ] as const
  ) {
    await using ep = await startEc2Endpoint({ faults });
    const ec2 = clientFor(ep);
    await expectError(launchOne(ec2), code, status);
    assert.equal(ep.instances().length, 0);
    ec2.destroy();
  }
});

Deno.test("an SDK client with retries rides over throttling drawn at random", async () => {
  const draws = [0.1, 0.9];
  await using ep = await startEc2Endpoint({
    faults: { throttleRate: 0.5, random: () => draws.shift() ?? 0.9 },
  });
  const ec2 = clientFor(ep, { maxAttempts: 3 });
  await launchOne(ec2);
  assert.deepEqual(ep.calls.map((c) => c.status), [503, 200]);
  ec2.destroy();
});

const LAUNCH =
  `Action=RunInstances&Version=2016-11-15&ImageId=${AMAZON_LINUX_AMI}&InstanceType=t3.micro&MinCount=1&MaxCount=1`;

Deno.test("a dropped connection leaves the call applied and not one byte of the answer sent", async () => {
  await using ep = await startEc2Endpoint({ faults: { dropAfterApplyRate: 1 } });
  assert.equal(await rawCall(ep, LAUNCH), "");
  assert.equal(ep.instances().length, 1);
  assert.equal(ep.calls[0]?.dropped, true);
});

Deno.test("a cut answer announces its whole length and stops halfway, the call applied", async () => {
  await using ep = await startEc2Endpoint({ faults: { cutAnswerRate: 1 } });
  const received = await rawCall(ep, LAUNCH);
  const [head, body] = received.split("\r\n\r\n") as [string, string];
  assert.match(head, /^HTTP\/1\.1 200 /);
  const announced = Number(/content-length: (\d+)/i.exec(head)?.[1]);
  assert.ok(body.length > 0 && body.length < announced, `${body.length} of ${announced} bytes`);
  assert.equal(ep.instances().length, 1);
  assert.equal(ep.calls[0]?.cut, true);
});

Deno.test("one draw per call decides its fault, each rate a share of all calls", async () => {
  const draws = [0.1, 0.35, 0.45, 0.55, 0.9];
  await using ep = await startEc2Endpoint({
    faults: {
      throttleRate: 0.3,
      serverErrorRate: 0.1,
      dropAfterApplyRate: 0.1,
      cutAnswerRate: 0.1,
      random: () => draws.shift() ?? 0.9,
    },
  });
  for (let i = 0; i < 5; i++) await rawCall(ep, LAUNCH);
  assert.deepEqual(
    ep.calls.map((c) => c.errorCode ?? (c.dropped ? "dropped" : c.cut ? "cut" : "answered")),
    ["RequestLimitExceeded", "InternalError", "dropped", "cut", "answered"],
  );
  assert.equal(ep.instances().length, 3, "dropped, cut and answered calls were applied");
});
