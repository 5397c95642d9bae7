import assert from "node:assert/strict";
import type { HostSettings } from "../../core/config.ts";
import type { Instance, LaunchRequest, PowerOffReason } from "../../core/provider.ts";
import {
  CloudError,
  DeadlineError,
  DriverError,
  InvalidInputError,
  NotFoundError,
} from "../../util/errors.ts";
import { FakePartner, type StateName, STATES } from "../../../tests/fakes/partner_api.ts";
import { OneCloudProvider } from "./provider.ts";

/** Short timings, so that every wait ends well within a second. */
const SETTINGS: HostSettings = {
  host: "partner",
  source: "test",
  provider: "opennebula",
  connection: { endpoint: "http://partner.test:2633/RPC2", user: "partner", password: "pw" },
  template: {},
  actionTimeoutSeconds: 60,
  notFoundGraceSeconds: 600,
  stateWaitSeconds: 0.3,
  statePollSeconds: 0.01,
  notFoundRetrySeconds: 0.5,
  pollWindowSeconds: 0,
};

/** A fake partner and a provider on it. */
function setUp(settings: Partial<HostSettings> = {}) {
  const fake = new FakePartner();
  const provider = new OneCloudProvider(fake, { ...SETTINGS, ...settings });
  return { fake, provider };
}

/** A provider whose partner answers as this release. */
function onRelease(release: string, settings: Partial<HostSettings> = {}) {
  const set = setUp(settings);
  set.fake.release = release;
  return set;
}

/** The deploy of VM `vmId` to host `partner`, with these section attributes. */
function request(
  vmId = 7,
  attributes: Record<string, string> = { TEMPLATE_ID: "7" },
  extra: Partial<LaunchRequest> = {},
): LaunchRequest {
  return {
    vmId,
    host: "partner",
    deploymentName: "deployment.0",
    section: { origin: "PUBLIC_CLOUD", attributes },
    renderContext: () => undefined,
    contextVariables: () => ({ SSH_PUBLIC_KEY: "ssh-ed25519 AAAAC3 me@here", TOKEN: "a<b&c" }),
    ...extra,
  };
}

/** Launches (or finds) the VM of a deploy and returns it running. */
const launch = (provider: OneCloudProvider, launchRequest = request()): Promise<Instance> =>
  provider.prepareLaunch(launchRequest).run();

/** The methods called so far, in order. */
const methods = (fake: FakePartner) => fake.calls.map((c) => c.method);

/** The deploy id of a partner VM. */
const deployId = (id: number) => `opennebula-hybrid-${id}`;

// --- Checking a launch ---------------------------------------------------------------------

Deno.test("prepareLaunch() refuses a section without a numeric TEMPLATE_ID or with an unknown key, before any call", () => {
  const { fake, provider } = setUp();
  assert.throws(
    () => provider.prepareLaunch(request(7, {})),
    new InvalidInputError(
      "The PUBLIC_CLOUD section of TYPE opennebula has no TEMPLATE_ID (the partner template to instantiate)",
    ),
  );
  assert.throws(
    () => provider.prepareLaunch(request(7, { TEMPLATE_ID: "ubuntu" })),
    new InvalidInputError(
      "Invalid PUBLIC_CLOUD section: TEMPLATE_ID must be the number of a partner template",
    ),
  );
  assert.throws(
    () => provider.prepareLaunch(request(7, { TEMPLATE_ID: "7", TEMPLATE_IDS: "8" })),
    (error) =>
      error instanceof InvalidInputError &&
      error.message.startsWith("Invalid PUBLIC_CLOUD section: TEMPLATE_IDS: unknown PUBLIC_CLOUD"),
  );
  assert.deepEqual(fake.calls, []);
});

Deno.test("prepareLaunch() takes TEMPLATE_ID from the host's template defaults, and sizes the launch by what OpenNebula reserves", async () => {
  const { fake, provider } = setUp({ template: { TEMPLATE_ID: "7" } });
  const prepared = provider.prepareLaunch(
    request(7, {}, { reserved: { vcpus: 2, memoryMiB: 4096 } }),
  );
  assert.equal(prepared.size, "2vcpu.4096mib");
  assert.equal(provider.prepareLaunch(request()).size, undefined);
  assert.deepEqual(fake.calls, []);
  await prepared.run();
  assert.equal(fake.paramsOf("one.template.instantiate")[0]?.[0], 7);
});

