/**
 * OpenNebula's VM life-cycle (LCM) states that tell the driver why an action was sent. A number
 * never changes meaning from 3.2 to 7.4 (`lib/one_xmlrpc/one_states.ts` has them release by
 * release): 3.2 defines 0–16 (15 is `CLEANUP` up to 3.8, `CLEANUP_RESUBMIT` from 4.0; 13 `CANCEL`
 * exists up to 4.12), 3.8 adds `SHUTDOWN_POWEROFF` (18), 4.0 `CLEANUP_DELETE` (23) and
 * `SHUTDOWN_UNDEPLOY` (29).
 *
 * @module
 */

import { oneStateName } from "../one_xmlrpc/one_states.ts";

/** LCM state numbers the driver acts on (checked against the table by `lcm_test.ts`). */
export const LCM_STATE = {
  SHUTDOWN: 12,
  CANCEL: 13,
  CLEANUP_RESUBMIT: 15,
  SHUTDOWN_POWEROFF: 18,
  CLEANUP_DELETE: 23,
  SHUTDOWN_UNDEPLOY: 29,
} as const;

/** VM states (`STATE`, the coarse one) the driver reads (checked as `LCM_STATE` is). */
export const VM_STATE = {
  ACTIVE: 3,
  DONE: 6,
} as const;

/**
 * Why a shutdown or cancel sent in this state keeps the VM's instance: a power-off or an
 * undeploy; `undefined` when it ends the VM (the instance is terminated).
 *
 * @param lcmState The VM's LCM state, when oned sent it.
 * @returns `poweroff` for `SHUTDOWN_POWEROFF`, `undeploy` for `SHUTDOWN_UNDEPLOY`, else undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { powerOffReason } from "./lcm.ts";
 *
 * assert.equal(powerOffReason(18), "poweroff");
 * assert.equal(powerOffReason(29), "undeploy");
 * assert.equal(powerOffReason(12), undefined);
 * assert.equal(powerOffReason(undefined), undefined);
 * ```
 */
export function powerOffReason(lcmState: number | undefined): "poweroff" | "undeploy" | undefined {
  return lcmState === LCM_STATE.SHUTDOWN_POWEROFF
    ? "poweroff"
    : lcmState === LCM_STATE.SHUTDOWN_UNDEPLOY
    ? "undeploy"
    : undefined;
}

/**
 * What a shutdown or cancel means when its reason is read from oned (OpenNebula 3.2–4.x, which
 * send no action data), decided from the states in which oned 3.2–4.14 send them:
 *
 * - `poweroff` or `undeploy` (stop the instance): `SHUTDOWN_POWEROFF` (18, 3.8+),
 *   `SHUTDOWN_UNDEPLOY` (29, 4.0+), from `onevm poweroff` and `undeploy`, soft or `--hard`.
 * - `terminate`: `SHUTDOWN` (12: `onevm shutdown`, and from 4.14 also `shutdown --hard`),
 *   `CANCEL` (13: `onevm cancel`, 3.2–4.12), `CLEANUP` / `CLEANUP_RESUBMIT` (15: `onevm
 *   delete` and `resubmit` in 3.2–3.8, `delete --recreate` from 4.0), `CLEANUP_DELETE` (23:
 *   `delete` from 4.0), and any VM in `STATE` `DONE` (a powered-off, suspended, stopped or
 *   undeployed VM deleted: oned marks it done, then sends cancel).
 * - `undefined` for any other state: not a reason oned has to end or stop a VM.
 *
 * @param state The VM's `STATE`.
 * @param lcmState The VM's `LCM_STATE`.
 * @returns `terminate`, `poweroff`, `undeploy`, or `undefined`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { endOfRun } from "./lcm.ts";
 *
 * assert.equal(endOfRun(3, 18), "poweroff");
 * assert.equal(endOfRun(3, 29), "undeploy");
 * assert.equal(endOfRun(3, 12), "terminate");
 * assert.equal(endOfRun(6, 0), "terminate");
 * assert.equal(endOfRun(3, 3), undefined);
 * ```
 */
export function endOfRun(
  state: number,
  lcmState: number,
): "terminate" | "poweroff" | "undeploy" | undefined {
  if (state === VM_STATE.DONE) return "terminate";
  if (state !== VM_STATE.ACTIVE) return undefined;
  const keep = powerOffReason(lcmState);
  if (keep !== undefined) return keep;
  switch (lcmState) {
    case LCM_STATE.SHUTDOWN:
    case LCM_STATE.CANCEL:
    case LCM_STATE.CLEANUP_RESUBMIT:
    case LCM_STATE.CLEANUP_DELETE:
      return "terminate";
    default:
      return undefined;
  }
}

/**
 * An LCM state for messages: its name (the newest the number has had) and number.
 *
 * @param lcmState The number.
 * @returns E.g. `RUNNING (3)`, or just the number for one without a known name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lcmStateName } from "./lcm.ts";
 *
 * assert.equal(lcmStateName(3), "RUNNING (3)");
 * assert.equal(lcmStateName(69), "BACKUP (69)");
 * assert.equal(lcmStateName(99), "99");
 * ```
 */
export function lcmStateName(lcmState: number): string {
  const name = oneStateName("LCM_STATE", lcmState);
  return name ? `${name} (${lcmState})` : String(lcmState);
}
