import {
  DescribeInstancesCommand,
  RebootInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { AMAZON_LINUX_AMI, DEFAULT_TIMING, REALISTIC_TIMING } from "./mod.ts";
import {
  describeOne,
  expectError,
  launchOne,
  ManualClock,
  rawRequest,
  sleep,
  withEndpoint,
} from "./testing.ts";

const TIMING = {
  pendingMs: 300,
  stoppingMs: 300,
  shuttingDownMs: 300,
  terminatedRetentionMs: 5_000,
};
const USER_INITIATED = /^User initiated \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\)$/;

Deno.test("a launched instance is pending for pendingMs, then running", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (_ep, ec2) => {
    const id = await launchOne(ec2);
    clock.advance(299);
    const pending = await describeOne(ec2, id);
    assert.deepEqual(pending.State, { Code: 0, Name: "pending" });
    assert.deepEqual(pending.StateReason, { Code: "pending", Message: "pending" });
    clock.advance(1);
    const running = await describeOne(ec2, id);
    assert.deepEqual(running.State, { Code: 16, Name: "running" });
    assert.equal(running.StateReason, undefined);
    assert.equal(running.StateTransitionReason, "");
  });
});

Deno.test("StopInstances moves running to stopping, then stopped without a public address", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (_ep, ec2) => {
    const id = await launchOne(ec2);
    clock.advance(300);
    assert.ok((await describeOne(ec2, id)).PublicIpAddress);
    const out = await ec2.send(new StopInstancesCommand({ InstanceIds: [id], Force: true }));
    assert.deepEqual(out.StoppingInstances, [
      {
        InstanceId: id,
        CurrentState: { Code: 64, Name: "stopping" },
        PreviousState: { Code: 16, Name: "running" },
      },
    ]);
    clock.advance(300);
    const stopped = await describeOne(ec2, id);
    assert.deepEqual(stopped.State, { Code: 80, Name: "stopped" });
    assert.equal(stopped.PublicIpAddress, undefined);
    assert.equal(stopped.PublicDnsName, "");
    assert.ok(stopped.PrivateIpAddress, "keeps its private address");
    assert.match(stopped.StateTransitionReason ?? "", USER_INITIATED);
    assert.deepEqual(stopped.StateReason, {
      Code: "Client.UserInitiatedShutdown",
      Message: "Client.UserInitiatedShutdown: User initiated shutdown",
    });
    const again = await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(again.StoppingInstances?.[0]?.CurrentState, { Code: 80, Name: "stopped" });
    assert.deepEqual(again.StoppingInstances?.[0]?.PreviousState, { Code: 80, Name: "stopped" });
  });
});

Deno.test("StartInstances of a stopped instance goes pending then running with a new launch time", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (_ep, ec2) => {
    const id = await launchOne(ec2);
    clock.advance(300);
    const firstLaunch = (await describeOne(ec2, id)).LaunchTime!;
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    clock.advance(1_000);
    const out = await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(out.StartingInstances?.[0]?.PreviousState, { Code: 80, Name: "stopped" });
    assert.deepEqual(out.StartingInstances?.[0]?.CurrentState, { Code: 0, Name: "pending" });
    clock.advance(300);
    const running = await describeOne(ec2, id);
    assert.equal(running.State?.Name, "running");
    assert.ok(running.LaunchTime! > firstLaunch);
    assert.ok(running.PublicIpAddress);
  });
});

Deno.test("StartInstances of a running instance changes nothing and returns its state", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (_ep, ec2) => {
    const id = await launchOne(ec2);
    clock.advance(300);
    const out = await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(out.StartingInstances, [
      {
        InstanceId: id,
        CurrentState: { Code: 16, Name: "running" },
        PreviousState: { Code: 16, Name: "running" },
      },
    ]);
  });
});

Deno.test("StopInstances of a pending instance fails with IncorrectInstanceState", async () => {
  await withEndpoint({ timing: TIMING }, async (_ep, ec2) => {
    const id = await launchOne(ec2);
    const error = await expectError(
      ec2.send(new StopInstancesCommand({ InstanceIds: [id] })),
      "IncorrectInstanceState",
      400,
    );
    assert.match(error.message, /is not in a state from which it can be stopped/);
  });
});

