/**
 * Steps shared by several actions, each deciding what the provider's answers mean for
 * OpenNebula.
 *
 * @module
 */

import { NotFoundError } from "./errors.ts";
import type { Provider } from "./provider.ts";

/**
 * Terminates a VM's instance. An instance that is already terminated, or that the cloud still
 * does not know after the provider's grace period, counts as done: oned retries shutdown and
 * cancel, and a VM without an instance has nothing left to stop.
 *
 * @param provider The provider.
 * @param deployId The VM's deploy id.
 * @returns The state the instance reached, or `gone`.
 */
export async function terminateIfPresent(provider: Provider, deployId: string): Promise<string> {
  try {
    return (await provider.terminate(deployId)).state;
  } catch (error) {
    if (error instanceof NotFoundError) return "gone";
    throw error;
  }
}