Deno.test("prepareLaunch() says what the partner's quota will charge (the template's CPU, not its VCPU, and MEMORY), reading the template once for the check and the launch", async () => {
  const { fake, provider } = setUp();
  fake.script("one.template.info", {
    result: "<VMTEMPLATE><ID>7</ID><TEMPLATE><CPU>0.5</CPU><VCPU>2</VCPU><MEMORY>1024</MEMORY>" +
      "<CONTEXT><NETWORK>YES</NETWORK></CONTEXT></TEMPLATE></VMTEMPLATE>",
  });
  const prepared = provider.prepareLaunch(request());
  assert.deepEqual(fake.calls, []);
  assert.deepEqual(await prepared.charged?.(), { cpu: 0.5, memoryMiB: 1024 });
  await prepared.run();
  assert.equal(fake.paramsOf("one.template.info").length, 1);
  assert.deepEqual(fake.vms.get(40)!.context.NETWORK, "YES");
});

// --- Deploy ----------------------------------------------------------------------------------

Deno.test("deploy instantiates the template with the driver's marks and the VM's context over the template's, and returns the VM once it runs", async () => {
  const { fake, provider } = setUp();
  const instance = await launch(provider);
  assert.equal(instance.id, deployId(40));
  assert.equal(instance.state, "running");
  assert.deepEqual(methods(fake), [
    "one.vmpool.infoextended",
    "one.template.info",
    "one.template.instantiate",
    "one.vm.info", // PENDING
    "one.vm.info", // PROLOG
    "one.vm.info", // BOOT
    "one.vm.info", // RUNNING
  ]);
  const [templateId, name, hold] = fake.paramsOf("one.template.instantiate")[0]!;
  assert.deepEqual([templateId, name, hold], [7, "one-7-partner", false]);
  const vm = fake.vms.get(40)!;
  // The driver's marks: that it is another OpenNebula's VM, whose, on which host, by whom.
  assert.deepEqual(Object.entries(vm.user).map(([key, value]) => `${key}=${value}`), [
    "REMOTE_OPENNEBULA=YES",
    "REMOTE_OPENNEBULA_VM_ID=7",
    "ONE_HYBRID_HOST=partner",
    "ONE_HYBRID_DRIVER=one-hybrid",
  ]);
  // The template's own CONTEXT (its network setting) is kept; the VM's variables go over it.
  assert.deepEqual(vm.context, {
    NETWORK: "YES",
    SSH_PUBLIC_KEY: "ssh-ed25519 AAAAC3 me@here",
    TOKEN: "a<b&c",
  });
});

Deno.test("deploy takes the live VM an earlier attempt instantiated, found by its marks, instead of instantiating again", async () => {
  const { fake, provider } = setUp();
  fake.addVm({ vmId: 8, host: "partner" });
  fake.addVm({ vmId: 7, host: "other-host" });
  fake.addVm({ vmId: 7, host: "partner", state: "epilog" });
  const earlier = fake.addVm({ vmId: 7, host: "partner", state: "pending" });
  const instance = await launch(provider);
  assert.equal(instance.id, deployId(earlier.id));
  assert.equal(instance.state, "running");
  assert.equal(fake.paramsOf("one.template.instantiate").length, 0);
  assert.equal(fake.paramsOf("one.template.info").length, 0);
});

Deno.test("deploy resumes the VM an earlier attempt left powered off, waiting first for one still powering off", async () => {
  for (const state of ["poweroff", "shutdownPoweroff"] as const) {
    const { fake, provider } = setUp();
    const earlier = fake.addVm({
      vmId: 7,
      host: "partner",
      state,
      next: state === "shutdownPoweroff" ? ["poweroff"] : [],
    });
    const instance = await launch(provider);
    assert.equal(instance.id, deployId(earlier.id));
    assert.equal(instance.state, "running");
    assert.deepEqual(earlier.actions, ["resume"], state);
    assert.equal(fake.stateOf(earlier.id), "RUNNING");
  }
});

Deno.test("a deploy whose VM fails to boot terminates it, and the failure says so", async () => {
  const { fake, provider } = setUp();
  fake.failNextBoot = true;
  const failed = await launch(provider).catch((error) => error);
  assert.ok(failed instanceof CloudError);
  assert.equal(failed.code, "UnexpectedState");
  assert.equal(
    failed.message,
    `${
      deployId(40)
    } is BOOT_FAILURE on the partner cloud while waiting for it to be running; partner VM ${
      deployId(40)
    } was terminated`,
  );
  assert.deepEqual(fake.vms.get(40)!.actions, ["terminate-hard"]);
});

