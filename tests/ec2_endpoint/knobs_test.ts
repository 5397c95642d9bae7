import {
  DescribeInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { clientFor, expectError, LAUNCH, ManualClock, withEndpoint } from "./testing.ts";

Deno.test("fail() makes the next calls of an action fail before any state change", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    ep.fail("RunInstances", { code: "InsufficientInstanceCapacity" }, 2);
    await expectError(
      ec2.send(new RunInstancesCommand(LAUNCH)),
      "InsufficientInstanceCapacity",
      500,
    );
    await expectError(
      ec2.send(new RunInstancesCommand(LAUNCH)),
      "InsufficientInstanceCapacity",
      500,
    );
    assert.equal(ep.instances().length, 0);
    await ec2.send(new RunInstancesCommand(LAUNCH));
    assert.equal(ep.instances().length, 1);
    assert.deepEqual(ep.calls.map((c) => c.errorCode ?? c.status), [
      "InsufficientInstanceCapacity",
      "InsufficientInstanceCapacity",
      200,
    ]);
  });
});

Deno.test("fail() uses the documented status, or the message and status given", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    ep.fail("DescribeInstances", { code: "Unavailable" });
    ep.fail("DescribeInstances", { code: "InternalError" });
    ep.fail("DescribeInstances", { code: "Custom.Problem", message: "teapot", status: 418 });
    await expectError(ec2.send(new DescribeInstancesCommand({})), "Unavailable", 503);
    await expectError(ec2.send(new DescribeInstancesCommand({})), "InternalError", 500);
    const custom = await expectError(
      ec2.send(new DescribeInstancesCommand({})),
      "Custom.Problem",
      418,
    );
    assert.equal(custom.message, "teapot");
    await ec2.send(new DescribeInstancesCommand({}));
  });
});

Deno.test("fail('*') fails whatever action comes next", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    ep.fail("*", { code: "RequestLimitExceeded" });
    await expectError(
      ec2.send(new TerminateInstancesCommand({ InstanceIds: ["i-0123456789abcdef0"] })),
      "RequestLimitExceeded",
      503,
    );
    await ec2.send(new DescribeInstancesCommand({}));
  });
});

Deno.test("an SDK client with retries rides over an injected throttling error", async () => {
  await withEndpoint({}, async (ep) => {
    const patient = clientFor(ep, { maxAttempts: 3, retryMode: "standard" });
    try {
      ep.fail("DescribeInstances", { code: "RequestLimitExceeded" });
      const out = await patient.send(new DescribeInstancesCommand({}));
      assert.equal(out.$metadata.attempts, 2);
      assert.equal(ep.countCalls("DescribeInstances"), 2);
    } finally {
      patient.destroy();
    }
  });
});

Deno.test("setLatency delays the calls of one action until removed", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    ep.setLatency("DescribeInstances", 150);
    let started = performance.now();
    await ec2.send(new DescribeInstancesCommand({}));
    assert.ok(performance.now() - started >= 140, "delayed");
    started = performance.now();
    await ec2.send(new RunInstancesCommand(LAUNCH));
    assert.ok(performance.now() - started < 140, "other actions are not");
    ep.setLatency("DescribeInstances", 0);
    started = performance.now();
    await ec2.send(new DescribeInstancesCommand({}));
    assert.ok(performance.now() - started < 140, "removed");
  });
});

Deno.test("throttling answers RequestLimitExceeded once a category's bucket is empty, and refills", async () => {
  const clock = new ManualClock();
  const throttle = { mutate: { capacity: 2, refillPerSecond: 1 } };
  await withEndpoint({ clock: clock.now, throttle }, async (ep, ec2) => {
    await ec2.send(new RunInstancesCommand(LAUNCH));
    await ec2.send(new RunInstancesCommand(LAUNCH));
    await expectError(ec2.send(new RunInstancesCommand(LAUNCH)), "RequestLimitExceeded", 503);
    await ec2.send(new DescribeInstancesCommand({}));
    assert.equal(ep.instances().length, 2, "the throttled call launched nothing");
    clock.advance(1_000);
    await ec2.send(new RunInstancesCommand(LAUNCH));
    await expectError(ec2.send(new RunInstancesCommand(LAUNCH)), "RequestLimitExceeded", 503);
    ep.setThrottle("mutate", undefined);
    await ec2.send(new RunInstancesCommand(LAUNCH));
    ep.setThrottle("describe", { capacity: 1, refillPerSecond: 0 });
    await ec2.send(new DescribeInstancesCommand({}));
    await expectError(ec2.send(new DescribeInstancesCommand({})), "RequestLimitExceeded", 503);
  });
});

