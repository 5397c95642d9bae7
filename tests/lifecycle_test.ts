/**
 * Whole VM life-cycles, driven the way OpenNebula 5.x drives a VMM driver (`tests/one_vmm.ts`
 * plays `one_vmm_sh`), against the local EC2 endpoint, with the protocol reply of every step
 * checked, and failures injected at each step. The generations without action data (3.2, 4.x)
 * are in `lifecycle_4x_test.ts`, with a stand-in oned to ask.
 */

import assert from "node:assert/strict";
import { type Ec2Endpoint, startEc2Endpoint, TEST_CREDENTIALS } from "./ec2_endpoint/mod.ts";
import {
  deployedId,
  DIST_VMM,
  failureLine,
  FIXTURE_SECTION,
  instancesOfVm,
  oneBase64,
  runAction,
  sharedTest as test,
  writeLocalConfig,
} from "./harness.ts";
import { actionData, vmDeployment, writeDeployment } from "./deployments.ts";
import { type OneGeneration, SimulatedVm } from "./one_vmm.ts";

const HOST = "aws-test";
const SECTION = FIXTURE_SECTION;

const tmp = await Deno.makeTempDir({ prefix: "hybrid-lifecycle-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const ep: Ec2Endpoint = await startEc2Endpoint({
  timing: { pendingMs: 150, stoppingMs: 150, shuttingDownMs: 150 },
});
const config = await writeLocalConfig(`${tmp}/hybrid_driver.json`, ep.url, TEST_CREDENTIALS, {
  defaults: {
    statePollSeconds: 0.05,
    stateWaitSeconds: 20,
    actionTimeoutSeconds: 60,
    notFoundRetrySeconds: 1,
  },
  hosts: { [HOST]: {}, "aws-twin": {}, "aws-eu": { region: "eu-west-1" } },
});
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };

function vm(generation: OneGeneration, id: number, env: Record<string, string> = ENV): SimulatedVm {
  return new SimulatedVm(generation, id, HOST, SECTION, tmp, env);
}

function stateOf(id: string | undefined): string | undefined {
  return ep.instances("us-east-1").find((i) => i.instanceId === id)?.state;
}

const instancesOf = (vmId: number) => instancesOfVm(ep, vmId);

test("OpenNebula 5.x: deploy, poll, save, restore, reboot, reset, power-off, resume, undeploy, resume, terminate", async () => {
  const v = vm("5.x", 201);
  assert.match(await v.deploy(), /^DEPLOY SUCCESS 201 i-[0-9a-f]{17}$/);
  const id = v.deployId!;
  assert.equal(stateOf(id), "running", "deploy returns once the instance runs");
  assert.match(await v.poll(), /^POLL SUCCESS 201 STATE=a MEMORY=1048576 AWS_STATE=running /);

  assert.equal(await v.save(), "SAVE SUCCESS 201 -");
  assert.equal(stateOf(id), "stopped");
  const checkpoint = JSON.parse(await Deno.readTextFile(v.checkpointFile));
  assert.equal(checkpoint.deployId, id);
  assert.equal(checkpoint.kind, "save");
  assert.equal(checkpoint.state, "stopped");
  assert.match(await v.poll(), /^POLL SUCCESS 201 STATE=p AWS_STATE=stopped /);

  assert.equal(await v.restore(), "RESTORE SUCCESS 201 -");
  assert.equal(stateOf(id), "running");

  assert.equal(await v.reboot(), "REBOOT SUCCESS 201 -");
  assert.equal(ep.countCalls("RebootInstances"), 1);

  const stopsBefore = ep.countCalls("StopInstances");
  assert.equal(await v.reset(), "RESET SUCCESS 201 -");
  assert.equal(stateOf(id), "running");
  assert.equal(ep.countCalls("StopInstances") - stopsBefore, 1);
  assert.equal(ep.calls.filter((c) => c.action === "StopInstances").at(-1)?.params.Force, "true");

  assert.equal(await v.poweroff(), "SHUTDOWN SUCCESS 201 -");
  assert.equal(stateOf(id), "stopped", "power-off keeps the instance");
  assert.equal(await v.resumeFromPoweroff(), `DEPLOY SUCCESS 201 ${id}`);
  assert.equal(stateOf(id), "running");

  assert.equal(await v.undeploy(true), "CANCEL SUCCESS 201 -");
  assert.equal(stateOf(id), "stopped", "undeploy --hard keeps the instance");
  assert.equal(await v.resumeFromUndeploy(), `DEPLOY SUCCESS 201 ${id}`);
  assert.equal(stateOf(id), "running");

  assert.equal(await v.terminate(), "SHUTDOWN SUCCESS 201 -");
  assert.equal(stateOf(id), "terminated", "terminate returns once the instance is terminated");
  assert.match(await v.poll(), /^POLL SUCCESS 201 STATE=d AWS_STATE=terminated /);
  assert.equal(instancesOf(201).length, 1, "one instance for the whole life-cycle");
});