Deno.test("TerminateInstances shuts down, terminates after shuttingDownMs, and the instance vanishes after retention", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const id = await launchOne(ec2);
    clock.advance(300);
    const out = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(out.TerminatingInstances, [
      {
        InstanceId: id,
        CurrentState: { Code: 32, Name: "shutting-down" },
        PreviousState: { Code: 16, Name: "running" },
      },
    ]);
    clock.advance(300);
    const gone = await describeOne(ec2, id);
    assert.deepEqual(gone.State, { Code: 48, Name: "terminated" });
    assert.equal(gone.PrivateIpAddress, undefined);
    assert.equal(gone.PublicIpAddress, undefined);
    assert.equal(gone.SubnetId, undefined);
    assert.match(gone.StateTransitionReason ?? "", USER_INITIATED);

    const again = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(again.TerminatingInstances?.[0]?.CurrentState, {
      Code: 48,
      Name: "terminated",
    });
    assert.deepEqual(again.TerminatingInstances?.[0]?.PreviousState, {
      Code: 48,
      Name: "terminated",
    });
    await expectError(
      ec2.send(new StartInstancesCommand({ InstanceIds: [id] })),
      "IncorrectInstanceState",
      400,
    );
    await expectError(
      ec2.send(new StopInstancesCommand({ InstanceIds: [id] })),
      "IncorrectInstanceState",
      400,
    );

    clock.advance(4_999);
    assert.equal((await describeOne(ec2, id)).State?.Name, "terminated");
    clock.advance(1);
    await expectError(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })),
      "InvalidInstanceID.NotFound",
    );
    assert.equal(ep.instances().length, 0);
  });
});

Deno.test("a state change naming one unknown instance changes none of them", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (_ep, ec2) => {
    const id = await launchOne(ec2);
    clock.advance(300);
    await expectError(
      ec2.send(new TerminateInstancesCommand({ InstanceIds: [id, "i-0123456789abcdef0"] })),
      "InvalidInstanceID.NotFound",
    );
    assert.equal((await describeOne(ec2, id)).State?.Name, "running");
  });
});

Deno.test("RebootInstances needs a running instance", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (_ep, ec2) => {
    const id = await launchOne(ec2);
    await expectError(
      ec2.send(new RebootInstancesCommand({ InstanceIds: [id] })),
      "IncorrectInstanceState",
    );
    clock.advance(300);
    await ec2.send(new RebootInstancesCommand({ InstanceIds: [id] }));
    assert.equal((await describeOne(ec2, id)).State?.Name, "running");
  });
});

Deno.test("a Spot Instance of a one-time request cannot be stopped", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (_ep, ec2) => {
    const id = await launchOne(ec2, { InstanceMarketOptions: { MarketType: "spot" } });
    clock.advance(300);
    await expectError(
      ec2.send(new StopInstancesCommand({ InstanceIds: [id] })),
      "UnsupportedOperation",
      400,
    );
  });
});

Deno.test("setInstanceState simulates a termination from outside, with its reason", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const id = await launchOne(ec2, { InstanceMarketOptions: { MarketType: "spot" } });
    clock.advance(300);
    const reason = {
      code: "Server.SpotInstanceTermination",
      message: "Server.SpotInstanceTermination: Spot instance termination",
    };
    assert.equal(ep.setInstanceState(id, "shutting-down", reason).state, "shutting-down");
    clock.advance(300);
    const gone = await describeOne(ec2, id);
    assert.equal(gone.State?.Name, "terminated");
    assert.equal(gone.StateReason?.Code, "Server.SpotInstanceTermination");
    assert.match(gone.StateTransitionReason ?? "", /^Server initiated/);
    assert.throws(() => ep.setInstanceState("i-0000000000000000a", "stopped"), /No instance/);
  });
});

Deno.test("transitions follow the wall clock by default", async () => {
  await withEndpoint({ timing: { pendingMs: 40 } }, async (_ep, ec2) => {
    const id = await launchOne(ec2);
    assert.equal((await describeOne(ec2, id)).State?.Name, "pending");
    await sleep(60);
    assert.equal((await describeOne(ec2, id)).State?.Name, "running");
  });
});

Deno.test("StartInstances beyond the type's capacity fails with InsufficientInstanceCapacity", async () => {
  const clock = new ManualClock();
  await withEndpoint(
    { clock: clock.now, timing: TIMING, capacity: { "t3.micro": 1 } },
    async (_ep, ec2) => {
      const first = await launchOne(ec2);
      clock.advance(300);
      await ec2.send(new StopInstancesCommand({ InstanceIds: [first] }));
      clock.advance(300);
      await launchOne(ec2);
      await expectError(
        ec2.send(new StartInstancesCommand({ InstanceIds: [first] })),
        "InsufficientInstanceCapacity",
        500,
      );
      assert.equal((await describeOne(ec2, first)).State?.Name, "stopped");
    },
  );
});

Deno.test("StartInstances of a stopping instance fails with IncorrectInstanceState and changes nothing", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (_ep, ec2) => {
    const id = await launchOne(ec2);
    clock.advance(300);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    const error = await expectError(
      ec2.send(new StartInstancesCommand({ InstanceIds: [id] })),
      "IncorrectInstanceState",
      400,
    );
    assert.match(error.message, /can be started/);
    assert.equal((await describeOne(ec2, id)).State?.Name, "stopping");
  });
});

