import assert from "node:assert/strict";
import { LCM_STATE_NAMES, VM_STATE_NAMES } from "../../one_xmlrpc/one_states.ts";
import { onedVmAction } from "../../../tests/oned_vm_actions.ts";
import { type Intent, nextStep, terminateName } from "./action_names.ts";
import { parseRelease } from "./release.ts";

/** The latest tag of each minor series from 4.14 to 7.4. */
const RELEASES = [
  "4.14.2",
  "5.0.2",
  "5.2.1",
  "5.4.15",
  "5.6.2",
  "5.8.5",
  "5.10.5",
  "5.12.13",
  "6.0.3",
  "6.2.2",
  "6.4.7",
  "6.6.3",
  "6.8.3",
  "6.10.5",
  "7.0.2",
  "7.2.0",
  "7.4.0",
].map((text) => parseRelease(text)!);

const INTENTS: Intent[] = [
  "terminate",
  "poweroff",
  "poweroff-hard",
  "undeploy",
  "undeploy-hard",
  "suspend",
];

/** Every (STATE, LCM_STATE) a VM can be in, with its name as the driver reads it. */
const STATES: { state: number; lcm: number; name: string }[] = [
  ...VM_STATE_NAMES.map((name, state) => ({ state, lcm: 0, name }))
    .filter(({ name }) => name !== "ACTIVE"),
  ...LCM_STATE_NAMES.map((name, lcm) => ({ state: 3, lcm, name })),
];

/** The names oned knows for an intent, in some release. */
function namesOf(intent: Intent): string[] {
  return intent === "terminate"
    ? ["terminate-hard", "terminate", "shutdown-hard", "shutdown", "delete"]
    : [intent];
}

Deno.test("every name the driver sends is one oned of that release accepts in the VM's state, and where it waits or gives up no name of the intent is accepted", () => {
  for (const release of RELEASES) {
    for (const intent of INTENTS) {
      for (const vm of STATES) {
        const what = `${release.text} ${intent} in ${vm.name}`;
        const step = nextStep(intent, vm.name, release);
        const seen = { id: 5, state: vm.state, lcm: vm.lcm };
        if (typeof step === "object") {
          assert.ok("accepted" in onedVmAction(release.text, step.send, seen), what);
        } else if (step === "refused" || intent !== "terminate" || release.major >= 5) {
          for (const name of namesOf(intent)) {
            const verdict = onedVmAction(release.text, name, seen);
            const noop = vm.name === "DONE" && intent === "terminate";
            assert.ok(noop || !("accepted" in verdict), `${what}: ${name} is accepted`);
          }
        } else {
          assert.equal(step, "wait", what);
          assert.ok(["EPILOG", "CLEANUP_DELETE", "CLEANUP_RESUBMIT"].includes(vm.name), what);
        }
      }
    }
  }
});

Deno.test("terminate-hard is never sent in PROLOG, BOOT, migrating, hot-plugging or powering off, on any release; those are waited for from 5.0, and 4.14 deletes", () => {
  const busy = LCM_STATE_NAMES.filter((name) =>
    /^(PROLOG|BOOT|MIGRATE|HOTPLUG|SAVE_)/.test(name) && !name.endsWith("_FAILURE") ||
    name === "SHUTDOWN_POWEROFF" || name === "SHUTDOWN_UNDEPLOY"
  );
  assert.ok(busy.length > 25);
  for (const release of RELEASES) {
    for (const name of busy) {
      const expected = release.major === 4 ? { send: "delete" } : "wait";
      assert.deepEqual(nextStep("terminate", name, release), expected, `${release.text} ${name}`);
    }
  }
});

Deno.test("terminate-hard ends a failed VM from 5.4 (5.0-5.2 accept nothing there) and takes over a shutdown from 6.0", () => {
  const step = (release: string, state: string) =>
    nextStep("terminate", state, parseRelease(release));
  assert.equal(step("5.2.1", "BOOT_FAILURE"), "refused");
  assert.deepEqual(step("5.4.15", "PROLOG_FAILURE"), { send: "terminate-hard" });
  assert.deepEqual(step("4.14.2", "BOOT_FAILURE"), { send: "delete" });
  assert.equal(step("5.12.13", "SHUTDOWN"), "wait");
  assert.deepEqual(step("6.0.3", "SHUTDOWN"), { send: "terminate-hard" });
  assert.deepEqual(step("4.14.2", "SHUTDOWN"), { send: "delete" });
  assert.deepEqual(step("4.14.2", "POWEROFF"), { send: "shutdown-hard" });
  assert.deepEqual(step("4.14.2", "UNDEPLOYED"), { send: "delete" });
  assert.equal(step("6.10.5", "EPILOG"), "wait");
});

Deno.test("a hard power-off or undeploy takes over its soft one from 6.0 only; a soft one never does", () => {
  for (const release of RELEASES) {
    const from6 = release.major >= 6;
    for (
      const [intent, state] of [
        ["poweroff-hard", "SHUTDOWN_POWEROFF"],
        ["undeploy-hard", "SHUTDOWN_UNDEPLOY"],
      ] as const
    ) {
      assert.deepEqual(
        nextStep(intent, state, release),
        from6 ? { send: intent } : "wait",
        `${release.text} ${intent}`,
      );
      const soft = intent.replace("-hard", "") as Intent;
      assert.equal(nextStep(soft, state, release), "wait", `${release.text} ${soft}`);
    }
  }
});

Deno.test("the release is asked only where the name depends on it", () => {
  assert.equal(nextStep("terminate", "RUNNING"), "release");
  assert.equal(nextStep("terminate", "PROLOG"), "release");
  assert.equal(nextStep("terminate", "EPILOG"), "wait");
  assert.equal(nextStep("poweroff-hard", "SHUTDOWN_POWEROFF"), "release");
  assert.deepEqual(nextStep("poweroff-hard", "RUNNING"), { send: "poweroff-hard" });
  assert.equal(nextStep("poweroff", "BOOT"), "wait");
  assert.equal(nextStep("suspend", "BOOT_FAILURE"), "refused");
});

Deno.test("a terminate that cannot wait sends 4.14's delete, else terminate-hard", () => {
  assert.equal(terminateName(parseRelease("4.14.2")!), "delete");
  for (const release of RELEASES.filter((r) => r.major >= 5)) {
    assert.equal(terminateName(release), "terminate-hard", release.text);
  }
});
