/**
 * Steps shared by several actions, each deciding what the provider's answers mean for
 * OpenNebula, and waiting for the cloud to finish before oned is told it has.
 *
 * @module
 */

import { InvalidInputError, NotFoundError } from "./errors.ts";
import type { Instance, Provider } from "./provider.ts";

/**
 * Terminates a VM's instance and waits until it is terminated. An instance already
 * terminated, or that the cloud still does not know after the provider's grace period, counts
 * as done: oned retries shutdown and cancel, and a VM without an instance has nothing left.
 *
 * @param provider The provider.
 * @param deployId The VM's deploy id.
 * @returns The state reached: `terminated`, or `gone` when the cloud did not know the id.
 */
export async function terminateVm(provider: Provider, deployId: string): Promise<string> {
  try {
    const instance = await provider.terminate(deployId);
    if (instance.state === "terminated") return instance.state;
  } catch (error) {
    if (error instanceof NotFoundError) return "gone";
    throw error;
  }
  return (await provider.waitFor(deployId, "terminated")).state;
}

/**
 * Powers a VM's instance off (stop), keeping it and its disks, and waits until it is stopped.
 *
 * @param provider The provider.
 * @param deployId The VM's deploy id.
 * @param force Skip the guest's orderly shutdown.
 * @returns The stopped instance.
 */
export async function powerOffVm(
  provider: Provider,
  deployId: string,
  force: boolean,
): Promise<Instance> {
  const instance = await provider.stop(deployId, { force });
  return instance.state === "stopped" ? instance : await provider.waitFor(deployId, "stopped");
}

/**
 * Powers a VM's stopped instance on and waits until it runs.
 *
 * @param provider The provider.
 * @param deployId The VM's deploy id.
 * @returns The running instance.
 */
export async function powerOnVm(provider: Provider, deployId: string): Promise<Instance> {
  const instance = await provider.start(deployId);
  return instance.state === "running" ? instance : await provider.waitFor(deployId, "running");
}

/**
 * Refuses an instance that the driver launched for another VM (its VM id tag names another
 * VM), so that a deployment or checkpoint naming another VM's instance never takes it over.
 * Instances without the tag (launched outside OpenNebula, or by other drivers) are accepted.
 *
 * @param instance The instance, as described.
 * @param vmId The VM the action is for.
 * @param doing What the action was about to do, for the message (`resume VM 42`).
 * @throws {InvalidInputError} naming both VM ids and the instance on a mismatch.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOwner } from "./lifecycle.ts";
 * const instance = { id: "i-0abc", state: "stopped", vmState: "p" as const, ownerVmId: 7, facts: {} };
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
