import assert from "node:assert/strict";
import type { HostSettings } from "../../core/config.ts";
import { CloudError, DeadlineError, NotFoundError } from "../../util/errors.ts";
import { contextVariables, renderContext } from "../../opennebula/context.ts";
import { parseDeployment, selectSection } from "../../opennebula/template.ts";
import type { Instance, LaunchRequest, TerminateOutcome } from "../../core/provider.ts";
import { vmDeployment } from "../../../tests/deployments.ts";
import { ec2Error, FakeEc2, type FakeOptions } from "../../../tests/fakes/ec2_api.ts";
import { TransportError } from "./errors.ts";
import { Ec2Provider, type Goal } from "./provider.ts";
import { launchToken } from "./token.ts";

// Every call to the provider goes through these helpers, so that a change of the provider's
// interface is adapted here alone.

/** Launches (or finds) the instance of a deploy and returns it running. */
const launch = (provider: Ec2Provider, request: LaunchRequest): Promise<Instance> =>
  provider.prepareLaunch(request).run();
/** The idempotency token a deploy starts with. */
const tokenOf = (_provider: Ec2Provider, request: LaunchRequest): string =>
  launchToken(request, request.section.attributes);
/** Terminates an instance; returns when it is terminated or known to be gone. */
const terminate = (provider: Ec2Provider, id: string): Promise<TerminateOutcome> =>
  provider.terminate(id);
/** Powers an instance off (returns when it is stopped); `hard` skips the guest's shutdown. */
const stop = (provider: Ec2Provider, id: string, hard = false): Promise<Instance> =>
  provider.powerOff(id, { hard, reason: "poweroff" });
/** Resumes a stopped instance (returns when it runs). */
const start = (provider: Ec2Provider, id: string): Promise<Instance> => provider.resume(id);
/** Reboots a running instance. */
const reboot = (provider: Ec2Provider, id: string): Promise<void> => provider.reboot(id);
/** Describes an instance. */
const describe = (provider: Ec2Provider, id: string): Promise<Instance> => provider.describe(id);
/** Waits for an instance to reach a state. */
const waitFor = (provider: Ec2Provider, id: string, goal: Goal): Promise<Instance> =>
  provider.waitFor(id, goal);
/** The live instances launched for a VM on a host. */
const findLaunched = (provider: Ec2Provider, vmId: number, host: string): Promise<Instance[]> =>
  provider.findLaunched(vmId, host);
/** Creates an image of an instance; returns its id. */
const snapshot = (provider: Ec2Provider, id: string, name: string, vmId: number) =>
  provider.snapshot(id, name, vmId);

/** Short timings, so that every wait and back-off ends well within a second. */
const SETTINGS: HostSettings = {
  host: "aws",
  source: "test",
  provider: "ec2",
  connection: { useInstanceMetadata: false },
  template: {},
  actionTimeoutSeconds: 60,
  notFoundGraceSeconds: 600,
  stateWaitSeconds: 0.3,
  statePollSeconds: 0.05,
  notFoundRetrySeconds: 0.5,
  pollWindowSeconds: 0,
};

/** A fake EC2 and a provider on it. */
function setUp(options: FakeOptions = {}, settings: Partial<HostSettings> = {}) {
  const fake = new FakeEc2(options);
  // No size cache: unit tests never write under the user's home.
  const provider = new Ec2Provider(fake, { ...SETTINGS, ...settings }, undefined, {
    dir: undefined,
    now: Date.now,
  });
  return { fake, provider };
}

/** The deploy of VM `vmId` to host `aws`, with extra template keys. */
function request(vmId = 7, keys: Record<string, string> = {}): LaunchRequest {
  const deployment = parseDeployment(
    vmDeployment(vmId, { AMI: "ami-0abcdef1234567890", INSTANCETYPE: "t3.micro", ...keys }),
  );
  return {
    vmId,
    host: "aws",
    ...(deployment.name !== undefined ? { vmName: deployment.name } : {}),
    deploymentName: "deployment.0",
    section: selectSection(deployment, "ec2", "aws"),
    renderContext: (format) => renderContext(deployment.context, deployment.name, format),
    contextVariables: () => contextVariables(deployment.context),
  };
}

/** The driver's launch tags of VM 7 on host `aws`. */
const OWN_TAGS = {
  "opennebula:vm-id": "7",
  "opennebula:host": "aws",
  "opennebula:driver": "one-hybrid",
};

/** The client tokens of the RunInstances calls so far. */
const launchTokens = (fake: FakeEc2) => fake.inputsOf("runInstances").map((i) => i.ClientToken);

// --- Finding earlier launches --------------------------------------------------------------

Deno.test("findLaunched() keeps only the VM's live instances launched by the driver on its host, when the endpoint ignores the filters", async () => {
  // Like OpenNebula's econe: the filters are accepted and not applied.
  const { fake, provider } = setUp({ filters: "ignore" });
  const own = fake.addInstance({ tags: OWN_TAGS });
  fake.addInstance({ tags: { ...OWN_TAGS, "opennebula:vm-id": "8" } });
  fake.addInstance({ state: "stopped", tags: { ...OWN_TAGS, "opennebula:host": "aws-other" } });
  fake.addInstance({ tags: { "opennebula:vm-id": "7", "opennebula:host": "aws" } });
  fake.addInstance({ state: "terminated", tags: OWN_TAGS });
  const stopped = fake.addInstance({ state: "stopped", tags: OWN_TAGS });
  const found = await findLaunched(provider, 7, "aws");
  assert.deepEqual(found.map((i) => i.id), [own.id, stopped.id]);
  assert.deepEqual(fake.inputsOf("describeInstances")[0]?.Filters, [
    { Name: "tag:opennebula:vm-id", Values: ["7"] },
    { Name: "tag:opennebula:driver", Values: ["one-hybrid"] },
    { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] },
  ]);
});