test("a 5.x cancel sent to terminate (LCM CANCEL) terminates at once", async () => {
  const v = vm("5.x", 203);
  await v.deploy();
  assert.equal(await v.terminate(true), "CANCEL SUCCESS 203 -");
  assert.equal(stateOf(v.deployId), "terminated");
});

/** EC2 codes that say "ask again later": a step asks again within its time. */
const TRANSIENT_CODES = new Set(["InternalError", "RequestLimitExceeded", "Unavailable"]);

test("a failure at each step is reported with the EC2 code, and the step works when retried; server errors and throttling are asked again within the step", async () => {
  const v = vm("5.x", 204);
  const steps: [string, string, () => Promise<string>, RegExp][] = [
    [
      "RunInstances",
      "InsufficientInstanceCapacity",
      () => v.deploy(),
      /^DEPLOY FAILURE 204 Cannot launch instance: InsufficientInstanceCapacity: /,
    ],
    [
      "StopInstances",
      "UnauthorizedOperation",
      () => v.save(),
      /^SAVE FAILURE 204 Cannot stop i-[0-9a-f]+: UnauthorizedOperation: .* \(host aws-test, region us-east-1\)$/,
    ],
    [
      "StartInstances",
      "InternalError",
      () => v.restore(),
      /^RESTORE FAILURE 204 Cannot start i-[0-9a-f]+: InternalError: /,
    ],
    [
      "RebootInstances",
      "UnauthorizedOperation",
      () => v.reboot(),
      /^REBOOT FAILURE 204 Cannot reboot i-[0-9a-f]+: UnauthorizedOperation: /,
    ],
    [
      "StopInstances",
      "RequestLimitExceeded",
      () => v.poweroff(),
      /^SHUTDOWN FAILURE 204 Cannot stop i-[0-9a-f]+: RequestLimitExceeded: /,
    ],
    [
      "StartInstances",
      "InternalError",
      () => v.resumeFromPoweroff(),
      /^DEPLOY FAILURE 204 Cannot start i-[0-9a-f]+: InternalError: /,
    ],
    [
      "DescribeInstances",
      "Unavailable",
      () => v.poll(),
      /^POLL FAILURE 204 Cannot list the instances: Unavailable: /,
    ],
    [
      "TerminateInstances",
      "UnauthorizedOperation",
      () => v.terminate(),
      /^SHUTDOWN FAILURE 204 Cannot terminate i-[0-9a-f]+: UnauthorizedOperation: /,
    ],
  ];
  for (const [call, code, step, failure] of steps) {
    if (TRANSIENT_CODES.has(code)) {
      // Server errors and throttling are asked again within the action's time: three in a row
      // do not fail the step.
      ep.fail(call, { code }, 3);
      assert.match(await step(), / SUCCESS 204 /, `${call} ${code} asked again`);
      assert.equal(ep.calls.filter((c) => c.action === call).at(-4)?.errorCode, code);
      continue;
    }
    ep.fail(call, { code }, 1);
    assert.match(await step(), failure, `${call} ${code}`);
    assert.match(await step(), / SUCCESS 204 /, `retry after ${call} ${code}`);
  }
  assert.equal(stateOf(v.deployId), "terminated");
  assert.equal(instancesOf(204).length, 1);
});

