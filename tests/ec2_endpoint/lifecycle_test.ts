/** Instances over time: transitions, visibility delay, refused changes, forced states. */

import {
  DescribeInstancesCommand,
  RebootInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { type EndpointOptions, startEc2Endpoint } from "./mod.ts";
import { clientFor, expectError, launchOne, ManualClock } from "./testing.ts";

const TIMING = {
  pendingMs: 100,
  stoppingMs: 200,
  shuttingDownMs: 300,
  terminatedRetentionMs: 1000,
};

async function setUp(options: EndpointOptions = {}) {
  const clock = new ManualClock();
  const ep = await startEc2Endpoint({ timing: TIMING, clock: clock.now, ...options });
  const ec2 = clientFor(ep);
  const state = async (id: string) => {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    return out.Reservations![0]!.Instances![0]!.State!.Name;
  };
  return {
    ep,
    ec2,
    clock,
    state,
    async [Symbol.asyncDispose]() {
      ec2.destroy();
      await ep.close();
    },
  };
}

Deno.test("an instance goes pending → running → stopping → stopped → pending → running → shutting-down → terminated, then vanishes", async () => {
  await using t = await setUp();
  const id = await launchOne(t.ec2);
  assert.equal(await t.state(id), "pending");
  t.clock.advance(100);
  assert.equal(await t.state(id), "running");
  assert.ok(t.ep.instances()[0]!.publicIpAddress, "a running instance has a public address");
  const stop = await t.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
  assert.deepEqual(
    [
      stop.StoppingInstances![0]!.CurrentState!.Name,
      stop.StoppingInstances![0]!.PreviousState!.Name,
    ],
    ["stopping", "running"],
  );
  t.clock.advance(200);
  assert.equal(await t.state(id), "stopped");
  assert.equal(t.ep.instances()[0]!.publicIpAddress, undefined);
  await t.ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
  assert.equal(await t.state(id), "pending");
  t.clock.advance(100);
  assert.equal(await t.state(id), "running");
  await t.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  assert.equal(await t.state(id), "shutting-down");
  t.clock.advance(300);
  assert.equal(await t.state(id), "terminated");
  const again = await t.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  assert.equal(again.TerminatingInstances![0]!.CurrentState!.Name, "terminated");
  t.clock.advance(1000);
  await expectError(t.state(id), "InvalidInstanceID.NotFound", 400);
  assert.deepEqual(t.ep.instances(), []);
});

Deno.test("a new instance is unknown to every call for visibilityDelayMs, then visible", async () => {
  await using t = await setUp({ timing: { ...TIMING, visibilityDelayMs: 500 } });
  const id = await launchOne(t.ec2);
  await expectError(t.state(id), "InvalidInstanceID.NotFound");
  await expectError(
    t.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })),
    "InvalidInstanceID.NotFound",
  );
  const all = await t.ec2.send(new DescribeInstancesCommand({}));
  assert.deepEqual(all.Reservations, []);
  assert.equal(t.ep.instances()[0]?.visible, false);
  t.clock.advance(500);
  assert.equal(await t.state(id), "running");
});

Deno.test("in the left-out form, DescribeInstances leaves a new instance out, asked by id too, without an error, and the other calls see it", async () => {
  await using t = await setUp({
    timing: { ...TIMING, visibilityDelayMs: 500 },
    faults: { invisibleAs: "left-out" },
  });
  const id = await launchOne(t.ec2);
  const byId = await t.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  assert.deepEqual(byId.Reservations, []);
  const all = await t.ec2.send(new DescribeInstancesCommand({}));
  assert.deepEqual(all.Reservations, []);
  assert.deepEqual(
    t.ep.calls.filter((c) => c.action === "DescribeInstances").map((c) => c.leftOut),
    [
      [id],
      [id],
    ],
  );
  await expectError(
    t.ec2.send(new DescribeInstancesCommand({ InstanceIds: ["i-0123456789abcdef0"] })),
    "InvalidInstanceID.NotFound",
  );
  t.clock.advance(100);
  await t.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
  t.clock.advance(400);
  assert.equal(await t.state(id), "stopped", "the stop was applied while it was left out");
});