Deno.test("findLaunched() asks again without filters when the endpoint rejects them", async () => {
  const { fake, provider } = setUp({ filters: "reject" });
  const own = fake.addInstance({ tags: OWN_TAGS });
  fake.addInstance({ tags: { ...OWN_TAGS, "opennebula:vm-id": "8" } });
  const found = await findLaunched(provider, 7, "aws");
  assert.deepEqual(found.map((i) => i.id), [own.id]);
  assert.deepEqual(fake.inputsOf("describeInstances").map((i) => i.Filters?.length), [
    3,
    undefined,
  ]);
});

Deno.test("a retried launch finds the earlier live instance by its tags and launches nothing, even where tokens are not deduplicated", async () => {
  // Like moto: a repeated client token launches again, so only the lookup prevents a second instance.
  const { fake, provider } = setUp({ deduplicateTokens: false });
  const first = await launch(provider, request());
  const again = await launch(provider, request());
  assert.equal(again.id, first.id);
  assert.equal(again.state, "running");
  assert.equal(fake.inputsOf("runInstances").length, 1);
  assert.equal(fake.instances.size, 1);
});

Deno.test("a retried launch finds the earlier live instance when the endpoint ignores filters, among other VMs' instances", async () => {
  const { fake, provider } = setUp({ filters: "ignore", deduplicateTokens: false });
  fake.addInstance({ tags: { ...OWN_TAGS, "opennebula:vm-id": "8" } });
  const first = await launch(provider, request());
  fake.addInstance({ tags: { ...OWN_TAGS, "opennebula:vm-id": "70" } });
  assert.equal((await launch(provider, request())).id, first.id);
  assert.equal(fake.inputsOf("runInstances").length, 1);
});

Deno.test("a retried launch whose earlier instance was left stopped starts it instead of launching", async () => {
  const { fake, provider } = setUp();
  const first = await launch(provider, request());
  fake.setState(first.id, "stopped");
  const again = await launch(provider, request());
  assert.equal(again.id, first.id);
  assert.equal(again.state, "running");
  assert.deepEqual(fake.inputsOf("startInstances"), [{ InstanceIds: [first.id] }]);
  assert.equal(fake.inputsOf("runInstances").length, 1);
});

// --- Relaunch with derived tokens ----------------------------------------------------------

Deno.test("a launch answered with its token's terminated instance moves deploy to the next derived token", async () => {
  // EC2 used to answer a spent token with the terminated instance instead of an error.
  const { fake, provider } = setUp({ spentToken: "instance" });
  const first = await launch(provider, request());
  fake.setState(first.id, "terminated");
  const second = await launch(provider, request());
  assert.notEqual(second.id, first.id);
  assert.equal(second.state, "running");
  const token = tokenOf(provider, request());
  assert.deepEqual(launchTokens(fake), [token, token, `${token}-r1`]);
  assert.equal(fake.instance(second.id).tags["opennebula:launch-token"], `${token}-r1`);
});

Deno.test("a launch refused with IdempotentInstanceTerminated moves deploy to the next derived token", async () => {
  const { fake, provider } = setUp();
  const first = await launch(provider, request());
  fake.setState(first.id, "terminated");
  const second = await launch(provider, request());
  assert.notEqual(second.id, first.id);
  const token = tokenOf(provider, request());
  assert.deepEqual(launchTokens(fake), [token, token, `${token}-r1`]);
  assert.equal(fake.instances.size, 2);
});

Deno.test("a launch refused with IdempotentParameterMismatch moves deploy to the next derived token", async () => {
  const { fake, provider } = setUp();
  const token = tokenOf(provider, request());
  // Someone used the token for another request (the instance is not one of the driver's).
  fake.addInstance({ clientToken: token, launch: '{"ImageId":"ami-other"}' });
  const launched = await launch(provider, request());
  assert.deepEqual(launchTokens(fake), [token, `${token}-r1`]);
  assert.equal(fake.instance(launched.id).clientToken, `${token}-r1`);
});

Deno.test("a retry after deploy moved to a derived token finds that instance, not a new one", async () => {
  const { fake, provider } = setUp({ deduplicateTokens: false });
  fake.script("runInstances", ec2Error("IdempotentInstanceTerminated", "Token spent."));
  const launched = await launch(provider, request());
  assert.equal((await launch(provider, request())).id, launched.id);
  assert.equal(fake.inputsOf("runInstances").length, 2);
});

Deno.test("deploy gives up with TokenExhausted after five tokens whose instances are terminated", async () => {
  const { fake, provider } = setUp();
  const token = tokenOf(provider, request());
  for (let i = 0; i < 5; i++) {
    const launched = await launch(provider, request());
    assert.equal(fake.instance(launched.id).clientToken, i === 0 ? token : `${token}-r${i}`);
    fake.setState(launched.id, "terminated");
  }
  const before = fake.inputsOf("runInstances").length;
  await assert.rejects(launch(provider, request()), (error) => {
    assert.ok(error instanceof CloudError);
    assert.equal(error.code, "TokenExhausted");
    assert.equal(
      error.message,
      "Cannot launch instance: the last 5 launches for this deployment are terminated",
    );
    return true;
  });
  assert.deepEqual(launchTokens(fake).slice(before), [
    token,
    `${token}-r1`,
    `${token}-r2`,
    `${token}-r3`,
    `${token}-r4`,
  ]);
  assert.equal(fake.instances.size, 5);
});

