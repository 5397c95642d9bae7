/**
 * OpenNebula's VM life-cycle (LCM) states that tell the driver why an action was sent. The
 * numbers are the same from 4.x to 6.x; 3.2 has only 0–16 and never sends the power-off and
 * undeploy ones.
 *
 * @module
 */

/** LCM state numbers the driver acts on. */
export const LCM_STATE = {
  BOOT: 2,
  RUNNING: 3,
  SAVE_STOP: 5,
  SAVE_SUSPEND: 6,
  SHUTDOWN: 12,
  CANCEL: 13,
  SHUTDOWN_POWEROFF: 18,
  BOOT_POWEROFF: 20,
  BOOT_SUSPENDED: 21,
  BOOT_STOPPED: 22,
  SHUTDOWN_UNDEPLOY: 29,
  BOOT_UNDEPLOY: 32,
  BOOT_FAILURE: 36,
} as const;

/**
 * Whether a shutdown or cancel sent in this state must keep the VM's instance (power-off,
 * undeploy) instead of terminating it.
 *
 * @param lcmState The VM's LCM state, when oned sent it.
 * @returns true for `SHUTDOWN_POWEROFF` and `SHUTDOWN_UNDEPLOY`.
 * @example
 * ```ts
 * import { keepsInstance } from "./lcm.ts";
 * console.assert(keepsInstance(18) && !keepsInstance(12) && !keepsInstance(undefined));
 * ```
 */
export function keepsInstance(lcmState: number | undefined): boolean {
  return lcmState === LCM_STATE.SHUTDOWN_POWEROFF || lcmState === LCM_STATE.SHUTDOWN_UNDEPLOY;
}
