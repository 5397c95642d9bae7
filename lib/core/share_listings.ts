/**
 * Shared listings as one decorator of a host's provider, which `lib/runtime/host.ts` applies when
 * it opens a host. Its operations that change an instance mark the account's shared listing
 * (`./poll_state.ts`) stale before and after the change; in a monitoring run of a host whose
 * polls share listings (`pollWindowSeconds` above 0) its reads are served from the listing too:
 * `describe` from one up to the window old (listing the account, for every poll, when there is
 * none), and its own `list()` kept for the polls that follow.
 *
 * The decorator is typed from the {@link Provider} interface ({@link EveryMember}): a member
 * added to the interface is a compile error here until the decorator says what it does with it.
 * The provider it wraps is opened on first need ({@link opening}), so that a poll served from a
 * fresh listing loads no cloud client.
 *
 * @module
 */

import type { PollState, SharedListing } from "./poll_state.ts";
import type { Provider } from "./provider.ts";

/**
 * Every member of a type as a property that must be given, an optional one too (which may be
 * given as undefined): an object of this type leaves no member out.
 */
export type EveryMember<T> = {
  [K in keyof T]-?: T[K] | (undefined extends T[K] ? undefined : never);
};

/** A provider opened on first need: what {@link shareListings} wraps. */
interface Opening {
  /** The provider, opened (its code loaded) by the first call; every call has the same one. */
  open(): Promise<Provider>;
  /** The provider once it is open; undefined before. */
  opened(): Provider | undefined;
}

/**
 * A provider to open on first need, once.
 *
 * @param open Opens it (the kind's `open`).
 * @returns The opening.
 */
export function opening(open: () => Promise<Provider>): Opening {
  let provider: Provider | undefined;
  let pending: Promise<Provider> | undefined;
  return {
    open: () => pending ??= open().then((opened) => provider = opened),
    opened: () => provider,
  };
}

/** How a host's provider shares its account's listing. */
export interface ListingShare {
  /**
   * Marks the scope's listing stale ({@link PollState.markChanged}); called before and after
   * each change of an instance.
   */
  markChanged(): Promise<void>;
  /**
   * Where this run's reads are served from, when they may be (a monitoring run of a host whose
   * polls share listings): the scope's state, opened (its directory checked) at each use, and
   * the signal that ends a wait for another process's listing.
   */
  readonly reads?: {
    readonly state: () => Promise<PollState>;
    readonly signal: AbortSignal;
  };
}

/**
 * A provider that shares its account's listing:
 *
 * - the operations that change an instance (launch, power off, resume, reboot, reset, terminate,
 *   ask to terminate) mark the listing stale before and after, so that no poll is served a
 *   listing taken before the change once it is done. A mark that fails before the change fails
 *   the operation, with nothing done; one that fails after it is not reported (the first one
 *   just worked, and the change itself succeeded);
 * - with `share.reads`, `describe` is served from the shared listing when the listing has the
 *   instance (one that misses it, launched after the listing, is described alone), until this
 *   provider lists itself: a run that has its own listing describes what the listing could not
 *   settle, and asks the cloud. Its `list()` asks the cloud and keeps the listing for the polls
 *   that follow; keeping it is only a saving, and never fails the listing;
 * - the rest is the wrapped provider's.
 *
 * Members that are not calls (`factPrefix`, `location`, `locationLabel`, `prepareLaunch`,
 * whether there is an `adopt` or a `quotaCapacity`) need the provider open, except a fact prefix
 * a served read gave.
 *
 * @param inner The provider, opened on first need.
 * @param share How the listing is shared.
 * @returns The provider, sharing.
 */
export function shareListings(inner: Opening, share: ListingShare): Provider {
  const around = async <T>(change: () => Promise<T>): Promise<T> => {
    await share.markChanged();
    try {
      return await change();
    } finally {
      await share.markChanged().catch(() => {});
    }
  };
  const open = (member: string): Provider => {
    const provider = inner.opened();
    if (provider) return provider;
    throw new Error(`The provider's ${member} is asked for before the provider is opened`);
  };
  const use = () => inner.open();
  let listedHere = false;
  let served: SharedListing | undefined;
  const shared: EveryMember<Provider> = {
    get factPrefix() {
      return inner.opened()?.factPrefix ?? served?.factPrefix ?? open("factPrefix").factPrefix;
    },
    get location() {
      return open("location").location;
    },
    get locationLabel() {
      return open("locationLabel").locationLabel;
    },
    prepareLaunch(request) {
      const launch = open("prepareLaunch").prepareLaunch(request);
      return {
        ...(launch.size !== undefined ? { size: launch.size } : {}),
        ...(launch.charged ? { charged: () => launch.charged!() } : {}),
        run: () => around(() => launch.run()),
      };
    },
    async describe(id) {
      if (share.reads && !listedHere) {
        const listing = await (await share.reads.state()).listing(async () => {
          const provider = await use();
          return { factPrefix: provider.factPrefix, instances: await provider.list() };
        }, share.reads.signal);
        const found = listing.find(id);
        if (found) {
          served = listing;
          return found;
        }
      }
      return (await use()).describe(id);
    },
    findLaunched: async (vmId, host) => (await use()).findLaunched(vmId, host),
    async list() {
      const provider = await use();
      const takenAt = Date.now();
      const listed = await provider.list();
      listedHere = true;
      if (share.reads) {
        await share.reads.state().then((state) =>
          state.record(takenAt, { factPrefix: provider.factPrefix, instances: listed })
        ).catch(() => {});
      }
      return listed;
    },
    listForHost: async (host) => (await use()).listForHost(host),
    sizes: async (names) => (await use()).sizes(names),
    powerOff: (id, options) => around(async () => (await use()).powerOff(id, options)),
    resume: (id) => around(async () => (await use()).resume(id)),
    reboot: (id) => around(async () => (await use()).reboot(id)),
    reset: (id) => around(async () => (await use()).reset(id)),
    terminate: (id) => around(async () => (await use()).terminate(id)),
    requestTerminate: (id) => around(async () => (await use()).requestTerminate(id)),
    snapshot: async (id, name, vmId) => (await use()).snapshot(id, name, vmId),
    // A new host mark changes no state a poll is served: nothing to mark stale.
    rehome: async (id, host, vmId) => (await use()).rehome(id, host, vmId),
    // Nor does a first mark: polls read instances by id, whoever marked them.
    get adopt() {
      const provider = open("adopt");
      return provider.adopt &&
        ((id: string, host: string, vmId: number) => provider.adopt!(id, host, vmId));
    },
    get quotaCapacity() {
      const provider = open("quotaCapacity");
      return provider.quotaCapacity && (() => provider.quotaCapacity!());
    },
  };
  // Every member is there; `adopt` and `quotaCapacity` are undefined where the provider has
  // none.
  return shared as Provider;
}