Deno.test("a fixed CLIENTTOKEN whose instance is terminated is not relaunched with another token", async () => {
  const { fake, provider } = setUp();
  const fixed = request(7, { CLIENTTOKEN: "my-token-1" });
  const first = await launch(provider, fixed);
  fake.setState(first.id, "terminated");
  await assert.rejects(launch(provider, fixed), {
    name: "CloudError",
    message:
      "Cannot launch instance: CLIENTTOKEN my-token-1 already launched an instance that is now terminated, or was used with other parameters; remove or change CLIENTTOKEN",
  });
  assert.deepEqual(launchTokens(fake), ["my-token-1", "my-token-1"]);
  assert.equal(fake.instances.size, 1);
});

// --- RunInstances answers lost ---------------------------------------------------------------

/** A server error after the call was applied: its outcome is unknown to the driver. */
const lostAnswer = () => ec2Error("InternalError", "An internal error has occurred.", 500);

/** Live instances of the fake. */
const live = (fake: FakeEc2) =>
  [...fake.instances.values()].filter((i) =>
    i.state !== "terminated" && i.state !== "shutting-down"
  );

Deno.test("a RunInstances whose answer is lost is looked for by its tags and token, and the instance it launched is reported", async () => {
  const { fake, provider } = setUp({ deduplicateTokens: false });
  fake.script("runInstances", (_input, model) => {
    model();
    throw lostAnswer();
  });
  const instance = await launch(provider, request());
  assert.equal(fake.instances.size, 1);
  assert.equal(instance.id, [...fake.instances.keys()][0]);
  assert.equal(fake.inputsOf("runInstances").length, 1);
});

Deno.test("a RunInstances whose answer is lost and whose instance is not visible yet is sent again with the same token; the second instance of an endpoint that ignores tokens is terminated", async () => {
  const { fake, provider } = setUp({ deduplicateTokens: false });
  fake.script("runInstances", (_input, model) => {
    model();
    throw lostAnswer();
  });
  // The look for earlier launches, and the one right after the loss, do not see it yet.
  fake.script("describeInstances", { Reservations: [] }, { Reservations: [] });
  const instance = await launch(provider, request());
  const tokens = launchTokens(fake);
  assert.equal(tokens.length, 2);
  assert.equal(tokens[0], tokens[1]);
  assert.deepEqual(live(fake).map((i) => i.id), [instance.id]);
  assert.equal(fake.instances.size, 2);
});

Deno.test("a RunInstances whose answer is lost is deduplicated by EC2's token when sent again: one instance", async () => {
  const { fake, provider } = setUp({ deduplicateTokens: true });
  fake.script("runInstances", (_input, model) => {
    model();
    throw lostAnswer();
  });
  fake.script("describeInstances", { Reservations: [] }, { Reservations: [] });
  const instance = await launch(provider, request());
  assert.equal(fake.instances.size, 1);
  assert.equal(instance.id, [...fake.instances.keys()][0]);
  assert.ok(!fake.calls.some((c) => c.name === "terminateInstances"));
});

Deno.test("a deploy that fails after a lost RunInstances answer finds the instance that call launched, once visible, and terminates it", async () => {
  const { fake, provider } = setUp({ deduplicateTokens: false });
  fake.script("runInstances", (_input, model) => {
    model();
    throw lostAnswer();
  }, ec2Error("InsufficientInstanceCapacity", "We currently do not have sufficient capacity."));
  // Not visible to the lookup after the loss, nor to the first look of the clean-up.
  fake.script(
    "describeInstances",
    { Reservations: [] },
    { Reservations: [] },
    { Reservations: [] },
  );
  await assert.rejects(launch(provider, request()), (error) => {
    const [id] = [...fake.instances.keys()];
    assert.ok(error instanceof CloudError);
    assert.equal(
      error.message,
      `Cannot launch instance: InsufficientInstanceCapacity: We currently do not have sufficient capacity.; instance ${id} was terminated`,
    );
    return true;
  });
  assert.deepEqual(live(fake), []);
});

Deno.test("a deploy that fails after a lost RunInstances answer that launched nothing says no instance was found", async () => {
  const { fake, provider } = setUp({ deduplicateTokens: false });
  fake.script(
    "runInstances",
    lostAnswer(),
    ec2Error("InvalidAMIID.NotFound", "The image id '[ami-0abcdef1234567890]' does not exist"),
  );
  await assert.rejects(launch(provider, request()), {
    message:
      "Cannot launch instance: InvalidAMIID.NotFound: The image id '[ami-0abcdef1234567890]' does not exist; no instance of the RunInstances whose answer was lost was found",
  });
  assert.equal(fake.instances.size, 0);
});

Deno.test("a new instance that answers leave out is waited for, never terminated as failed", async () => {
  const { fake, provider } = setUp({}, { stateWaitSeconds: 2 });
  fake.script("describeInstances", ...Array(4).fill({ Reservations: [] }));
  const instance = await launch(provider, request());
  assert.equal(instance.state, "running");
  assert.ok(!fake.calls.some((c) => c.name === "terminateInstances"));
});

// --- A failed deploy leaves nothing running ------------------------------------------------