test("an action that outlasts its wait fails with the state the instance reached", async () => {
  await using slow = await startEc2Endpoint({ timing: { pendingMs: 100, stoppingMs: 10_000 } });
  const slowConfig = await writeLocalConfig(`${tmp}/slow.json`, slow.url, TEST_CREDENTIALS, {
    defaults: { statePollSeconds: 0.1, stateWaitSeconds: 1, actionTimeoutSeconds: 30 },
  });
  const v = vm("5.x", 205, { HOME: tmp, HYBRID_DRIVER_CONFIG: slowConfig });
  await v.deploy();
  assert.match(
    await v.save(),
    /^SAVE FAILURE 205 Timed out after 1 s waiting for i-[0-9a-f]+ to be stopped; it is stopping$/,
  );
});

test("a deploy whose instance does not come up in time fails, terminating it, and a retry launches afresh", async () => {
  await using slow = await startEc2Endpoint({ timing: { pendingMs: 10_000, shuttingDownMs: 100 } });
  const slowConfig = await writeLocalConfig(`${tmp}/slow-boot.json`, slow.url, TEST_CREDENTIALS, {
    defaults: { statePollSeconds: 0.1, stateWaitSeconds: 1, actionTimeoutSeconds: 30 },
  });
  const v = vm("5.x", 209, { HOME: tmp, HYBRID_DRIVER_CONFIG: slowConfig });
  const reply = await v.deploy();
  const [first] = slow.instances("us-east-1");
  assert.ok(first, "the deploy launched an instance");
  assert.equal(
    reply,
    `DEPLOY FAILURE 209 Timed out after 1 s waiting for ${first.instanceId} to be running; it is pending; instance ${first.instanceId} was terminated`,
  );
  assert.ok(["shutting-down", "terminated"].includes(first.state), first.state);
  assert.equal(slow.countCalls("TerminateInstances"), 1);

  await v.retryDeploy(); // the same deployment file: its token names a terminated instance
  const launched = slow.instances("us-east-1").map((i) => i.instanceId);
  assert.equal(launched.length, 2, "the retry launched a fresh instance");
  assert.equal(new Set(launched).size, 2);
});

test("resume of a VM whose instance was terminated behind OpenNebula's back launches a new one", async () => {
  const v = vm("5.x", 206);
  await v.deploy();
  const first = v.deployId!;
  await v.poweroff();
  ep.setInstanceState(first, "terminated");
  const reply = await v.resumeFromPoweroff();
  assert.match(reply, /^DEPLOY SUCCESS 206 i-[0-9a-f]{17}$/);
  assert.notEqual(v.deployId, first);
  assert.equal(stateOf(v.deployId), "running");
});

test("resume of a VM whose instance the cloud does not know fails instead of launching another", async () => {
  const v = vm("5.x", 207);
  v.deployId = "i-0000000000000abcd";
  assert.equal(
    await v.resumeFromPoweroff(),
    "DEPLOY FAILURE 207 Cannot resume VM 207: its instance i-0000000000000abcd is unknown to the cloud (region us-east-1 at " +
      `${ep.url}); recreate the VM to launch a new one`,
  );
  assert.equal(instancesOf(207).length, 0);
});

test("migrate between hosts of the same region succeeds and keeps the deploy id; to another region it fails", async () => {
  const v = vm("5.x", 208);
  await v.deploy();
  assert.equal(await v.migrate("aws-twin"), "MIGRATE SUCCESS 208 -");
  assert.equal(
    await v.migrate("aws-eu"),
    `MIGRATE FAILURE 208 Cannot migrate ${v.deployId} from host aws-test (region us-east-1 at ${ep.url}) to host aws-eu (region eu-west-1 at ${ep.url}): an EC2 instance cannot move to another region, account or endpoint; undeploy the VM and deploy it there instead`,
  );
  assert.equal(stateOf(v.deployId), "running");
  await v.terminate();
});

test("every action one_vmm_sh can call that EC2 cannot do exists and fails with a reason", async () => {
  const v = vm("5.x", 209);
  v.deployId = "i-0123456789abcdef0";
  const calls = ep.countCalls();
  for (
    const action of [
      "attach_disk",
      "detach_disk",
      "attach_nic",
      "detach_nic",
      "snapshot_create",
      "snapshot_revert",
      "snapshot_delete",
      "resize_disk",
      "resize",
      "prereconfigure",
      "reconfigure",
      "update_sg",
      "migrate_local",
    ]
  ) {
    const reply = await v.other(action, ["x"]);
    assert.match(
      reply,
      new RegExp(
        `^${action.toUpperCase()} FAILURE 209 Action ${action} is not supported by the EC2 driver: \\S`,
      ),
    );
  }
  assert.equal(ep.countCalls(), calls, "no API call for an unsupported action");
});

