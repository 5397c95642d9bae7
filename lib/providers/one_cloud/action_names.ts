/**
 * Which `one.vm.action` name a partner accepts for what the driver wants done, in the state its
 * VM is in, release by release, as OpenNebula's `DispatchManager` decides (4.14.2 to 7.4.0,
 * `src/dm/DispatchManagerActions.cc`; the names in `src/rm/RequestManagerVirtualMachine.cc`):
 *
 * - 4.14 has no `terminate`: `shutdown-hard` ends a VM that runs, is powered off or suspended;
 *   `delete` ends one in any state. 5.0 renamed them `terminate(-hard)` (keeping the old names as
 *   aliases until 5.12); 6.0 dropped the aliases.
 * - `terminate-hard` is refused in every busy state (PROLOG, BOOT, migrating, hot-plugging,
 *   saving, powering off); it is accepted in the `*_FAILURE` states from 5.4, and in SHUTDOWN
 *   (a soft terminate the guest ignores) from 6.0.
 * - `poweroff-hard` and `undeploy-hard` take over a soft power-off or undeploy the guest ignores
 *   (SHUTDOWN_POWEROFF, SHUTDOWN_UNDEPLOY) from 6.0.
 *
 * Where no name is accepted yet but the VM is on its way to another state, the driver waits.
 *
 * @module
 */

import { LCM_STATE_NAMES, VM_STATE_NAMES } from "../../one_xmlrpc/one_states.ts";
import { atLeast, type OneRelease } from "./release.ts";

/** What the driver wants done to a partner VM. */
export type Intent =
  | "terminate"
  | "poweroff"
  | "poweroff-hard"
  | "undeploy"
  | "undeploy-hard"
  | "suspend";

/**
 * What to do next: send an action name; wait while the VM moves on by itself; nothing can be
 * done in this state; or the answer depends on the partner's release, which is not known yet.
 */
export type Step = { readonly send: string } | "wait" | "refused" | "release";

/** ACTIVE's failure states (`BOOT_FAILURE`, ...), where a VM stays until someone acts on it. */
const FAILURES = new Set(LCM_STATE_NAMES.filter((name) => name.endsWith("_FAILURE")));

/** The VM states (`STATE`) a VM leaves by itself: to be scheduled, to be deployed, cloned. */
const MOVING_STATES = new Set(["INIT", "PENDING", "ACTIVE", "CLONING"]);

/** States a VM stays in until someone acts on it (every other one moves on by itself). */
const SETTLED = new Set([
  ...VM_STATE_NAMES.filter((name) => !MOVING_STATES.has(name)),
  "RUNNING",
  "UNKNOWN",
  ...FAILURES,
]);

/** Where `terminate-hard` (5.0+) is accepted on every release that has it. */
const TERMINABLE = new Set([
  "INIT",
  "PENDING",
  "HOLD",
  "CLONING",
  "CLONING_FAILURE",
  "SUSPENDED",
  "POWEROFF",
  "STOPPED",
  "UNDEPLOYED",
  "RUNNING",
  "UNKNOWN",
]);

/** Where 4.14's `shutdown-hard` is accepted. */
const SHUTDOWN_HARD_FROM = new Set(["POWEROFF", "SUSPENDED", "RUNNING", "UNKNOWN"]);

/** A VM on its way to DONE already (an epilog, a clean-up): waited for, never cut short. */
const ENDING = new Set(["EPILOG", "CLEANUP_DELETE", "CLEANUP_RESUBMIT"]);

/** Where each power-off name is accepted on every release, besides its 6.0+ escalation. */
const POWER_OFF_FROM: Readonly<Record<Exclude<Intent, "terminate">, readonly string[]>> = {
  poweroff: ["RUNNING", "UNKNOWN"],
  "poweroff-hard": ["RUNNING", "UNKNOWN"],
  undeploy: ["POWEROFF", "RUNNING", "UNKNOWN"],
  "undeploy-hard": ["POWEROFF", "RUNNING", "UNKNOWN"],
  suspend: ["RUNNING"],
};

/** The soft power-off each hard one takes over from 6.0 on. */
const ESCALATES: Readonly<Record<string, string>> = {
  "poweroff-hard": "SHUTDOWN_POWEROFF",
  "undeploy-hard": "SHUTDOWN_UNDEPLOY",
};

/**
 * What to send for an intent to a VM in a state, on a release.
 *
 * @param intent What the driver wants done.
 * @param state The VM's state as OpenNebula names it: `LCM_STATE`'s name for an ACTIVE VM
 *   (`BOOT`), `STATE`'s otherwise (`POWEROFF`).
 * @param release The partner's release, when known.
 * @returns The step; `release` when it depends on a release not given.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nextStep } from "./action_names.ts";
 * const r = (text: string) => ({ text, major: Number(text.split(".")[0]), minor: Number(text.split(".")[1]) });
 * assert.deepEqual(nextStep("terminate", "RUNNING", r("6.10.5")), { send: "terminate-hard" });
 * assert.deepEqual(nextStep("terminate", "RUNNING", r("4.14.2")), { send: "shutdown-hard" });
 * assert.deepEqual(nextStep("terminate", "PROLOG", r("4.14.2")), { send: "delete" });
 * assert.equal(nextStep("terminate", "PROLOG", r("6.10.5")), "wait");
 * assert.equal(nextStep("terminate", "RUNNING"), "release");
 * assert.deepEqual(nextStep("poweroff", "RUNNING"), { send: "poweroff" });
 * assert.deepEqual(nextStep("poweroff-hard", "SHUTDOWN_POWEROFF", r("6.0.3")), { send: "poweroff-hard" });
 * assert.equal(nextStep("poweroff-hard", "SHUTDOWN_POWEROFF", r("5.12.13")), "wait");
 * ```
 */
export function nextStep(intent: Intent, state: string, release?: OneRelease): Step {
  if (intent === "terminate") return terminateStep(state, release);
  if (POWER_OFF_FROM[intent].includes(state)) return { send: intent };
  if (ESCALATES[intent] === state) {
    if (release === undefined) return "release";
    if (atLeast(release, 6, 0)) return { send: intent };
  }
  return settledOrWait(state);
}

/** What ends a VM in a state, on a release. */
function terminateStep(state: string, release: OneRelease | undefined): Step {
  if (ENDING.has(state)) return "wait";
  if (release === undefined) return "release";
  if (!atLeast(release, 5, 0)) {
    return { send: SHUTDOWN_HARD_FROM.has(state) ? "shutdown-hard" : "delete" };
  }
  if (
    TERMINABLE.has(state) ||
    (FAILURES.has(state) && atLeast(release, 5, 4)) ||
    (state === "SHUTDOWN" && atLeast(release, 6, 0))
  ) {
    return { send: "terminate-hard" };
  }
  return settledOrWait(state);
}

/** `refused` for a state the VM stays in, `wait` for one it leaves by itself. */
function settledOrWait(state: string): Step {
  return SETTLED.has(state) ? "refused" : "wait";
}

/**
 * The name that ends a VM whatever its state where the release has one (4.14's `delete`), else
 * `terminate-hard`, which 5.0+ accepts in every state a VM is left in (not in a busy one): for a
 * request that cannot wait for the VM's state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { terminateName } from "./action_names.ts";
 * assert.equal(terminateName({ text: "4.14.2", major: 4, minor: 14 }), "delete");
 * assert.equal(terminateName({ text: "7.0.2", major: 7, minor: 0 }), "terminate-hard");
 * ```
 */
export function terminateName(release: OneRelease): string {
  return atLeast(release, 5, 0) ? "terminate-hard" : "delete";
}