Deno.test("a deploy whose instance does not come up terminates it and says so", async () => {
  const { fake, provider } = setUp({ describesUntilSettled: Infinity });
  await assert.rejects(launch(provider, request()), (error) => {
    const [id] = [...fake.instances.keys()];
    assert.ok(error instanceof DeadlineError);
    assert.equal(
      error.message,
      `Timed out after 0.3 s waiting for ${id} to be running; it is pending; instance ${id} was terminated`,
    );
    assert.deepEqual(fake.inputsOf("terminateInstances"), [{ InstanceIds: [id] }]);
    assert.equal(fake.instance(id ?? "").state, "shutting-down");
    return true;
  });
});

Deno.test("a deploy whose instance ends terminated while booting reports EC2's reason for it", async () => {
  const { fake, provider } = setUp();
  fake.script("runInstances", (_input, model) => {
    const out = model();
    const id = out.Instances?.[0]?.InstanceId ?? "";
    fake.setState(id, "terminated", "Server.InsufficientInstanceCapacity");
    return out;
  });
  await assert.rejects(launch(provider, request()), (error) => {
    const [id] = [...fake.instances.keys()];
    assert.ok(error instanceof CloudError);
    assert.equal(error.code, "InstanceGone");
    assert.equal(
      error.message,
      `${id} is terminated (Server.InsufficientInstanceCapacity) while waiting for it to be running; instance ${id} was terminated`,
    );
    return true;
  });
});

Deno.test("a deploy whose instance cannot be terminated either says it is left tagged with the VM id", async () => {
  const { fake, provider } = setUp({ describesUntilSettled: Infinity });
  fake.failNext(
    "terminateInstances",
    ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation."),
  );
  await assert.rejects(launch(provider, request()), (error) => {
    const [id] = [...fake.instances.keys()];
    assert.ok(error instanceof DeadlineError);
    assert.equal(
      error.message,
      `Timed out after 0.3 s waiting for ${id} to be running; it is pending; instance ${id} could not be terminated (UnauthorizedOperation); it is tagged opennebula:vm-id=7`,
    );
    assert.equal(fake.instance(id ?? "").state, "pending");
    assert.equal(fake.instance(id ?? "").tags["opennebula:vm-id"], "7");
    return true;
  });
});

// --- Elastic IP ----------------------------------------------------------------------------

Deno.test("a deploy with ELASTICIP associates the address without allowing reassociation", async () => {
  const { fake, provider } = setUp();
  const address = fake.addAddress({ publicIp: "203.0.113.10" });
  const launched = await launch(provider, request(7, { ELASTICIP: "203.0.113.10" }));
  assert.deepEqual(fake.inputsOf("describeAddresses"), [{ PublicIps: ["203.0.113.10"] }]);
  assert.deepEqual(fake.inputsOf("associateAddress"), [
    { InstanceId: launched.id, AllocationId: address.allocationId, AllowReassociation: false },
  ]);
  assert.equal(launched.facts.PUBLIC_IP_ADDRESS, "203.0.113.10");
  assert.equal(address.instanceId, launched.id);
});

Deno.test("a deploy with ELASTICIP as an allocation id looks the address up by that id", async () => {
  const { fake, provider } = setUp();
  const address = fake.addAddress({ publicIp: "203.0.113.11" });
  const launched = await launch(provider, request(7, { ELASTICIP: address.allocationId }));
  assert.deepEqual(fake.inputsOf("describeAddresses"), [{
    AllocationIds: [address.allocationId],
  }]);
  assert.equal(address.instanceId, launched.id);
});

Deno.test("a retried deploy whose instance already holds its Elastic IP does not associate it again", async () => {
  const { fake, provider } = setUp();
  fake.addAddress({ publicIp: "203.0.113.12" });
  const first = await launch(provider, request(7, { ELASTICIP: "203.0.113.12" }));
  const again = await launch(provider, request(7, { ELASTICIP: "203.0.113.12" }));
  assert.equal(again.id, first.id);
  assert.equal(again.facts.PUBLIC_IP_ADDRESS, "203.0.113.12");
  assert.equal(fake.inputsOf("associateAddress").length, 1);
  assert.equal(fake.inputsOf("describeAddresses").length, 2);
});

Deno.test("an Elastic IP another instance holds is never taken: the new instance is terminated and the failure says so", async () => {
  const { fake, provider } = setUp();
  const other = fake.addInstance({ tags: { ...OWN_TAGS, "opennebula:vm-id": "8" } });
  const address = fake.addAddress({ publicIp: "203.0.113.13", instanceId: other.id });
  await assert.rejects(launch(provider, request(7, { ELASTICIP: "203.0.113.13" })), (error) => {
    const id = [...fake.instances.keys()].find((i) => i !== other.id);
    assert.ok(error instanceof CloudError);
    assert.equal(error.code, "Resource.AlreadyAssociated");
    assert.match(
      error.message,
      new RegExp(
        `^Cannot associate Elastic IP 203\\.0\\.113\\.13 with ${id}: Resource\\.AlreadyAssociated: .*; instance ${id} was terminated$`,
      ),
    );
    assert.deepEqual(fake.inputsOf("terminateInstances"), [{ InstanceIds: [id] }]);
    return true;
  });
  assert.equal(fake.inputsOf("associateAddress")[0]?.AllowReassociation, false);
  assert.equal(address.instanceId, other.id);
  assert.equal(fake.instance(other.id).state, "running");
});

Deno.test("an unknown Elastic IP fails the deploy clearly and terminates the instance", async () => {
  const { fake, provider } = setUp();
  await assert.rejects(launch(provider, request(7, { ELASTICIP: "203.0.113.14" })), (error) => {
    const [id] = [...fake.instances.keys()];
    assert.ok(error instanceof CloudError);
    assert.equal(
      error.message,
      `Cannot associate Elastic IP 203.0.113.14 with ${id}: InvalidAddress.NotFound: Address '203.0.113.14' not found.; instance ${id} was terminated`,
    );
    return true;
  });
  assert.equal(fake.inputsOf("associateAddress").length, 0);
});