Deno.test("a deploy whose VM does not come up in time terminates it once it leaves PROLOG (6.10 refuses terminate-hard there), and fails as a timeout", async () => {
  const { fake, provider } = setUp({ stateWaitSeconds: 1 });
  // The VM stays in PROLOG longer than the deploy waits, then runs.
  const held = Date.now() + 1100;
  fake.script("one.template.instantiate", () => {
    const vm = fake.addVm({ state: "prolog", next: ["running"] });
    vm.heldUntil = held;
    return vm.id;
  });
  const failed = await launch(provider).catch((error) => error);
  assert.ok(failed instanceof DeadlineError);
  assert.match(
    failed.message,
    new RegExp(
      `^Timed out after 1 s waiting for ${deployId(40)} to be running; it is PROLOG; partner VM ${
        deployId(40)
      } was terminated$`,
    ),
  );
  assert.deepEqual(fake.vms.get(40)!.actions, ["terminate-hard"]);
  const sent = fake.calls.filter((c) => c.method === "one.vm.action");
  assert.equal(sent.length, 1, "nothing is sent while the partner would refuse it");
});

/** A deploy on a release whose VM stays in PROLOG: its failure, and the fake partner. */
async function deployStuckInProlog(release: string) {
  const { fake, provider } = onRelease(release);
  fake.script("one.template.instantiate", () => fake.addVm({ state: "prolog" }).id);
  const failed = await launch(provider).catch((error) => error);
  assert.ok(failed instanceof DeadlineError);
  const timedOut = `Timed out after 0.3 s waiting for ${deployId(40)} to be running; it is PROLOG`;
  return { fake, failed, timedOut };
}

Deno.test("a deploy whose VM does not come up in time on 4.14 deletes it at once (no terminate there, delete takes any state)", async () => {
  const { fake, failed, timedOut } = await deployStuckInProlog("4.14.2");
  assert.equal(failed.message, `${timedOut}; partner VM ${deployId(40)} was terminated`);
  assert.deepEqual(fake.vms.get(40)!.actions, ["delete"]);
  assert.equal(fake.stateOf(40), "EPILOG");
});

Deno.test("a deploy whose VM never leaves PROLOG on 6.10 says that its partner VM could not be terminated, and why", async () => {
  const { fake, failed, timedOut } = await deployStuckInProlog("6.10.5");
  assert.equal(
    failed.message,
    `${timedOut}; partner VM ${
      deployId(40)
    } could not be terminated (Timed out after 0.3 s waiting for ${
      deployId(40)
    } to be terminated; it is PROLOG); it is named one-7-partner`,
  );
  assert.deepEqual(fake.vms.get(40)!.actions, []);
});

Deno.test("a failed deploy whose clean-up is refused names the partner VM it leaves behind", async () => {
  const { fake, provider } = setUp();
  fake.failNextBoot = true;
  fake.script("one.vm.action", new CloudError("2048", "Cannot terminate-hard: refused"));
  const failed = await launch(provider).catch((error) => error);
  assert.ok(failed instanceof CloudError);
  assert.equal(failed.code, "UnexpectedState");
  assert.match(
    failed.message,
    / on the partner cloud while waiting for it to be running; partner VM opennebula-hybrid-40 could not be terminated \(2048\); it is named one-7-partner$/,
  );
});

Deno.test("a deploy from a template the partner does not know fails as NoSuchTemplate and instantiates nothing", async () => {
  const { fake, provider } = setUp();
  const failed = await launch(provider, request(7, { TEMPLATE_ID: "99" })).catch((e) => e);
  assert.ok(failed instanceof CloudError);
  assert.equal(failed.code, "NoSuchTemplate");
  assert.equal(
    failed.message,
    "Cannot deploy VM 7: partner template 99: the partner cloud at http://partner.test:2633/RPC2 answered one.template.info with error 1024: [one.template.info] Error getting template [99].",
  );
  assert.ok(failed.cause instanceof NotFoundError);
  assert.deepEqual(methods(fake), ["one.vmpool.infoextended", "one.template.info"]);
});

Deno.test("a deploy whose instantiate answers no VM id fails as InvalidResponse, and a refused one as the partner refused it", async () => {
  const { fake, provider } = setUp();
  fake.script("one.template.instantiate", { result: "ok" });
  await assert.rejects(
    launch(provider),
    new CloudError(
      "InvalidResponse",
      "Cannot deploy VM 7: the partner cloud at http://partner.test:2633/RPC2 answered one.template.instantiate without a VM id",
    ),
  );
  const quota = new CloudError("512", "Cannot deploy VM 7 from partner template 7: quota");
  fake.script("one.template.instantiate", quota);
  await assert.rejects(launch(provider), (error) => error === quota);
  assert.equal(fake.paramsOf("one.vm.info").length, 0);
});

// --- Describe and waits ------------------------------------------------------------------------

