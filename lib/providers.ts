/**
 * Picks the provider that serves a host. Only Amazon EC2 exists today; a partner OpenNebula
 * cloud will be chosen here from the host's settings, without touching the actions.
 *
 * @module
 */

import { setDeadline } from "./action.ts";
import { type HostSettings, loadHostSettings } from "./config.ts";
import type { Provider } from "./provider.ts";
import { createEc2Api } from "./ec2/api.ts";
import { Ec2Provider } from "./ec2/provider.ts";

/**
 * Opens the provider for a host. Sends no request.
 *
 * @param settings The host's settings.
 * @returns The provider.
 */
export function openProvider(settings: HostSettings): Provider {
  return new Ec2Provider(createEc2Api(settings), settings);
}

/**
 * Loads a host's settings, moves the action's deadline to the host's `actionTimeoutSeconds`,
 * and opens its provider.
 *
 * @param host OpenNebula host name.
 * @param what What the action does, for a timeout message (`shutdown of VM 42`).
 * @returns The settings and the provider.
 * @throws {InvalidInputError} when the configuration is invalid or does not serve the host.
 */
export async function openHost(
  host: string,
  what: string,
): Promise<{ settings: HostSettings; provider: Provider }> {
  const settings = await loadHostSettings(host);
  setDeadline(settings.actionTimeoutSeconds, what);
  return { settings, provider: openProvider(settings) };
}