Deno.test("an endpoint that answers an unknown Elastic IP with no address fails the deploy clearly", async () => {
  const { fake, provider } = setUp();
  fake.script("describeAddresses", { Addresses: [] });
  await assert.rejects(launch(provider, request(7, { ELASTICIP: "203.0.113.15" })), (error) => {
    const [id] = [...fake.instances.keys()];
    assert.ok(error instanceof CloudError);
    assert.equal(error.code, "InvalidAddress.NotFound");
    assert.equal(
      error.message,
      `Cannot associate Elastic IP 203.0.113.15 with ${id}: InvalidAddress.NotFound (the account has no such address in this region); instance ${id} was terminated`,
    );
    return true;
  });
  assert.equal(fake.inputsOf("associateAddress").length, 0);
});

// --- "Not found" is not "gone" -------------------------------------------------------------

Deno.test("terminate() retries InvalidInstanceID.NotFound of an instance not visible yet", async () => {
  const { fake, provider } = setUp();
  const instance = fake.addInstance({ tags: OWN_TAGS });
  fake.failNext(
    "terminateInstances",
    ec2Error("InvalidInstanceID.NotFound", `The instance ID '${instance.id}' does not exist`),
  );
  assert.equal(await terminate(provider, instance.id), "terminated");
  assert.equal(fake.instances.get(instance.id)?.state, "terminated");
  assert.equal(fake.inputsOf("terminateInstances").length, 2);
});

Deno.test("terminate() counts an id EC2 still does not know once notFoundRetrySeconds is spent as gone", async () => {
  for (const [seconds, attempts] of [[0, 1], [0.5, 2]] as const) {
    const { fake, provider } = setUp({}, { notFoundRetrySeconds: seconds });
    assert.equal(await terminate(provider, "i-0123456789abcdef0"), "gone");
    assert.equal(fake.inputsOf("terminateInstances").length, attempts, `${seconds} s`);
  }
});

Deno.test("terminate() does not retry failures other than not found", async () => {
  const { fake, provider } = setUp();
  const instance = fake.addInstance();
  fake.failNext("terminateInstances", ec2Error("OperationNotPermitted", "Termination protected."));
  await assert.rejects(terminate(provider, instance.id), {
    message: `Cannot terminate ${instance.id}: OperationNotPermitted: Termination protected.`,
  });
  assert.equal(fake.inputsOf("terminateInstances").length, 1);
});

Deno.test("terminate() whose TerminateInstances answers are lost asks after the instance, and succeeds when it is terminating", async () => {
  const { fake, provider } = setUp();
  const instance = fake.addInstance({ tags: OWN_TAGS });
  fake.script("terminateInstances", (_input, model) => {
    model();
    throw lostAnswer();
  });
  assert.equal(await terminate(provider, instance.id), "terminated");
  assert.equal(fake.inputsOf("terminateInstances").length, 1);
});

Deno.test("terminate() whose TerminateInstances answers are lost fails when the instance still runs", async () => {
  const { fake, provider } = setUp();
  const instance = fake.addInstance({ state: "running", tags: OWN_TAGS });
  fake.failNext("terminateInstances", lostAnswer());
  await assert.rejects(terminate(provider, instance.id), {
    message: `Cannot terminate ${instance.id}: InternalError: An internal error has occurred.`,
  });
  assert.equal(fake.instance(instance.id).state, "running");
});

Deno.test("a DescribeInstances answer that leaves the instance out is not taken as gone", async () => {
  const { fake, provider } = setUp();
  const instance = fake.addInstance({ state: "shutting-down" });
  fake.script("describeInstances", { Reservations: [] }, { Reservations: [] });
  await assert.rejects(describe(provider, instance.id), (error) => {
    assert.ok(error instanceof CloudError && !(error instanceof NotFoundError));
    assert.equal(error.code, "InstanceMissingFromAnswer");
    return true;
  });
  fake.script("describeInstances", ...Array(20).fill({ Reservations: [] }));
  await assert.rejects(waitFor(provider, instance.id, "terminated"), {
    name: "DeadlineError",
    message:
      `Timed out after 0.3 s waiting for ${instance.id} to be terminated; it is left out of the answer`,
  });
});

Deno.test("waitFor() asks again for a new instance that answers leave out, and never takes it as failed", async () => {
  const { fake, provider } = setUp();
  const instance = fake.addInstance({ state: "pending" });
  fake.script("describeInstances", { Reservations: [] }, { Reservations: [] });
  assert.equal((await waitFor(provider, instance.id, "running")).state, "running");
  assert.equal(fake.instance(instance.id).state, "running");
  assert.ok(!fake.calls.some((c) => c.name === "terminateInstances"));
});

Deno.test("waitFor() takes InvalidInstanceID.NotFound as gone when waiting for termination, and asks again otherwise", async () => {
  const { fake, provider } = setUp();
  const gone = "i-0123456789abcdef0";
  assert.equal((await waitFor(provider, gone, "terminated")).state, "terminated");
  const instance = fake.addInstance({ state: "pending" });
  fake.failNext(
    "describeInstances",
    ec2Error("InvalidInstanceID.NotFound", `The instance ID '${instance.id}' does not exist`),
  );
  assert.equal((await waitFor(provider, instance.id, "running")).state, "running");
  assert.equal(fake.inputsOf("describeInstances").length, 1 + 3);
});

