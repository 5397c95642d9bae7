/**
 * A small fact a provider learned of its cloud (a partner cloud's release), kept for a while in
 * the shared poll state directory beside the listings (`lib/core/poll_state.ts`), so that the
 * many short processes oned starts need not each ask the cloud again. One file per fact and
 * scope, named by a digest of the scope (no secret in it), mode 0600, holding one JSON line.
 *
 * Keeping is best effort: a fact that cannot be read (no file, too old, corrupt, another
 * scope's, an unsafe directory) is a miss, and one that cannot be written is not kept; the
 * caller asks the cloud then, as it would without the file.
 *
 * @module
 */

import { writeTextAtomically } from "../util/atomic_write.ts";
import { checkStateDir, scopeFileName } from "./poll_state.ts";

/** Version of the file's format; a file of another version is a miss. */
const FORMAT = 1;

/** Where a fact is kept and for how long. */
export interface KeptFactOptions {
  /** The state directory (see `pollStateDir`); checked with `checkStateDir` before any use. */
  readonly dir: string;
  /** The provider kind (`opennebula`). */
  readonly kind: string;
  /** What the fact is about (an endpoint), holding no secret. */
  readonly scope: string;
  /** What the fact is (`release`): the file's extension. */
  readonly name: string;
  /** How long the fact is believed, in seconds. */
  readonly maxAgeSeconds: number;
  /** Clock in epoch ms (`Date.now` by default). */
  readonly clock?: () => number;
  /** This user's id, who must own the directory (the process's by default). */
  readonly uid?: number | null;
}

/** What a provider reads and writes of a kept fact. */
export interface FactStore {
  /** The fact, when kept and younger than its maximum age; undefined otherwise. Never throws. */
  read(): Promise<string | undefined>;
  /** Keeps the fact, learned now. Never throws: a fact that cannot be written is not kept. */
  write(value: string): Promise<void>;
}

/**
 * One fact of one scope, kept in a file. See the module's description.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KeptFact } from "./kept_fact.ts";
 * const parent = await Deno.makeTempDir();
 * const dir = `${parent}/state`;
 * const uid = (await Deno.stat(parent)).uid; // the directory's owner must be this user
 * const fact = new KeptFact({
 *   dir,
 *   uid,
 *   kind: "opennebula",
 *   scope: "http://one:2633/RPC2",
 *   name: "release",
 *   maxAgeSeconds: 60,
 * });
 * assert.equal(await fact.read(), undefined);
 * await fact.write("6.10.5");
 * assert.equal(await fact.read(), "6.10.5");
 * await Deno.remove(parent, { recursive: true });
 * ```
 */
export class KeptFact implements FactStore {
  readonly #options: KeptFactOptions;
  readonly #clock: () => number;
  #file: Promise<string> | undefined;

  /** @param options Where and for how long; nothing is read or created until first use. */
  constructor(options: KeptFactOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
  }

  /** The fact's file, once its directory is checked (and created); rejects when it is unsafe. */
  #path(): Promise<string> {
    const { dir, kind, scope, name, uid } = this.#options;
    this.#file ??= (async () => {
      await checkStateDir(dir, uid);
      return `${dir}/${await scopeFileName(kind, scope)}.${name}`;
    })();
    return this.#file;
  }

  async read(): Promise<string | undefined> {
    let entry: unknown;
    try {
      entry = JSON.parse(await Deno.readTextFile(await this.#path()));
    } catch {
      return undefined;
    }
    if (typeof entry !== "object" || entry === null) return undefined;
    const { v, scope, value, at } = entry as Record<string, unknown>;
    const now = this.#clock();
    const fresh = typeof at === "number" && at <= now &&
      now - at < this.#options.maxAgeSeconds * 1000;
    return v === FORMAT && scope === this.#options.scope && typeof value === "string" && fresh
      ? value
      : undefined;
  }

  async write(value: string): Promise<void> {
    try {
      const text = JSON.stringify({
        v: FORMAT,
        scope: this.#options.scope,
        value,
        at: this.#clock(),
      });
      await writeTextAtomically(await this.#path(), `${text}\n`, { mode: 0o600 });
    } catch {
      // Not kept: the next process asks the cloud again.
    }
  }
}