Deno.test("a stop refused for one instance stops none of the others", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (_ep, ec2) => {
    const up = await launchOne(ec2);
    clock.advance(300);
    const booting = await launchOne(ec2);
    await expectError(
      ec2.send(new StopInstancesCommand({ InstanceIds: [up, booting] })),
      "IncorrectInstanceState",
    );
    assert.equal((await describeOne(ec2, up)).State?.Name, "running");
  });
});

Deno.test("RebootInstances counts reboots of running instances, ignores terminated ones and refuses stopped ones", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const id = await launchOne(ec2);
    const gone = await launchOne(ec2);
    clock.advance(300);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone] }));
    clock.advance(300);
    const out = await ec2.send(new RebootInstancesCommand({ InstanceIds: [id, gone] }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    await ec2.send(new RebootInstancesCommand({ InstanceIds: [id] }));
    const [rebooted, terminated] = ep.instances();
    assert.equal(rebooted?.rebootCount, 2);
    assert.deepEqual(rebooted?.lastRebootAt, new Date(clock.now()));
    assert.equal(rebooted?.state, "running", "a reboot keeps the instance running");
    assert.equal(terminated?.rebootCount, 0);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    clock.advance(300);
    const error = await expectError(
      ec2.send(new RebootInstancesCommand({ InstanceIds: [id] })),
      "IncorrectInstanceState",
      400,
    );
    assert.match(error.message, /can be rebooted/);
    assert.equal(ep.instances()[0]?.rebootCount, 2);
  });
});

Deno.test("StopInstances with Force ends a stop already in progress at once", async () => {
  const clock = new ManualClock();
  await withEndpoint(
    { clock: clock.now, timing: { ...TIMING, stoppingMs: 60_000 } },
    async (_ep, ec2) => {
      const id = await launchOne(ec2);
      const other = await launchOne(ec2);
      clock.advance(300);
      await ec2.send(new StopInstancesCommand({ InstanceIds: [id, other] }));
      clock.advance(1_000);
      const forced = await ec2.send(new StopInstancesCommand({ InstanceIds: [id], Force: true }));
      assert.deepEqual(forced.StoppingInstances?.[0]?.PreviousState, {
        Code: 64,
        Name: "stopping",
      });
      assert.equal((await describeOne(ec2, id)).State?.Name, "stopped");
      assert.equal((await describeOne(ec2, other)).State?.Name, "stopping", "only the forced one");
      const fresh = await launchOne(ec2);
      clock.advance(300);
      await ec2.send(new StopInstancesCommand({ InstanceIds: [fresh], Force: true }));
      assert.equal(
        (await describeOne(ec2, fresh)).State?.Name,
        "stopping",
        "a forced stop still stops",
      );
    },
  );
});

Deno.test("state change responses give each instance's currentState before its previousState", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep) => {
    const launched = await rawRequest(
      ep,
      `Action=RunInstances&Version=2016-11-15&ImageId=${AMAZON_LINUX_AMI}&MinCount=1&MaxCount=1`,
    );
    const id = /<instanceId>(i-[0-9a-f]+)<\/instanceId>/.exec(launched.text)![1]!;
    clock.advance(300);
    const out = await rawRequest(
      ep,
      `Action=StopInstances&Version=2016-11-15&InstanceId.1=${id}`,
    );
    assert.match(
      out.text,
      new RegExp(
        `<item><instanceId>${id}</instanceId><currentState><code>64</code><name>stopping</name></currentState><previousState><code>16</code><name>running</name></previousState></item>`,
      ),
    );
  });
});

Deno.test("REALISTIC_TIMING takes seconds where DEFAULT_TIMING takes a blink", async () => {
  assert.ok(DEFAULT_TIMING.pendingMs <= 500 && DEFAULT_TIMING.imageMs <= 1_000);
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: REALISTIC_TIMING }, async (ep, ec2) => {
    const id = await launchOne(ec2);
    clock.advance(2_999);
    assert.equal((await describeOne(ec2, id)).State?.Name, "pending");
    clock.advance(1);
    assert.equal((await describeOne(ec2, id)).State?.Name, "running");
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    clock.advance(2_999);
    assert.equal(ep.instances()[0]?.state, "shutting-down");
    clock.advance(1);
    assert.equal(ep.instances()[0]?.state, "terminated");
  });
  assert.deepEqual(
    [REALISTIC_TIMING.stoppingMs, REALISTIC_TIMING.shuttingDownMs, REALISTIC_TIMING.imageMs],
    [3_000, 3_000, 5_000],
  );
});