// --- Waits ---------------------------------------------------------------------------------

Deno.test("waitFor() keeps polling through throttling, server errors and timeouts, and fails at once on others", async () => {
  const { fake, provider } = setUp({}, { stateWaitSeconds: 2 });
  const { id } = fake.addInstance();
  fake.failNext("describeInstances", ec2Error("RequestLimitExceeded", "Request limit exceeded."));
  fake.failNext(
    "describeInstances",
    ec2Error("InternalError", "An internal error has occurred.", 500),
  );
  fake.failNext("describeInstances", ec2Error("Unavailable", "Service unavailable.", 503));
  fake.failNext(
    "describeInstances",
    new TransportError({
      call: "DescribeInstances",
      endpoint: "https://ec2.us-east-1.amazonaws.com",
      problem: "got no answer within 10 s",
      code: "TimeoutError",
    }),
  );
  assert.equal((await waitFor(provider, id, "running")).state, "running");
  assert.equal(fake.inputsOf("describeInstances").length, 5);
  fake.failNext(
    "describeInstances",
    ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation."),
  );
  await assert.rejects(waitFor(provider, id, "running"), {
    message:
      `Cannot describe ${id}: UnauthorizedOperation: You are not authorized to perform this operation. (host aws, region us-east-1)`,
  });
  assert.equal(fake.inputsOf("describeInstances").length, 6);
});

Deno.test("waitFor() ends with a DeadlineError naming the state the instance reached", async () => {
  const { fake, provider } = setUp({ describesUntilSettled: Infinity });
  const { id } = fake.addInstance();
  await fake.stopInstances({ InstanceIds: [id] });
  const started = Date.now();
  await assert.rejects(waitFor(provider, id, "stopped"), (error) => {
    assert.ok(error instanceof DeadlineError);
    assert.equal(
      error.message,
      `Timed out after 0.3 s waiting for ${id} to be stopped; it is stopping`,
    );
    return true;
  });
  assert.ok(Date.now() - started < 3_000, "the wait ends well within its bound");
  fake.advance(id);
  assert.equal((await waitFor(provider, id, "stopped")).state, "stopped");
});

Deno.test("waitFor() that only ever got throttled says the state is unknown and why", async () => {
  const { fake, provider } = setUp();
  const { id } = fake.addInstance();
  fake.failNext("describeInstances", ec2Error("RequestLimitExceeded", "Slow down."), 100);
  await assert.rejects(waitFor(provider, id, "running"), {
    name: "DeadlineError",
    message:
      `Timed out after 0.3 s waiting for ${id} to be running; it is unknown (RequestLimitExceeded)`,
  });
});

// --- Power and ids ---------------------------------------------------------------------------

Deno.test("a hard power-off skips the guest's shutdown (Force); a soft one does not; both return when stopped", async () => {
  const { fake, provider } = setUp();
  const soft = fake.addInstance();
  const hard = fake.addInstance();
  assert.equal((await stop(provider, soft.id)).state, "stopped");
  assert.equal((await stop(provider, hard.id, true)).state, "stopped");
  assert.deepEqual(fake.inputsOf("stopInstances"), [
    { InstanceIds: [soft.id] },
    { InstanceIds: [hard.id], Force: true },
  ]);
});

Deno.test("an id that is not an EC2 instance id is refused before any call", async () => {
  const { fake, provider } = setUp();
  const bad = "i-123";
  const operations = [
    () => describe(provider, bad),
    () => terminate(provider, bad),
    () => stop(provider, bad),
    () => start(provider, bad),
    () => reboot(provider, bad),
    () => waitFor(provider, bad, "running"),
    () => snapshot(provider, bad, "one-7-checkpoint", 7),
  ];
  for (const operation of operations) {
    await assert.rejects(operation(), {
      name: "InvalidInputError",
      message: 'Invalid deploy id "i-123": not an EC2 instance id (i-xxxxxxxxxxxxxxxxx)',
    });
  }
  assert.deepEqual(fake.calls, []);
});

// --- Adoption ------------------------------------------------------------------------------

Deno.test("adopt() marks an instance the built-in driver launched with the driver's VM, host and driver tags in one CreateTags, keeping its own", async () => {
  const { fake, provider } = setUp();
  const { id } = fake.addInstance({ tags: { ONE_ID: "40", team: "web" } });
  await provider.adopt(id, "aws", 40);
  assert.deepEqual(fake.inputsOf("createTags"), [{
    Resources: [id],
    Tags: [
      { Key: "opennebula:vm-id", Value: "40" },
      { Key: "opennebula:host", Value: "aws" },
      { Key: "opennebula:driver", Value: "one-hybrid" },
    ],
  }]);
  const [listed] = await provider.list();
  assert.deepEqual(
    [listed?.launchedByDriver, listed?.ownerVmId, listed?.ownerHost, listed?.recordedVmId],
    [true, 40, "aws", undefined],
  );
});

Deno.test("adopt() says which instance and VM it could not mark", async () => {
  const { fake, provider } = setUp();
  const { id } = fake.addInstance();
  fake.failNext("createTags", ec2Error("UnauthorizedOperation", "You are not authorized."));
  await assert.rejects(provider.adopt(id, "aws", 40), {
    message:
      `Cannot tag ${id} as VM 40's: UnauthorizedOperation: You are not authorized. (host aws, region us-east-1)`,
  });
  await assert.rejects(provider.adopt("i-123", "aws", 40), { name: "InvalidInputError" });
});

// --- Snapshots -----------------------------------------------------------------------------