Deno.test("describe() maps the partner's states, is NotFoundError for a VM the partner does not know, and refuses another VM's document", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm({ state: "poweroff", vmId: 7, host: "partner" });
  const seen = await provider.describe(deployId(vm.id));
  assert.deepEqual([seen.state, seen.nativeState, seen.ownerVmId], ["stopped", "POWEROFF", 7]);
  await assert.rejects(provider.describe(deployId(99)), NotFoundError);
  const other = fake.addVm();
  fake.script("one.vm.info", () => fake.call("", "one.vm.info", other.id));
  await assert.rejects(provider.describe(deployId(vm.id)), {
    name: "CloudError",
    code: "InvalidResponse",
    message: `Cannot describe ${
      deployId(vm.id)
    }: the partner cloud at http://partner.test:2633/RPC2 answered one.vm.info with another VM's document or one without ID, STATE and LCM_STATE`,
  });
});

Deno.test("an id that is not a partner deploy id is refused before any call", async () => {
  const { fake, provider } = setUp();
  for (const id of ["i-0123456789abcdef0", "opennebula-hybrid-x", "one-7"]) {
    await assert.rejects(provider.describe(id), InvalidInputError, id);
    await assert.rejects(provider.terminate(id), InvalidInputError, id);
  }
  assert.deepEqual(fake.calls, []);
});

// --- Terminate ---------------------------------------------------------------------------------

Deno.test("terminate() asks the partner's release, sends terminate-hard and returns once the partner reports the VM done", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm({ vmId: 7, host: "partner" });
  assert.equal(await provider.terminate(deployId(vm.id)), "terminated");
  assert.deepEqual(vm.actions, ["terminate-hard"]);
  assert.equal(fake.stateOf(vm.id), "DONE");
  assert.deepEqual(methods(fake), [
    "one.vm.info", // RUNNING
    "one.system.version", // the name depends on it (4.14 has no terminate-hard)
    "one.vm.action",
    "one.vm.info", // EPILOG
    "one.vm.info", // DONE
  ]);
});

Deno.test("terminate() of a VM the partner does not know is gone, and of one done or ending sends nothing", async () => {
  const { fake, provider } = setUp();
  assert.equal(await provider.terminate(deployId(99)), "gone");
  const done = fake.addVm({ state: "done" });
  assert.equal(await provider.terminate(deployId(done.id)), "terminated");
  const ending = fake.addVm({ state: "epilog", next: ["done"] });
  assert.equal(await provider.terminate(deployId(ending.id)), "terminated");
  assert.equal(fake.paramsOf("one.vm.action").length, 0);
  assert.equal(fake.stateOf(ending.id), "DONE");
});

Deno.test("terminate() counts a VM that the partner stops knowing while it ends as terminated", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm();
  fake.script("one.vm.info", (_params, model) => model());
  fake.script("one.vm.info", new NotFoundError("Cannot describe: no such VM"));
  assert.equal(await provider.terminate(deployId(vm.id)), "terminated");
  assert.deepEqual(vm.actions, ["terminate-hard"]);
});

Deno.test("terminate() fails when the partner refuses the VM's state on the way out, as any refusal", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm();
  const refused = new CloudError("2048", "Cannot terminate-hard: refused");
  fake.script("one.vm.action", refused);
  await assert.rejects(provider.terminate(deployId(vm.id)), (error) => error === refused);
});

Deno.test("requestTerminate() sends one terminate-hard without waiting; an unknown VM counts as done, a refusal fails", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm();
  await provider.requestTerminate(deployId(vm.id));
  assert.deepEqual(methods(fake), ["one.system.version", "one.vm.action"]);
  assert.deepEqual(fake.paramsOf("one.vm.action"), [["terminate-hard", vm.id]]);
  await provider.requestTerminate(deployId(99));
  await assert.rejects(provider.requestTerminate(deployId(vm.id)), { name: "CloudError" });
});

// --- Action names and states per partner release ----------------------------------------------

/** Terminates a VM in a state on each release, checking the name it was sent. */
async function assertTerminatedWith(state: StateName, cases: [string, string][]) {
  for (const [release, name] of cases) {
    const { fake, provider } = onRelease(release);
    const vm = fake.addVm({ state });
    assert.equal(await provider.terminate(deployId(vm.id)), "terminated", release);
    assert.deepEqual(vm.actions, [name], release);
    assert.equal(fake.stateOf(vm.id), "DONE", release);
  }
}

Deno.test("terminate() of a running VM sends each release's name: shutdown-hard on 4.14, terminate-hard from 5.0", async () => {
  await assertTerminatedWith("running", [
    ["4.14.2", "shutdown-hard"],
    ["5.0.2", "terminate-hard"],
    ["5.12.13", "terminate-hard"],
    ["6.10.5", "terminate-hard"],
    ["7.4.0", "terminate-hard"],
  ]);
});