Deno.test("the form of invisibility is chosen per instance from the tags of its launch", async () => {
  await using t = await setUp({
    timing: { ...TIMING, visibilityDelayMs: 500 },
    faults: { invisibleAs: (tags) => tags.get("form") === "left-out" ? "left-out" : "not-found" },
  });
  const tagged = (form: string) => ({
    TagSpecifications: [{
      ResourceType: "instance" as const,
      Tags: [{ Key: "form", Value: form }],
    }],
  });
  const leftOut = await launchOne(t.ec2, tagged("left-out"));
  const notFound = await launchOne(t.ec2, tagged("not-found"));
  const out = await t.ec2.send(new DescribeInstancesCommand({ InstanceIds: [leftOut] }));
  assert.deepEqual(out.Reservations, []);
  await expectError(t.state(notFound), "InvalidInstanceID.NotFound");
});

Deno.test("changes a state does not allow fail with IncorrectInstanceState and change nothing", async () => {
  await using t = await setUp();
  const pending = await launchOne(t.ec2);
  await expectError(
    t.ec2.send(new StopInstancesCommand({ InstanceIds: [pending] })),
    "IncorrectInstanceState",
  );
  await expectError(
    t.ec2.send(new RebootInstancesCommand({ InstanceIds: [pending] })),
    "IncorrectInstanceState",
  );
  t.clock.advance(100);
  await t.ec2.send(new StopInstancesCommand({ InstanceIds: [pending] }));
  await expectError(
    t.ec2.send(new StartInstancesCommand({ InstanceIds: [pending] })),
    "IncorrectInstanceState",
  );
  assert.equal(await t.state(pending), "stopping");
  const unknown = "i-0123456789abcdef0";
  await expectError(
    t.ec2.send(new TerminateInstancesCommand({ InstanceIds: [pending, unknown] })),
    "InvalidInstanceID.NotFound",
  );
  assert.equal(await t.state(pending), "stopping", "none of them changed");
});

Deno.test("RebootInstances counts reboots of running instances, and Force ends a stop at once", async () => {
  await using t = await setUp();
  const id = await launchOne(t.ec2);
  t.clock.advance(100);
  await t.ec2.send(new RebootInstancesCommand({ InstanceIds: [id] }));
  assert.equal(t.ep.instances()[0]!.rebootCount, 1);
  await t.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
  await t.ec2.send(new StopInstancesCommand({ InstanceIds: [id], Force: true }));
  assert.equal(await t.state(id), "stopped");
  assert.equal(t.ep.calls.at(-2)?.params["Force"], "true");
});

Deno.test("setInstanceState terminates from outside, with the reason given", async () => {
  await using t = await setUp();
  const id = await launchOne(t.ec2);
  const reason = { code: "Server.SpotInstanceTermination", message: "Spot interruption" };
  assert.equal(t.ep.setInstanceState(id, "shutting-down", reason).state, "shutting-down");
  t.clock.advance(300);
  const out = await t.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  const instance = out.Reservations![0]!.Instances![0]!;
  assert.equal(instance.State!.Name, "terminated");
  assert.equal(instance.StateReason!.Code, "Server.SpotInstanceTermination");
  assert.match(instance.StateTransitionReason!, /^Server initiated \(2026-01-05 10:00:00 GMT\)$/);
});

Deno.test("DescribeInstances filters by tag and state, and refuses a filter it does not know", async () => {
  await using t = await setUp();
  const tagged = await launchOne(t.ec2, {
    TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "vm", Value: "7" }] }],
  });
  await launchOne(t.ec2);
  const describe = (Filters: { Name: string; Values: string[] }[]) =>
    t.ec2.send(new DescribeInstancesCommand({ Filters })).then((out) =>
      out.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId))
    );
  assert.deepEqual(await describe([{ Name: "tag:vm", Values: ["7"] }]), [tagged]);
  assert.deepEqual(
    await describe([{ Name: "tag:vm", Values: ["7"] }, {
      Name: "instance-state-name",
      Values: ["running"],
    }]),
    [],
  );
  await expectError(describe([{ Name: "owner-id", Values: ["1"] }]), "InvalidParameterValue");
});