Deno.test("countCalls counts per action and reset() forgets calls, failures and instances", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    await ec2.send(new RunInstancesCommand(LAUNCH));
    await ec2.send(new DescribeInstancesCommand({}));
    await ec2.send(new DescribeInstancesCommand({}));
    assert.equal(ep.countCalls(), 3);
    assert.equal(ep.countCalls("DescribeInstances"), 2);
    assert.equal(ep.countCalls("RunInstances"), 1);
    ep.fail("DescribeInstances", { code: "Unavailable" });
    ep.reset();
    assert.equal(ep.countCalls(), 0);
    assert.deepEqual(ep.instances(), []);
    const out = await ec2.send(new DescribeInstancesCommand({}));
    assert.deepEqual(out.Reservations, []);
  });
});

Deno.test("DryRun answers DryRunOperation (412) and launches nothing", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    await expectError(
      ec2.send(new RunInstancesCommand({ ...LAUNCH, DryRun: true })),
      "DryRunOperation",
      412,
    );
    assert.equal(ep.instances().length, 0);
  });
});

Deno.test("a key not allowed an action gets UnauthorizedOperation (403), DryRun included", async () => {
  const reader = {
    accessKeyId: "AKIAREADONLYEXAMPLE1",
    secretAccessKey: "read-only-secret",
    allowedActions: ["DescribeInstances"],
  };
  await withEndpoint({ credentials: [reader] }, async (ep) => {
    const ec2 = clientFor(ep, { credentials: reader });
    try {
      await ec2.send(new DescribeInstancesCommand({}));
      await expectError(ec2.send(new RunInstancesCommand(LAUNCH)), "UnauthorizedOperation", 403);
      await expectError(
        ec2.send(new RunInstancesCommand({ ...LAUNCH, DryRun: true })),
        "UnauthorizedOperation",
        403,
      );
      await expectError(
        ec2.send(new DescribeInstancesCommand({ DryRun: true })),
        "DryRunOperation",
        412,
      );
    } finally {
      ec2.destroy();
    }
  });
});

Deno.test("the call log keeps the flat Query parameters as the SDK serialised them", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    await ec2.send(
      new RunInstancesCommand({
        ...LAUNCH,
        SecurityGroupIds: ["sg-0fedcba9876543210"],
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "a b" }] }],
      }),
    );
    const params = ep.calls[0]!.params;
    assert.equal(params["Action"], "RunInstances");
    assert.equal(params["SecurityGroupId.1"], "sg-0fedcba9876543210");
    assert.equal(params["TagSpecification.1.ResourceType"], "instance");
    assert.equal(params["TagSpecification.1.Tag.1.Key"], "Name");
    assert.equal(params["TagSpecification.1.Tag.1.Value"], "a b");
    assert.match(params["ClientToken"] ?? "", /^[0-9a-f-]{36}$/, "the SDK fills in a ClientToken");
  });
});

Deno.test("random faults throttle or fail a call before applying it", async () => {
  const draws = [0.1, 0.9, 0.5, 0.05];
  const random = () => draws.shift() ?? 0.99;
  await withEndpoint(
    { faults: { throttleRate: 0.3, serverErrorRate: 0.1, random } },
    async (ep, ec2) => {
      // First call: 0.1 < 0.3, throttled. Second: 0.9 and 0.5, neither. Third: 0.05, throttled.
      await expectError(ec2.send(new RunInstancesCommand(LAUNCH)), "RequestLimitExceeded", 503);
      await ec2.send(new RunInstancesCommand(LAUNCH));
      await expectError(ec2.send(new RunInstancesCommand(LAUNCH)), "RequestLimitExceeded", 503);
      assert.equal(ep.instances().length, 1, "only the call that was not throttled launched");
    },
  );
});

Deno.test("a dropped connection leaves the call applied and the client without an answer", async () => {
  await withEndpoint({ faults: { dropAfterApplyRate: 1 } }, async (ep, ec2) => {
    await assert.rejects(ec2.send(new RunInstancesCommand({ ...LAUNCH, ClientToken: "drop-1" })));
    assert.equal(ep.instances().length, 1, "the launch happened");
    assert.equal(ep.calls[0]?.dropped, true);
  });
});