test("restore with a checkpoint file that names another instance fails and starts nothing", async () => {
  const v = vm("5.x", 210);
  await v.deploy();
  await v.save();
  const other = "i-00000000000000001";
  const text = await Deno.readTextFile(v.checkpointFile);
  await Deno.writeTextFile(v.checkpointFile, text.replace(v.deployId!, other));
  const reply = await v.restore();
  assert.equal(
    reply,
    `RESTORE FAILURE 210 Cannot restore VM 210: checkpoint file ${v.checkpointFile} names ${other} but OpenNebula restores ${v.deployId}`,
  );
  assert.equal(stateOf(v.deployId), "stopped");
  await v.terminate();
});

test("a 3.2 restore of a checkpoint file written for another VM fails and starts nothing", async () => {
  const owner = vm("3.2", 211);
  await owner.deploy();
  await owner.save();
  const other = vm("3.2", 212);
  await Deno.mkdir(other.checkpointFile.replace(/\/checkpoint$/, ""), { recursive: true });
  await Deno.copyFile(owner.checkpointFile, other.checkpointFile);
  const starts = ep.countCalls("StartInstances");
  assert.equal(
    await other.restore(),
    `RESTORE FAILURE 212 Cannot restore VM 212: checkpoint file ${other.checkpointFile} was written for VM 211`,
  );
  assert.equal(ep.countCalls("StartInstances"), starts);
  assert.equal(stateOf(owner.deployId), "stopped");
});

test("a 5.x restore of an instance tagged for another VM fails and starts nothing", async () => {
  const owner = vm("5.x", 213);
  await owner.deploy();
  await owner.save();
  const other = vm("5.x", 214);
  other.deployId = owner.deployId;
  const starts = ep.countCalls("StartInstances");
  assert.equal(
    await other.restore(),
    `RESTORE FAILURE 214 Cannot restore VM 214: instance ${owner.deployId} was launched for VM 213, not VM 214`,
  );
  assert.equal(ep.countCalls("StartInstances"), starts);
  assert.equal(stateOf(owner.deployId), "stopped");
});

test("a 5.x resume whose DEPLOY_ID names another VM's instance fails and starts nothing", async () => {
  const owner = vm("5.x", 218);
  await owner.deploy();
  await owner.poweroff();
  const other = vm("5.x", 219);
  other.deployId = owner.deployId;
  const starts = ep.countCalls("StartInstances");
  assert.equal(
    await other.resumeFromPoweroff(),
    `DEPLOY FAILURE 219 Cannot resume VM 219: instance ${owner.deployId} was launched for VM 218, not VM 219`,
  );
  assert.equal(ep.countCalls("StartInstances"), starts);
  assert.equal(stateOf(owner.deployId), "stopped");
  assert.equal(instancesOf(219).length, 0);
});

test("power-off --hard and undeploy --hard force the stop; the soft ones let the guest shut down", async () => {
  const v = vm("5.x", 215);
  await v.deploy();
  const lastStop = () => ep.calls.filter((c) => c.action === "StopInstances").at(-1)?.params;
  for (
    const [step, forced] of [
      [() => v.poweroff(false), false],
      [() => v.poweroff(true), true],
      [() => v.undeploy(false), false],
      [() => v.undeploy(true), true],
    ] as const
  ) {
    assert.match(await step(), /^(SHUTDOWN|CANCEL) SUCCESS 215 -$/);
    assert.equal(lastStop()?.Force, forced ? "true" : undefined);
    assert.equal(stateOf(v.deployId), "stopped");
    assert.equal(await v.resumeFromPoweroff(), `DEPLOY SUCCESS 215 ${v.deployId}`);
  }
  await v.terminate();
});

/**
 * Starts a deploy and kills it once RunInstances was called, as oned's `-w` or a stopped oned
 * does: oned never gets an id. Returns when the endpoint holds one more instance.
 */
