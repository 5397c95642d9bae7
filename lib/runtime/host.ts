/**
 * Opens the provider that serves a host, as the host's configuration names it, sharing its
 * account's listing as the host's `pollWindowSeconds` says.
 *
 * @module
 */

import type { ActionRun } from "./action.ts";
import { type HostSettings, loadHostSettings } from "../core/config.ts";
import { PollState, pollStateDir } from "../core/poll_state.ts";
import { type ListingShare, opening, shareListings } from "../core/share_listings.ts";
import type { Provider, ProviderKind } from "../core/provider.ts";
import { PROVIDER_KINDS } from "../providers/mod.ts";
import { onedTemplateSource } from "./template_source.ts";

/**
 * The longest a monitoring run (a VM's poll, a host probe) spends, whatever the host's
 * `actionTimeoutSeconds`: a late report is of no use, and the next cycle asks again.
 */
const MONITORING_SECONDS = 30;

/** A host's settings and kind of provider, before its provider is opened. */
interface HostKind {
  /** The host's settings. */
  readonly settings: HostSettings;
  /** What kind of provider serves it. */
  readonly kind: ProviderKind;
}

/** A host ready for an action: its settings, its kind of provider, and the provider. */
interface OpenHost extends HostKind {
  /** The provider, bound to the action's signal. */
  readonly provider: Provider;
}

/**
 * What a host is opened for: an action, or monitoring (a VM's poll, a host probe), which is
 * given at most {@link MONITORING_SECONDS} and whose reads may be served from the account's
 * shared listing (see {@link openHost}).
 */
type HostUse = "action" | "monitoring";

/**
 * Loads a host's settings (the configuration file's, and its OpenNebula template's where the
 * file leaves them out: `template_source.ts`), moves the action's deadline to the host's
 * `actionTimeoutSeconds`, and opens its provider, whose calls and waits all end when the
 * action's signal aborts. Sends no request to the cloud.
 *
 * The provider shares its account's listing (`lib/core/share_listings.ts`): its operations that
 * change an instance mark the listing stale, a failed mark failing the operation with nothing
 * done when this host's polls share listings (`pollWindowSeconds` above 0); in a monitoring run
 * of such a host, its reads are served from the listing. An action's provider is opened now; a
 * monitoring run's on first need, so that a poll served from a fresh listing loads no cloud
 * client.
 *
 * @param host OpenNebula host name.
 * @param what What the action does, for a timeout message (`shutdown of VM 42`).
 * @param run The action's run (signal and deadline).
 * @param use What the host is opened for.
 * @param hostId The host's id, when the caller has it (a probe's argument).
 * @returns The settings, kind and provider.
 * @throws {InvalidInputError} when the configuration is invalid or does not serve the host.
 * @throws {DriverError} when the host's template is needed and oned cannot give it.
 */
export async function openHost(
  host: string,
  what: string,
  run: ActionRun,
  use: HostUse = "action",
  hostId?: number,
): Promise<OpenHost> {
  const settings = await loadHostSettings(
    PROVIDER_KINDS,
    host,
    Deno.env,
    undefined,
    onedTemplateSource(host, hostId),
  );
  const monitoring = use === "monitoring";
  run.limit(
    Math.min(settings.actionTimeoutSeconds, monitoring ? MONITORING_SECONDS : Infinity),
    what,
  );
  const kind = PROVIDER_KINDS.byName[settings.provider]!;
  const inner = opening(() => kind.open(settings, run));
  if (!monitoring) await inner.open();
  const share = listingShare({ settings, kind }, monitoring ? run.signal : undefined);
  return { settings, kind, provider: shareListings(inner, share) };
}

/**
 * How a host's provider shares its account's listing: when the host's polls share listings,
 * changes are marked (a failed mark fails the change) and a monitoring run's reads are served.
 *
 * @param host The host's settings and kind.
 * @param monitoring The run's signal, when it is a monitoring run.
 * @returns The share.
 */
function listingShare(host: HostKind, monitoring: AbortSignal | undefined): ListingShare {
  const state = () =>
    PollState.open({
      dir: pollStateDir(host.settings.pollStateDir),
      kind: host.kind.name,
      scope: host.kind.listingScope(host.settings, Deno.env),
      windowSeconds: host.settings.pollWindowSeconds,
    });
  const markChanged = async () => (await state()).markChanged();
  if (host.settings.pollWindowSeconds > 0) {
    return { markChanged, ...(monitoring ? { reads: { state, signal: monitoring } } : {}) };
  }
  // This host's polls share nothing, but other hosts of its account may: their listing is
  // marked stale too, when their directory exists, without ever failing this action for it.
  return {
    async markChanged() {
      const shared = await Deno.lstat(pollStateDir(host.settings.pollStateDir)).then(
        (info) => info.isDirectory,
        () => false,
      );
      if (shared) await markChanged().catch(() => {});
    },
  };
}