Deno.test("terminate() of a VM in PROLOG, BOOT or migrating waits until the partner accepts terminate-hard (5.0+), and 4.14 deletes it at once", async () => {
  for (const release of ["4.14.2", "5.12.13", "6.10.5", "7.4.0"]) {
    for (const state of ["prolog", "boot", "migrate"] as const) {
      const { fake, provider } = onRelease(release);
      // Still in that state when first seen and once more, then running.
      const vm = fake.addVm({ state, next: [state, "running"] });
      assert.equal(await provider.terminate(deployId(vm.id)), "terminated");
      const what = `${release} ${state}`;
      assert.deepEqual(vm.actions, [release === "4.14.2" ? "delete" : "terminate-hard"], what);
      assert.equal(fake.stateOf(vm.id), "DONE", what);
      const action = fake.calls.findIndex((c) => c.method === "one.vm.action");
      const seen = fake.calls.slice(0, action).filter((c) => c.method === "one.vm.info").length;
      assert.equal(seen, release === "4.14.2" ? 1 : 3, what);
    }
  }
});

Deno.test("terminate() of a failed VM sends terminate-hard from 5.4 and delete on 4.14; 5.0-5.2 accept no terminate there, which the failure says with its way out", async () => {
  await assertTerminatedWith("bootFailure", [["4.14.2", "delete"], ["5.4.15", "terminate-hard"]]);
  const { fake, provider } = onRelease("5.2.1");
  const vm = fake.addVm({ state: "bootFailure" });
  await assert.rejects(
    provider.terminate(deployId(vm.id)),
    new CloudError(
      "UnexpectedState",
      `Cannot terminate ${
        deployId(vm.id)
      }: the partner VM is BOOT_FAILURE, a state in which OpenNebula 5.2.1 accepts no terminate (the partner's administrator can end it: onevm recover --delete ${vm.id})`,
    ),
  );
  assert.deepEqual(vm.actions, []);
});

Deno.test("terminate() takes over a soft shutdown the guest ignores with terminate-hard on 6.0+ (4.14: delete), and waits for it on 5.x", async () => {
  await assertTerminatedWith("shutdown", [["4.14.2", "delete"], ["6.0.3", "terminate-hard"]]);
  const { fake, provider } = onRelease("5.12.13");
  const vm = fake.addVm({ state: "shutdown", next: ["epilog", "done"] });
  assert.equal(await provider.terminate(deployId(vm.id)), "terminated");
  assert.deepEqual(vm.actions, []);
});

Deno.test("a hard power-off or undeploy takes over a soft one in progress on 6.0+ (poweroff-hard, undeploy-hard); before 6.0 it waits, sending nothing the partner refuses", async () => {
  for (
    const [reason, state] of [["poweroff", "shutdownPoweroff"], [
      "undeploy",
      "shutdownUndeploy",
    ]] as const
  ) {
    for (const release of ["6.0.3", "7.4.0"]) {
      const { fake, provider } = onRelease(release);
      const vm = fake.addVm({ state });
      const off = await provider.powerOff(deployId(vm.id), { hard: true, reason });
      assert.equal(off.state, "stopped");
      assert.deepEqual(vm.actions, [`${reason}-hard`], `${release} ${reason}`);
    }
    for (const release of ["4.14.2", "5.12.13"]) {
      const { fake, provider } = onRelease(release);
      const vm = fake.addVm({ state });
      await assert.rejects(
        provider.powerOff(deployId(vm.id), { hard: true, reason }),
        DeadlineError,
        `${release} ${reason}`,
      );
      assert.deepEqual(vm.actions, [], `${release} ${reason}`);
    }
  }
});

Deno.test("powerOff() of a VM on its way up waits until it runs before sending the power-off", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm({ state: "boot", next: ["boot", "running"] });
  const off = await provider.powerOff(deployId(vm.id), { hard: false, reason: "poweroff" });
  assert.equal(off.nativeState, "POWEROFF");
  assert.deepEqual(vm.actions, ["poweroff"]);
  assert.equal(fake.paramsOf("one.system.version").length, 0, "the name does not depend on it");
});

Deno.test("powerOff() of a VM in a state it stays in and no power-off is accepted in fails in one line, sending nothing", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm({ state: "bootFailure" });
  await assert.rejects(
    provider.powerOff(deployId(vm.id), { hard: true, reason: "undeploy" }),
    new CloudError(
      "UnexpectedState",
      `Cannot undeploy-hard ${
        deployId(vm.id)
      }: the partner VM is BOOT_FAILURE, a state in which the partner accepts no undeploy-hard`,
    ),
  );
  assert.equal(fake.paramsOf("one.vm.action").length, 0);
});

Deno.test("requestTerminate() sends 4.14 delete, which takes any state", async () => {
  const { fake, provider } = onRelease("4.14.2");
  const vm = fake.addVm({ state: "undeployed" });
  await provider.requestTerminate(deployId(vm.id));
  assert.deepEqual(fake.paramsOf("one.vm.action"), [["delete", vm.id]]);
});

// --- Learning the release ------------------------------------------------------------------------

