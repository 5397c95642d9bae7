/**
 * How the partner provider's waits read the partner's states (issue 20): a wait goes on while
 * the partner VM can reach the goal on its own (backed up, UNKNOWN, a state of a later release),
 * and ends at once when only a partner operator can move it on (a failure, HOLD).
 */

import assert from "node:assert/strict";
import { parseConfig } from "../../core/config.ts";
import { CloudError } from "../../util/errors.ts";
import { FakePartner, type OneState, STATES } from "../../../tests/fakes/partner_api.ts";
import { PROVIDER_KINDS } from "../mod.ts";
import { OneCloudProvider } from "./provider.ts";

const BACKUP: OneState = [3, 69];
const BACKUP_POWEROFF: OneState = [3, 70];
const BOOT_UNKNOWN: OneState = [3, 19];
const HOLD: OneState = [2, 0];

/** A fake partner, and a provider on it whose waits last 0.3 s, asking every 10 ms. */
function partnerHost() {
  const fake = new FakePartner();
  const config = {
    defaults: {
      provider: "opennebula",
      endpoint: "http://partner.test:2633/RPC2",
      user: "partner",
      password: "pw",
    },
  };
  const settings = parseConfig(PROVIDER_KINDS, JSON.stringify(config), "/test.json", "partner");
  const short = { ...settings, stateWaitSeconds: 0.3, statePollSeconds: 0.01 };
  return { fake, provider: new OneCloudProvider(fake, short) };
}

/** Deploys VM 7 to the host from template 7; its partner VM goes through `path` once made. */
function deploy(fake: FakePartner, provider: OneCloudProvider, path: OneState[]) {
  fake.script("one.template.instantiate", (_params, model) => {
    const id = model() as number;
    fake.vms.get(id)!.next = [...path];
    return id;
  });
  return provider.prepareLaunch({
    vmId: 7,
    host: "partner",
    deploymentName: "deployment.0",
    section: { origin: "PUBLIC_CLOUD", attributes: { TEMPLATE_ID: "7" } },
    renderContext: () => undefined,
    contextVariables: () => undefined,
  }).run();
}

Deno.test("a deploy whose partner VM is already being backed up when first seen up takes it as running, and terminates nothing", async () => {
  const { fake, provider } = partnerHost();
  const instance = await deploy(fake, provider, [STATES.prolog, STATES.boot, BACKUP]);
  assert.deepEqual([instance.state, instance.nativeState], ["running", "BACKUP"]);
  assert.deepEqual(fake.vms.get(40)!.actions, []);
});

Deno.test("a wait for a powered-off partner VM ends when the VM is being backed up powered off (BACKUP_POWEROFF)", async () => {
  const { fake, provider } = partnerHost();
  const vm = fake.addVm({ state: "shutdownPoweroff" });
  vm.next = [STATES.shutdownPoweroff, BACKUP_POWEROFF, STATES.poweroff];
  const off = await provider.powerOff(`opennebula-hybrid-${vm.id}`, {
    reason: "poweroff",
    hard: false,
  });
  assert.deepEqual([off.state, off.nativeState], ["stopped", "BACKUP_POWEROFF"]);
  assert.deepEqual(vm.actions, []);
});

Deno.test("a wait for a powered-off partner VM goes on through a backup of the VM still running", async () => {
  const { fake, provider } = partnerHost();
  const vm = fake.addVm({ state: "running" });
  // The guest took its time: oned gave up the soft power-off (RUNNING again), backed the VM up,
  // and then found it powered off by its guest.
  fake.script("one.vm.action", (_params, model) => {
    const id = model();
    vm.next = [STATES.running, BACKUP, BACKUP, STATES.running, STATES.poweroff];
    return id;
  });
  const off = await provider.powerOff(`opennebula-hybrid-${vm.id}`, {
    reason: "poweroff",
    hard: false,
  });
  assert.equal(off.nativeState, "POWEROFF");
  assert.deepEqual(vm.actions, ["poweroff"]);
});

Deno.test("a wait goes on while the partner VM is UNKNOWN: resuming it waits until the partner has it running again", async () => {
  const { fake, provider } = partnerHost();
  const vm = fake.addVm({ state: "unknown" });
  // oned takes the resume and boots the VM a moment later (UNKNOWN, BOOT_UNKNOWN, RUNNING).
  fake.script("one.vm.action", (params) => {
    vm.actions.push(String(params[0]));
    vm.next = [BOOT_UNKNOWN, STATES.running];
    return vm.id;
  });
  const running = await provider.resume(`opennebula-hybrid-${vm.id}`);
  assert.equal(running.nativeState, "RUNNING");
  assert.deepEqual(vm.actions, ["resume"]);
  assert.equal(fake.paramsOf("one.vm.info").length, 4);
});

Deno.test("a wait goes on through a state no release this driver knows defines (a later release's)", async () => {
  const { fake, provider } = partnerHost();
  const instance = await deploy(fake, provider, [STATES.boot, [3, 72], STATES.running]);
  assert.equal(instance.nativeState, "RUNNING");
  assert.deepEqual(fake.vms.get(40)!.actions, []);
});

Deno.test("a deploy whose partner VM is put on hold fails at the first sight of HOLD, and terminates it: only a partner operator could release it", async () => {
  const { fake, provider } = partnerHost();
  const failed = await deploy(fake, provider, [HOLD]).catch((error) => error);
  assert.ok(failed instanceof CloudError, String(failed));
  assert.equal(
    failed.message,
    "opennebula-hybrid-40 is HOLD on the partner cloud while waiting for it to be running; " +
      "partner VM opennebula-hybrid-40 was terminated",
  );
  assert.deepEqual(fake.vms.get(40)!.actions, ["terminate-hard"]);
  // PENDING, HOLD, and the clean-up's own look at the VM before it chooses the name to send.
  assert.equal(fake.paramsOf("one.vm.info").length, 3);
});
