/**
 * Picks the provider that serves a host. Only Amazon EC2 exists today; a partner OpenNebula
 * cloud will be chosen here from the host's settings, without touching the actions.
 *
 * @module
 */

import type { HostSettings } from "./config.ts";
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