/** A kept release in memory, as the shared state directory keeps it. */
function keptRelease(value?: string) {
  const kept = {
    value,
    writes: [] as string[],
    read: () => Promise.resolve(kept.value),
    write: (text: string) => {
      kept.writes.push(text);
      kept.value = text;
      return Promise.resolve();
    },
  };
  return kept;
}

Deno.test("the release is asked once per provider and kept; a kept one is used without asking", async () => {
  const fake = new FakePartner();
  const kept = keptRelease();
  const provider = new OneCloudProvider(fake, SETTINGS, undefined, kept);
  const [a, b] = [fake.addVm(), fake.addVm()];
  await provider.terminate(deployId(a.id));
  await provider.terminate(deployId(b.id));
  assert.equal(fake.paramsOf("one.system.version").length, 1);
  assert.deepEqual(kept.writes, ["6.10.5"]);
  const next = new OneCloudProvider(fake, SETTINGS, undefined, kept);
  const c = fake.addVm();
  await next.requestTerminate(deployId(c.id));
  assert.equal(fake.paramsOf("one.system.version").length, 1, "the kept release serves");
});

Deno.test("a name the partner refuses as not supported, chosen by a kept release, has the release asked again and the right name sent", async () => {
  for (
    const [keptText, release, name] of [["6.10.5", "4.14.2", "shutdown-hard"], [
      "4.14.2",
      "6.10.5",
      "terminate-hard",
    ]]
  ) {
    const { fake } = setUp();
    fake.release = release!;
    const kept = keptRelease(keptText);
    const provider = new OneCloudProvider(fake, SETTINGS, undefined, kept);
    const vm = fake.addVm();
    assert.equal(await provider.terminate(deployId(vm.id)), "terminated");
    assert.deepEqual(vm.actions, [name], `kept ${keptText}, partner ${release}`);
    assert.equal(fake.paramsOf("one.system.version").length, 1);
    assert.deepEqual(kept.writes, [release]);
  }
});

Deno.test("a refusal of a name chosen by a release asked just now is not asked again", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm();
  fake.release = "4.14.2";
  fake.script("one.system.version", { result: "6.10.5" });
  await assert.rejects(provider.terminate(deployId(vm.id)), {
    name: "CloudError",
    code: "2048",
    message: `Cannot terminate-hard ${
      deployId(vm.id)
    }: the partner cloud at http://partner.test:2633/RPC2 answered one.vm.action with error 2048: [VirtualMachineAction] Virtual machine action "terminate-hard" is not supported`,
  });
  assert.equal(fake.paramsOf("one.system.version").length, 1);
});

Deno.test("a partner whose one.system.version answers no release fails the action in one line", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm();
  fake.script("one.system.version", { result: "OpenNebula" });
  await assert.rejects(
    provider.terminate(deployId(vm.id)),
    new CloudError(
      "InvalidResponse",
      `Cannot terminate ${
        deployId(vm.id)
      }: the partner cloud at http://partner.test:2633/RPC2 answered one.system.version with "OpenNebula", not an OpenNebula release`,
    ),
  );
  assert.deepEqual(vm.actions, []);
});

// --- Power off, resume, reboot, reset ------------------------------------------------------------

Deno.test("powerOff() sends the action OpenNebula's reason asks for and returns once the VM is off", async () => {
  const cases: [PowerOffReason, boolean, string, string][] = [
    ["poweroff", false, "poweroff", "POWEROFF"],
    ["poweroff", true, "poweroff-hard", "POWEROFF"],
    ["undeploy", false, "undeploy", "UNDEPLOYED"],
    ["undeploy", true, "undeploy-hard", "UNDEPLOYED"],
    ["suspend", false, "suspend", "SUSPENDED"],
    ["suspend", true, "suspend", "SUSPENDED"],
  ];
  for (const [reason, hard, action, native] of cases) {
    const { fake, provider } = setUp();
    const vm = fake.addVm();
    const off = await provider.powerOff(deployId(vm.id), { hard, reason });
    assert.deepEqual([off.state, off.nativeState], ["stopped", native], action);
    assert.deepEqual(vm.actions, [action]);
  }
});

Deno.test("powerOff() of a VM already off sends nothing, and of one powering off only waits", async () => {
  const { fake, provider } = setUp();
  const off = fake.addVm({ state: "poweroff" });
  const stopping = fake.addVm({ state: "shutdownPoweroff", next: ["poweroff"] });
  const options = { hard: false, reason: "poweroff" } as const;
  assert.equal((await provider.powerOff(deployId(off.id), options)).nativeState, "POWEROFF");
  assert.equal((await provider.powerOff(deployId(stopping.id), options)).nativeState, "POWEROFF");
  assert.equal(fake.paramsOf("one.vm.action").length, 0);
});