Deno.test("snapshot() creates an image without reboot, tagged with the VM id", async () => {
  const { fake, provider } = setUp();
  const { id } = fake.addInstance();
  const imageId = await snapshot(provider, id, "one-7-checkpoint", 7);
  const [input] = fake.inputsOf("createImage");
  assert.equal(input?.NoReboot, true);
  assert.deepEqual(input?.TagSpecifications?.map((s) => s.ResourceType), ["image", "snapshot"]);
  assert.deepEqual(fake.images.get(imageId)?.Tags, [
    { Key: "opennebula:vm-id", Value: "7" },
    { Key: "opennebula:driver", Value: "one-hybrid" },
    { Key: "Name", Value: "one-7-checkpoint" },
  ]);
});

Deno.test("snapshot() falls back to tagging the image alone, then to no tags, when the endpoint rejects them", async () => {
  const { fake, provider } = setUp();
  const { id } = fake.addInstance();
  fake.failNext(
    "createImage",
    ec2Error("InvalidParameterValue", "Tagging snapshots on creation is not supported."),
  );
  fake.failNext("createImage", ec2Error("UnknownParameter", "TagSpecifications."));
  const imageId = await snapshot(provider, id, "one-7-checkpoint", 7);
  assert.deepEqual(
    fake.inputsOf("createImage").map((i) => i.TagSpecifications?.map((s) => s.ResourceType)),
    [["image", "snapshot"], ["image"], undefined],
  );
  assert.equal(fake.images.get(imageId)?.Tags, undefined);
});

Deno.test("snapshot() does not fall back on a failure that no plainer request would fix", async () => {
  const { fake, provider } = setUp();
  const { id } = fake.addInstance();
  fake.failNext("createImage", ec2Error("RequestLimitExceeded", "Request limit exceeded."));
  await assert.rejects(snapshot(provider, id, "one-7-checkpoint", 7), {
    message: `Cannot create an image of ${id}: RequestLimitExceeded: Request limit exceeded.`,
  });
  assert.equal(fake.inputsOf("createImage").length, 1);
});

Deno.test("snapshot() takes the image its own lost CreateImage made, and makes no second", async () => {
  const { fake, provider } = setUp();
  const { id } = fake.addInstance();
  fake.script("createImage", (_input, model) => {
    model();
    throw lostAnswer();
  });
  const imageId = await snapshot(provider, id, "one-7-checkpoint", 7);
  assert.deepEqual([...fake.images.keys()], [imageId]);
  assert.equal(fake.inputsOf("createImage").length, 1);
});

Deno.test("snapshot() answered that its name is taken takes the image of that name made for the VM, and no other VM's", async () => {
  const { fake, provider } = setUp();
  const { id } = fake.addInstance();
  const duplicate = () =>
    ec2Error("InvalidAMIName.Duplicate", "AMI name one-7-checkpoint is already in use");
  fake.addImage({
    ImageId: "ami-00000000000000007",
    Name: "one-7-checkpoint",
    Tags: [{ Key: "opennebula:vm-id", Value: "7" }],
  });
  fake.failNext("createImage", duplicate());
  assert.equal(await snapshot(provider, id, "one-7-checkpoint", 7), "ami-00000000000000007");
  fake.failNext("createImage", duplicate());
  await assert.rejects(snapshot(provider, id, "one-7-checkpoint", 8), {
    message:
      `Cannot create an image of ${id}: InvalidAMIName.Duplicate: AMI name one-7-checkpoint is already in use`,
  });
});

// --- Intent-based operations -----------------------------------------------------------------

Deno.test("reset() force-stops the instance, starts it again and returns when it runs", async () => {
  const { fake, provider } = setUp();
  const { id } = fake.addInstance();
  assert.equal((await provider.reset(id)).state, "running");
  assert.deepEqual(fake.calls.map((c) => c.name).filter((n) => n !== "describeInstances"), [
    "stopInstances",
    "startInstances",
  ]);
  assert.deepEqual(fake.inputsOf("stopInstances"), [{ InstanceIds: [id], Force: true }]);
});

Deno.test("power-off, undeploy and suspend all stop and keep an EC2 instance, returning when stopped", async () => {
  for (const reason of ["poweroff", "undeploy", "suspend"] as const) {
    const { fake, provider } = setUp();
    const { id } = fake.addInstance();
    const off = await provider.powerOff(id, { hard: false, reason });
    assert.equal(off.state, "stopped", reason);
    assert.equal(off.nativeState, "stopped", reason);
    assert.deepEqual(fake.inputsOf("stopInstances"), [{ InstanceIds: [id] }], reason);
    assert.equal(fake.inputsOf("terminateInstances").length, 0, reason);
  }
});

Deno.test("terminate() returns only once EC2 reports the instance terminated", async () => {
  const { fake, provider } = setUp();
  const { id } = fake.addInstance();
  assert.equal(await terminate(provider, id), "terminated");
  assert.equal(fake.instances.get(id)?.state, "terminated");
  assert.ok(fake.inputsOf("describeInstances").length >= 1);
});

Deno.test("an aborted action signal ends a wait at once with its reason", async () => {
  const fake = new FakeEc2({ describesUntilSettled: Infinity });
  const controller = new AbortController();
  const provider = new Ec2Provider(fake, { ...SETTINGS, stateWaitSeconds: 30 }, controller.signal);
  const { id } = fake.addInstance({ state: "stopped" });
  const started = Date.now();
  const resuming = provider.resume(id);
  setTimeout(() => controller.abort(new DeadlineError("Timed out after 15 s")), 100);
  await assert.rejects(resuming, { name: "DeadlineError", message: "Timed out after 15 s" });
  assert.ok(Date.now() - started < 5_000, "the wait ended with the signal, not its 30 s bound");
});

