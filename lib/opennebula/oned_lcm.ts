/**
 * Why a shutdown or cancel was sent, asked of oned (OpenNebula 3.2–4.x send no action data):
 * as OpenNebula 4.x's own EC2 driver did, the VM's `LCM_STATE` comes from `one.vm.info`.
 *
 * @module
 */

import { DriverError } from "../util/errors.ts";
import { endOfRun, lcmStateName } from "./lcm.ts";
import { askLocalOned } from "./local_oned.ts";
import type { EnvLookup } from "./one_auth.ts";

/**
 * Asks oned whether a shutdown or cancel ends the VM or only stops it.
 *
 * @param action `shutdown` or `cancel`, for messages.
 * @param vmId The VM id.
 * @param deployId The instance the action is about, for messages.
 * @param env Reads the environment (default: the process's).
 * @returns `poweroff` or `undeploy` to stop and keep the instance, undefined to terminate it.
 * @throws {DriverError} when oned's answer cannot be had, or names a state that is neither:
 * the message says why and that the instance was left as it is.
 */
export async function powerOffReasonByOned(
  action: string,
  vmId: number,
  deployId: string,
  env: EnvLookup = (n) => Deno.env.get(n),
): Promise<"poweroff" | "undeploy" | undefined> {
  const prefix =
    `Cannot tell whether ${action} of VM ${vmId} is a terminate, power-off or undeploy; ${deployId} left untouched`;
  let vm;
  try {
    vm = await askLocalOned(vmId, env);
  } catch (error) {
    if (error instanceof DriverError) {
      throw new DriverError(`${prefix}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  const end = endOfRun(vm.state, vm.lcmState);
  if (end === undefined) {
    throw new DriverError(
      `${prefix}: oned reports VM ${vmId} in state ${vm.state}, LCM state ${
        lcmStateName(vm.lcmState)
      }`,
    );
  }
  return end === "terminate" ? undefined : end;
}