Deno.test("resume() resumes an off VM and returns it running; a running VM is left alone; a gone one fails", async () => {
  const { fake, provider } = setUp();
  const off = fake.addVm({ state: "undeployed" });
  assert.equal((await provider.resume(deployId(off.id))).nativeState, "RUNNING");
  assert.deepEqual(off.actions, ["resume"]);
  const running = fake.addVm();
  assert.equal((await provider.resume(deployId(running.id))).state, "running");
  assert.deepEqual(running.actions, []);
  const ending = fake.addVm({ state: "epilog" });
  await assert.rejects(
    provider.resume(deployId(ending.id)),
    new CloudError(
      "InstanceGone",
      `Cannot resume ${deployId(ending.id)}: the partner VM is EPILOG`,
    ),
  );
  assert.deepEqual(ending.actions, []);
});

Deno.test("resume() of a VM still powering off waits for it to be off before resuming it", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm({ state: "shutdownPoweroff", next: ["poweroff"] });
  assert.equal((await provider.resume(deployId(vm.id))).state, "running");
  assert.deepEqual(vm.actions, ["resume"]);
});

Deno.test("resume() of a VM already on its way up sends nothing and waits until it runs", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm({ state: "pending" });
  assert.equal((await provider.resume(deployId(vm.id))).state, "running");
  assert.deepEqual(vm.actions, []);
  assert.equal(fake.paramsOf("one.vm.action").length, 0);
});

Deno.test("a wait for a VM that falls into a failure fails at once, naming the state; one that falls into UNKNOWN waits on until its deadline", async () => {
  const { fake, provider } = setUp();
  for (
    const [state, failure] of [[STATES.bootFailure, "BOOT_FAILURE"], [
      STATES.unknown,
      "UNKNOWN",
    ]] as const
  ) {
    const vm = fake.addVm({ state: "poweroff" });
    fake.script("one.vm.action", (_params, model) => {
      const answer = model();
      vm.next = [state];
      return answer;
    });
    await assert.rejects(
      provider.resume(deployId(vm.id)),
      failure === "UNKNOWN"
        // The partner lost track of it; it may still come back by itself (issue 20).
        ? new DeadlineError(
          `Timed out after 0.3 s waiting for ${deployId(vm.id)} to be running; it is UNKNOWN`,
        )
        : new CloudError(
          "UnexpectedState",
          `${
            deployId(vm.id)
          } is ${failure} on the partner cloud while waiting for it to be running`,
        ),
    );
  }
});

Deno.test("reboot() sends reboot; reset() sends reboot-hard and returns the VM running", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm();
  await provider.reboot(deployId(vm.id));
  assert.equal((await provider.reset(deployId(vm.id))).state, "running");
  assert.deepEqual(vm.actions, ["reboot", "reboot-hard"]);
  assert.deepEqual(methods(fake), ["one.vm.action", "one.vm.action", "one.vm.info"]);
});

// --- Listing, sizes, checkpoint, migrate, quota ----------------------------------------------

Deno.test("findLaunched() keeps the VM's live partner VMs marked for its host", async () => {
  const { fake, provider } = setUp();
  const vms: [Parameters<FakePartner["addVm"]>[0], boolean][] = [
    [{ vmId: 7, host: "partner" }, true],
    [{ vmId: 7, host: "partner", state: "poweroff" }, true],
    [{ vmId: 7, host: "partner", state: "epilog" }, false],
    [{ vmId: 7, host: "elsewhere" }, false],
    [{ vmId: 8, host: "partner" }, false],
    [{ name: "wild" }, false],
  ];
  const kept = vms.flatMap(([options, found]) => {
    const vm = fake.addVm(options);
    return found ? [deployId(vm.id)] : [];
  });
  const found = await provider.findLaunched(7, "partner");
  assert.deepEqual(found.map((i) => i.id), kept);
  assert.deepEqual(methods(fake), ["one.vmpool.infoextended"]);
  // The user's VMs but DONE ones, the first page of rows (offset 0, 100 rows): it holds them all.
  assert.deepEqual(fake.paramsOf("one.vmpool.infoextended"), [[-3, 0, -100, -1]]);
});

Deno.test("listForHost() keeps the pending and running VMs the driver launched for the host; list() every VM of the user", async () => {
  const { fake, provider } = setUp();
  const running = fake.addVm({ vmId: 7, host: "partner" });
  const pending = fake.addVm({ vmId: 8, host: "partner", state: "pending" });
  fake.addVm({ vmId: 9, host: "partner", state: "poweroff" });
  fake.addVm({ vmId: 10, host: "elsewhere" });
  const wild = fake.addVm({ name: "wild" });
  fake.addVm({ state: "done" });
  const held = await provider.listForHost("partner");
  assert.deepEqual(held.map((i) => i.id), [deployId(running.id), deployId(pending.id)]);
  const all = await provider.list();
  assert.equal(all.length, 5);
  const listedWild = all.find((i) => i.id === deployId(wild.id));
  assert.equal(listedWild?.launchedByDriver, false);
  assert.equal(listedWild?.name, "wild");
  assert.equal(fake.calls.length, 2);
});