Deno.test("list() reads every instance with one DescribeInstances per 1,000, however many there are", async () => {
  for (const count of [0, 1, 1000, 1001, 2500]) {
    const { fake, provider } = setUp();
    for (let i = 0; i < count; i++) fake.addInstance({ tags: i % 2 ? OWN_TAGS : {} });
    const listed = await provider.list();
    assert.equal(listed.length, count);
    assert.equal(listed.filter((i) => i.launchedByDriver).length, Math.floor(count / 2));
    assert.equal(fake.inputsOf("describeInstances").length, Math.max(1, Math.ceil(count / 1000)));
    assert.ok(fake.inputsOf("describeInstances").every((input) => input.MaxResults === 1000));
  }
});

Deno.test("list() asks without MaxResults when the endpoint refuses it", async () => {
  const { fake, provider } = setUp();
  fake.addInstance();
  fake.failNext("describeInstances", ec2Error("InvalidParameterValue", "Unknown MaxResults"));
  assert.equal((await provider.list()).length, 1);
  assert.deepEqual(fake.inputsOf("describeInstances").map((i) => i.MaxResults), [1000, undefined]);
});

Deno.test("listForHost() asks for the host's pending and running instances by the driver's tags in one request", async () => {
  const { fake, provider } = setUp();
  const tags = (host: string, vmId: number) => ({
    "opennebula:host": host,
    "opennebula:driver": "one-hybrid",
    "opennebula:vm-id": String(vmId),
  });
  const mine = fake.addInstance({ tags: tags("aws", 1), instanceType: "m5.large" });
  fake.addInstance({ tags: tags("aws", 2), state: "stopped" });
  fake.addInstance({ tags: tags("aws-other", 3) });
  fake.addInstance({ tags: { "opennebula:host": "aws" } }); // not launched by the driver
  const held = await provider.listForHost("aws");
  assert.deepEqual(held.map((i) => [i.id, i.size, i.ownerVmId, i.state]), [
    [mine.id, "m5.large", 1, "running"],
  ]);
  assert.deepEqual(fake.inputsOf("describeInstances"), [{
    Filters: [
      { Name: "tag:opennebula:host", Values: ["aws"] },
      { Name: "tag:opennebula:driver", Values: ["one-hybrid"] },
      { Name: "instance-state-name", Values: ["pending", "running"] },
    ],
    MaxResults: 1000,
  }]);
});

Deno.test("listForHost() falls back to a plain request where the filters are refused, and checks every instance itself", async () => {
  for (const filters of ["reject", "ignore"] as const) {
    const { fake, provider } = setUp({ filters });
    fake.addInstance({
      tags: { "opennebula:host": "aws-other", "opennebula:driver": "one-hybrid" },
    });
    const mine = fake.addInstance({
      tags: { "opennebula:host": "aws", "opennebula:driver": "one-hybrid" },
    });
    assert.deepEqual((await provider.listForHost("aws")).map((i) => i.id), [mine.id], filters);
    assert.equal(fake.inputsOf("describeInstances").length, filters === "reject" ? 2 : 1);
  }
});

Deno.test("listForHost() fails on a failure that a plainer request would meet too", async () => {
  const { fake, provider } = setUp();
  fake.failNext("describeInstances", ec2Error("AuthFailure", "AWS was not able to validate"));
  await assert.rejects(
    provider.listForHost("aws"),
    /^CredentialsError: Cannot list the instances of host aws: AuthFailure/,
  );
});

Deno.test("prepareLaunch() says which size it would launch, before any call", () => {
  const { fake, provider } = setUp({}, { template: { INSTANCETYPE: "m5.large" } });
  assert.equal(provider.prepareLaunch(request(7)).size, "t3.micro");
  assert.deepEqual(fake.calls, []);
});

Deno.test("sizes() comes from DescribeInstanceTypes, the table answering what EC2 cannot", async () => {
  const { fake, provider } = setUp();
  const sizes = await provider.sizes(["i4i.large", "m6i.large", "x9.mega"]);
  assert.deepEqual(Object.fromEntries(sizes), {
    "i4i.large": { vcpus: 2, memoryMiB: 16384 },
    "m6i.large": { vcpus: 2, memoryMiB: 8192 },
  });
  assert.equal(fake.inputsOf("describeInstanceTypes").length, 1);
});

Deno.test("requestTerminate() sends one TerminateInstances and does not wait; an id EC2 does not know is done", async () => {
  const { fake, provider } = setUp({}, { notFoundRetrySeconds: 30 });
  const instance = fake.addInstance({ tags: OWN_TAGS });
  await provider.requestTerminate(instance.id);
  assert.equal(fake.inputsOf("terminateInstances").length, 1);
  assert.equal(fake.inputsOf("describeInstances").length, 0, "nothing waited for");
  fake.failNext(
    "terminateInstances",
    ec2Error("InvalidInstanceID.NotFound", `The instance ID '${instance.id}' does not exist`),
  );
  await provider.requestTerminate(instance.id);
  assert.equal(fake.inputsOf("terminateInstances").length, 2, "not asked again");
  fake.failNext("terminateInstances", ec2Error("OperationNotPermitted", "Termination protected."));
  await assert.rejects(provider.requestTerminate(instance.id), {
    message: `Cannot terminate ${instance.id}: OperationNotPermitted: Termination protected.`,
  });
});
