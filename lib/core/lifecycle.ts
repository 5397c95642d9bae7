/**
 * Checks shared by the actions that take over an existing instance.
 *
 * @module
 */

import { InvalidInputError } from "../util/errors.ts";
import type { Instance, Provider } from "./provider.ts";

/**
 * Refuses an instance that the driver launched for another VM (it is marked with another VM's
 * id), so that a deployment or checkpoint naming another VM's instance never takes it over.
 * Instances without the mark (launched outside OpenNebula, or by other drivers) are accepted.
 *
 * @param instance The instance, as described.
 * @param vmId The VM the action is for.
 * @param doing What the action was about to do, for the message (`resume VM 42`).
 * @throws {InvalidInputError} naming both VM ids and the instance on a mismatch.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOwner } from "./lifecycle.ts";
 * const instance = { id: "i-0abc", state: "stopped" as const, nativeState: "stopped", ownerVmId: 7, facts: {} };
 * checkOwner(instance, 7, "resume VM 7");
 * assert.throws(() => checkOwner(instance, 42, "resume VM 42"), /launched for VM 7/);
 * ```
 */
export function checkOwner(instance: Instance, vmId: number, doing: string): void {
  if (instance.ownerVmId !== undefined && instance.ownerVmId !== vmId) {
    throw new InvalidInputError(
      `Cannot ${doing}: instance ${instance.id} was launched for VM ${instance.ownerVmId}, not VM ${vmId}`,
    );
  }
}

/**
 * Moves an instance's host mark to the host OpenNebula now runs its VM on, when the driver marked
 * it for another one: a cold migration (save, then restore on the new host) or a resume on
 * another host of the same location. Without it the new host's probes would not report the VM
 * and oned would take it as missing. An instance the old host's location does not share is
 * never reached here: describing it on the new host fails first.
 *
 * @param provider The new host's provider.
 * @param instance The instance, as described.
 * @param host The OpenNebula host the VM runs on now.
 * @param vmId The VM.
 */
export async function followHost(
  provider: Pick<Provider, "rehome">,
  instance: Instance,
  host: string,
  vmId: number,
): Promise<void> {
  if (instance.ownerHost !== undefined && instance.ownerHost !== host) {
    await provider.rehome(instance.id, host, vmId);
  }
}
