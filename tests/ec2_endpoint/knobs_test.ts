/** The test knobs: injected failures, random faults, the call log and reset. */

import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { startEc2Endpoint } from "./mod.ts";
import { clientFor, expectError, launchOne } from "./testing.ts";

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

Deno.test("a dropped connection leaves the call applied and the client without an answer", async () => {
  await using ep = await startEc2Endpoint({ faults: { dropAfterApplyRate: 1 } });
  const ec2: EC2Client = clientFor(ep);
  await assert.rejects(launchOne(ec2));
  assert.equal(ep.instances().length, 1);
  assert.equal(ep.calls[0]?.dropped, true);
  ec2.destroy();
});