Deno.test("each listing tells the partner what it is for, so that a failure says it", async () => {
  const { fake, provider } = setUp();
  await provider.findLaunched(7, "partner");
  await provider.listForHost("partner");
  await provider.list();
  assert.deepEqual(fake.calls.map((c) => c.doing), [
    "Cannot look for the partner VMs of VM 7",
    "Cannot list the partner VMs of host partner",
    "Cannot list the partner VMs",
  ]);
});

Deno.test("sizes() reads the size names, asking nothing", async () => {
  const { fake, provider } = setUp();
  const sizes = await provider.sizes(["2vcpu.4096mib", "t3.micro", "1vcpu.512mib"]);
  assert.deepEqual([...sizes], [
    ["2vcpu.4096mib", { vcpus: 2, memoryMiB: 4096 }],
    ["1vcpu.512mib", { vcpus: 1, memoryMiB: 512 }],
  ]);
  assert.deepEqual(fake.calls, []);
});

Deno.test("snapshot() makes a partner snapshot and names it after the deploy id; an answer without its id fails", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm();
  assert.equal(
    await provider.snapshot(deployId(vm.id), "checkpoint-1", 7),
    `${deployId(vm.id)}/snapshot-0`,
  );
  assert.deepEqual(fake.paramsOf("one.vm.snapshotcreate"), [[vm.id, "checkpoint-1"]]);
  fake.script("one.vm.snapshotcreate", { result: "0" });
  await assert.rejects(provider.snapshot(deployId(vm.id), "checkpoint-2", 7), {
    name: "CloudError",
    code: "InvalidResponse",
  });
});

Deno.test("rehome() merges the new host's mark into the VM's user template and renames it", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm({ vmId: 7, host: "partner" });
  await provider.rehome(deployId(vm.id), "partner-b", 7);
  assert.equal(vm.user.ONE_HYBRID_HOST, "partner-b");
  assert.equal(vm.user.REMOTE_OPENNEBULA_VM_ID, "7");
  assert.equal(vm.name, "one-7-partner-b");
  assert.deepEqual(fake.paramsOf("one.vm.update"), [
    [vm.id, "<TEMPLATE><ONE_HYBRID_HOST>partner-b</ONE_HYBRID_HOST></TEMPLATE>", 1],
  ]);
  assert.deepEqual((await provider.findLaunched(7, "partner-b")).map((i) => i.id), [
    deployId(vm.id),
  ]);
  assert.deepEqual(await provider.findLaunched(7, "partner"), []);
});

Deno.test("quotaCapacity() reads the session user's VM quota, the default quota where the user has none", async () => {
  const { fake, provider } = setUp();
  fake.userQuota.VMS = 4;
  fake.quotaUsed.VMS = 1;
  fake.userQuota.CPU = -1;
  fake.defaultQuota.CPU = 8;
  fake.userQuota.MEMORY = 2048;
  fake.quotaUsed.MEMORY = 512;
  assert.deepEqual(await provider.quotaCapacity(), {
    vcpus: [{ limit: 8, used: 0, runningOnly: false }],
    memoryGiB: [{ limit: 2, used: 0.5, runningOnly: false }],
    instances: [{ limit: 4, used: 1, runningOnly: false }],
  });
  assert.deepEqual(fake.paramsOf("one.user.info"), [[-1]]);
});

Deno.test("the provider's location names the partner endpoint and user, which hosts sharing it have in common", () => {
  const { provider } = setUp();
  assert.equal(provider.location, '["opennebula","http://partner.test:2633/RPC2","partner"]');
  assert.equal(provider.locationLabel, "partner cloud at http://partner.test:2633/RPC2");
  assert.equal(provider.factPrefix, "ONE");
});

Deno.test("an error that is not the driver's, thrown while booting, is reported as a driver error after the clean-up", async () => {
  const { fake, provider } = setUp();
  const vm = fake.addVm({ vmId: 7, host: "partner", state: "pending", next: [] });
  fake.script("one.vm.info", () => {
    throw new TypeError("cannot read");
  });
  const failed = await launch(provider).catch((error) => error);
  assert.equal(failed.constructor, DriverError);
  assert.equal(
    failed.message,
    `TypeError: cannot read; partner VM ${deployId(vm.id)} was terminated`,
  );
  assert.deepEqual(vm.actions, ["terminate-hard"]);
});
