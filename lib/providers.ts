/**
 * Opens the provider that serves a host, as the host's configuration names it.
 *
 * @module
 */

import type { ActionRun } from "./action.ts";
import { type HostSettings, loadHostSettings } from "./config.ts";
import type { Provider, ProviderKind } from "./provider.ts";
import { PROVIDER_KINDS } from "./provider_kinds.ts";

/** A host ready for an action: its settings, its kind of provider, and the provider. */
export interface OpenHost {
  /** The host's settings. */
  readonly settings: HostSettings;
  /** What kind of provider serves it. */
  readonly kind: ProviderKind;
  /** The provider, bound to the action's signal. */
  readonly provider: Provider;
}

/**
 * Loads a host's settings, moves the action's deadline to the host's `actionTimeoutSeconds`,
 * and opens its provider, whose calls and waits all end when the action's signal aborts.
 * Sends no request.
 *
 * @param host OpenNebula host name.
 * @param what What the action does, for a timeout message (`shutdown of VM 42`).
 * @param run The action's run (signal and deadline).
 * @returns The settings, kind and provider.
 * @throws {InvalidInputError} when the configuration is invalid or does not serve the host.
 */
export async function openHost(host: string, what: string, run: ActionRun): Promise<OpenHost> {
  const settings = await loadHostSettings(host);
  run.limit(settings.actionTimeoutSeconds, what);
  const kind = PROVIDER_KINDS[settings.provider]!;
  return { settings, kind, provider: await kind.open(settings, run.signal) };
}
