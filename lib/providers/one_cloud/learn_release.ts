/**
 * Learning a partner's release: `one.system.version` (every release from 3.8; any valid session
 * may ask), asked once per endpoint and kept beside the host's shared listing
 * (`lib/core/kept_fact.ts`) for {@link RELEASE_KEPT_SECONDS}; asked again sooner when the
 * partner refuses an action name that the kept release chose (it may have been upgraded).
 *
 * @module
 */

import type { FactStore } from "../../core/kept_fact.ts";
import { CloudError } from "../../util/errors.ts";
import type { PartnerCalls } from "./api.ts";
import { type OneRelease, parseRelease } from "./release.ts";

/** How long a learned release is believed without asking again: an hour. */
export const RELEASE_KEPT_SECONDS = 3600;

/** The calls learning needs. */
type Calls = Pick<PartnerCalls, "where" | "call">;

/**
 * Asks the partner its release.
 *
 * @param doing What the call is for, to begin a failure's message.
 * @throws {CloudError} `InvalidResponse` when the answer is not a release; as
 * `PartnerApi.call` otherwise.
 */
export async function askRelease(api: Calls, doing: string): Promise<OneRelease> {
  const answer = await api.call(doing, "one.system.version");
  const release = parseRelease(answer);
  if (release === undefined) {
    throw new CloudError(
      "InvalidResponse",
      `${doing}: ${api.where} answered one.system.version with ${
        JSON.stringify(String(answer).slice(0, 40))
      }, not an OpenNebula release`,
    );
  }
  return release;
}

/** A release, and whether it was read from the kept file rather than asked now. */
export interface KnownRelease {
  /** The release. */
  readonly release: OneRelease;
  /** Whether it is the kept one, which may be out of date. */
  readonly kept: boolean;
}

/** One provider's knowledge of its partner's release. */
export class PartnerReleases {
  readonly #api: Calls;
  readonly #store: FactStore | undefined;
  #asked: Promise<OneRelease> | undefined;

  /**
   * @param api The partner's calls.
   * @param store Where the release is kept between processes; without it, each provider asks.
   */
  constructor(api: Calls, store?: FactStore) {
    this.#api = api;
    this.#store = store;
  }

  /**
   * The release: the one asked already, else the kept one, else asked now (one call) and kept.
   *
   * @param doing What it is needed for, to begin a failure's message.
   */
  async known(doing: string): Promise<KnownRelease> {
    if (this.#asked === undefined) {
      const kept = parseRelease(await this.#store?.read());
      if (kept !== undefined) return { release: kept, kept: true };
    }
    return { release: await this.#ask(doing), kept: false };
  }

  /**
   * Asks the release again, when the one used may be out of date: undefined when this provider
   * asked the partner already (the answer stands).
   *
   * @param doing What it is needed for, to begin a failure's message.
   */
  async askAgain(doing: string): Promise<OneRelease | undefined> {
    return this.#asked === undefined ? await this.#ask(doing) : undefined;
  }

  /** Asks the partner once, keeping the answer; a failed ask may be made again. */
  #ask(doing: string): Promise<OneRelease> {
    this.#asked ??= askRelease(this.#api, doing).then(
      async (release) => {
        await this.#store?.write(release.text);
        return release;
      },
      (error) => {
        this.#asked = undefined;
        throw error;
      },
    );
    return this.#asked;
  }
}
