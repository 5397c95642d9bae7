/**
 * Opens the provider that serves a host, as the host's configuration names it.
 *
 * @module
 */

import type { ActionRun } from "./action.ts";
import { type HostSettings, loadHostSettings } from "../core/config.ts";
import { markingChanges, PollState, pollStateDir } from "../core/poll_state.ts";
import type { Provider, ProviderKind } from "../core/provider.ts";
import { PROVIDER_KINDS } from "../providers/mod.ts";

/**
 * The longest a monitoring run (a VM's poll, a host probe) spends, whatever the host's
 * `actionTimeoutSeconds`: a late report is of no use, and the next cycle asks again.
 */
export const MONITORING_SECONDS = 30;

/** A host's settings and kind of provider, before its provider is opened. */
export interface HostKind {
  /** The host's settings. */
  readonly settings: HostSettings;
  /** What kind of provider serves it. */
  readonly kind: ProviderKind;
}

/** A host ready for an action: its settings, its kind of provider, and the provider. */
export interface OpenHost extends HostKind {
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
 * @param capSeconds A shorter deadline than the host's, for monitoring
 *   ({@link MONITORING_SECONDS}).
 * @returns The settings, kind and provider.
 * @throws {InvalidInputError} when the configuration is invalid or does not serve the host.
 */
export async function openHost(
  host: string,
  what: string,
  run: ActionRun,
  capSeconds?: number,
): Promise<OpenHost> {
  const found = await loadHost(host, what, run, capSeconds);
  return { ...found, provider: await openProvider(found, run) };
}

/**
 * Loads a host's settings and moves the action's deadline to its `actionTimeoutSeconds`,
 * without loading its provider's code: for an action that may be answered without the cloud.
 *
 * @param host OpenNebula host name.
 * @param what What the action does, for a timeout message (`poll of VM 42`).
 * @param run The action's run.
 * @param capSeconds A shorter deadline than the host's, for monitoring.
 * @returns The settings and kind.
 * @throws {InvalidInputError} when the configuration is invalid or does not serve the host.
 */
export async function loadHost(
  host: string,
  what: string,
  run: ActionRun,
  capSeconds?: number,
): Promise<HostKind> {
  const settings = await loadHostSettings(PROVIDER_KINDS, host);
  run.limit(Math.min(settings.actionTimeoutSeconds, capSeconds ?? Infinity), what);
  return { settings, kind: PROVIDER_KINDS.byName[settings.provider]! };
}

/**
 * Opens a host's provider (loading its code), bound to the action's signal. Its operations that
 * change an instance mark the account's shared listing stale (a failed mark fails the operation,
 * with nothing done, only when this host's polls share listings).
 *
 * @param host The host's settings and kind.
 * @param run The action's run.
 * @returns The provider.
 */
export async function openProvider(host: HostKind, run: ActionRun): Promise<Provider> {
  const provider = await host.kind.open(host.settings, run);
  const mark = async () => (await sharedPollState(host)).markChanged();
  if (host.settings.pollWindowSeconds > 0) return markingChanges(provider, mark);
  // This host's polls share nothing, but other hosts of its account may: their listing is
  // marked stale too, when their directory exists, without ever failing this action for it.
  return markingChanges(provider, async () => {
    const shared = await Deno.lstat(pollStateDir(host.settings.pollStateDir)).then(
      (info) => info.isDirectory,
      () => false,
    );
    if (shared) await mark().catch(() => {});
  });
}

/**
 * The shared poll state of a host's listing scope, its directory checked.
 *
 * @param host The host's settings (`pollWindowSeconds` above 0) and kind.
 * @returns The state.
 * @throws {InvalidInputError} when the state directory is unsafe.
 */
export function sharedPollState(host: HostKind): Promise<PollState> {
  return PollState.open({
    dir: pollStateDir(host.settings.pollStateDir),
    kind: host.kind.name,
    scope: host.kind.listingScope(host.settings, Deno.env),
    windowSeconds: host.settings.pollWindowSeconds,
  });
}