async function deployKilledAfterLaunch(
  endpoint: Ec2Endpoint,
  env: Record<string, string>,
  vmId: number,
  host: string,
): Promise<void> {
  const before = endpoint.countCalls("RunInstances");
  const path = await writeDeployment(tmp, vmId, vmDeployment(vmId, SECTION));
  const deploy = new Deno.Command(`${DIST_VMM}deploy`, {
    args: [path, host, String(vmId), host],
    clearEnv: true,
    env: { ...env },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 200 && endpoint.countCalls("RunInstances") === before; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  deploy.kill("SIGKILL");
  await deploy.status;
  assert.equal(endpoint.countCalls("RunInstances"), before + 1, "the killed deploy had launched");
}

/** An endpoint on which instances stay pending for a minute, and the environment to use it. */
async function slowBootEndpoint(name: string) {
  const slow = await startEc2Endpoint({ timing: { pendingMs: 60_000, shuttingDownMs: 100 } });
  const path = `${tmp}/${name}.json`;
  await writeLocalConfig(path, slow.url, TEST_CREDENTIALS, { defaults: { statePollSeconds: 0.1 } });
  return { slow, env: { ...ENV, HYBRID_DRIVER_CONFIG: path } };
}

test("onevm recover --delete of a VM whose deploy never returned an id terminates the instance found by its tags", async () => {
  const { slow, env } = await slowBootEndpoint("slow-boot");
  await using _slow = slow;
  await deployKilledAfterLaunch(slow, env, 216, HOST);
  // 5.x+ sends an empty quoted deploy id; 3.2–4.x's command line loses it.
  for (const args of [["", HOST, "216", HOST], [HOST, "216", HOST]]) {
    const result = await runAction("cancel", args, {
      stdin: oneBase64(actionData(216, HOST, "", { lcmState: 36 })),
      env,
    });
    assert.deepEqual(result, { code: 0, stdout: "", stderr: "" });
  }
  assert.equal(slow.instances("us-east-1")[0]?.state, "terminated");
  assert.equal(slow.countCalls("TerminateInstances"), 1, "the second cancel found nothing left");
});

test("power-off or undeploy of a VM without deploy id fails in one line and leaves the instances found by its tags alone", async () => {
  // An instance tagged for VM 220 runs, but oned has no deploy id for the VM: only a delete
  // (recover --delete) may end such instances; a power-off must not terminate them.
  const xml = vmDeployment(220, SECTION);
  const path = await writeDeployment(tmp, 220, xml);
  const id = deployedId(
    await runAction("deploy", [path, HOST, "220", HOST], { stdin: oneBase64(xml), env: ENV }),
  );
  const ends = () => ep.countCalls("TerminateInstances") + ep.countCalls("StopInstances");
  const before = ends();
  // LCM 18 is SHUTDOWN_POWEROFF (poweroff, --hard with cancel), 29 SHUTDOWN_UNDEPLOY.
  const sent = [["shutdown", 18], ["shutdown", 29], ["cancel", 18], ["cancel", 29]] as const;
  for (const [action, lcmState] of sent) {
    const result = await runAction(action, ["", HOST, "220", HOST], {
      stdin: oneBase64(actionData(220, HOST, "", { lcmState })),
      env: ENV,
    });
    assert.equal(
      failureLine(result),
      `Cannot ${action} VM 220: OpenNebula has no deploy id for it, so there is no instance to power off or undeploy`,
    );
  }
  assert.equal(ends(), before, "no instance was stopped or terminated");
  assert.deepEqual(instancesOf(220).map((i) => [i.instanceId, i.state]), [[id, "running"]]);
});

test("onevm recover --delete terminates only the instances launched on its own host", async () => {
  const { slow, env } = await slowBootEndpoint("slow-boot-two-hosts");
  await using _slow = slow;
  // Another OpenNebula sharing the account has a VM 217 of its own, on its own host.
  await deployKilledAfterLaunch(slow, env, 217, "aws-other-cloud");
  await deployKilledAfterLaunch(slow, env, 217, HOST);
  const result = await runAction("cancel", ["", HOST, "217", HOST], {
    stdin: oneBase64(actionData(217, HOST, "", { lcmState: 36 })),
    env,
  });
  assert.deepEqual(result, { code: 0, stdout: "", stderr: "" });
  const states = slow.instances("us-east-1").map((i) => `${i.tags["opennebula:host"]} ${i.state}`);
  assert.deepEqual(states.sort(), ["aws-other-cloud pending", `${HOST} terminated`]);
});
