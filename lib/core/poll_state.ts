/**
 * The listing that polls share: one listing of an account's instances (one paginated
 * DescribeInstances on EC2) serves every poll of that account within a short window, instead of
 * one request per VM. It is a small file per listing scope (provider kind, account, region,
 * endpoint; no secret) in a per-user runtime directory:
 *
 * - a poll reads it without a lock and serves its VM from it when the listing is younger than
 *   the window and no action changed an instance of the scope since it was taken;
 * - otherwise the poll takes the scope's file lock and lists: of many concurrent stale polls one
 *   asks the cloud and the rest wait for the lock and read its result. A failed listing is
 *   recorded as such, so that the polls that waited for it fail with its message, never take an
 *   older listing for a fresh one; the next poll after it lists again;
 * - actions that change instances mark the scope changed, so a listing taken before the change
 *   is never served after it.
 *
 * The file: a JSON header line, one line per instance (`<id>` TAB JSON), then `END`. A poll
 * parses the header and its own line only.
 *
 * @module
 */

import { writeTextAtomically } from "../util/atomic_write.ts";
import { lockFile } from "../util/file_lock.ts";
import { CloudError, DriverError, InvalidInputError } from "../util/errors.ts";
import type { Instance, InstanceState } from "./provider.ts";

/** Version of the file's format; a file of another version is a miss. */
const FORMAT = 1;

/** The last line of a complete file. */
const END = "END\n";

/** What a listing holds of each instance: what its monitoring string needs. */
const STATES: ReadonlySet<string> = new Set<InstanceState>([
  "pending",
  "running",
  "stopping",
  "stopped",
  "terminating",
  "terminated",
  "unknown",
]);

/**
 * The directory of the shared poll state: the configured one, else `one-hybrid` in
 * `$XDG_RUNTIME_DIR`, else `/tmp/one-hybrid-<uid>`.
 *
 * @param configured The host's `pollStateDir`, when set.
 * @param env Where to read `XDG_RUNTIME_DIR`.
 * @param uid This user's id.
 * @returns The directory's path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pollStateDir } from "./poll_state.ts";
 * const env = new Map([["XDG_RUNTIME_DIR", "/run/user/9869"]]);
 * assert.equal(pollStateDir(undefined, env, 9869), "/run/user/9869/one-hybrid");
 * assert.equal(pollStateDir(undefined, new Map(), 9869), "/tmp/one-hybrid-9869");
 * assert.equal(pollStateDir("/var/lib/one/poll", env, 9869), "/var/lib/one/poll");
 * ```
 */
export function pollStateDir(
  configured: string | undefined,
  env: { get(name: string): string | undefined } = Deno.env,
  uid: number | null = currentUid(),
): string {
  if (configured !== undefined) return configured;
  const runtime = env.get("XDG_RUNTIME_DIR");
  if (runtime?.startsWith("/")) return `${runtime.replace(/\/+$/, "")}/one-hybrid`;
  return `/tmp/one-hybrid-${uid ?? "unknown"}`;
}

/**
 * Creates the state directory (mode 0700) when missing and checks that only this user can
 * change what is in it: a directory (not a link), owned by this user, not writable by group or
 * others. Another user's directory could feed polls a made-up listing.
 *
 * @param dir The directory.
 * @param uid This user's id.
 * @throws {InvalidInputError} naming the directory and what is wrong with it.
 */
export async function checkStateDir(
  dir: string,
  uid: number | null = currentUid(),
): Promise<void> {
  const refuse = (why: string) =>
    new InvalidInputError(
      `Cannot share polls through ${dir}: ${why}; fix it, set "pollStateDir" to a directory of this user, or "pollWindowSeconds" to 0`,
    );
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) {
      throw refuse(`cannot create it (${error instanceof Error ? error.message : error})`);
    }
  }
  if (uid === null) throw refuse("this user's id is unknown");
  const info = await Deno.lstat(dir);
  if (!info.isDirectory) throw refuse("it is not a directory");
  if (info.uid !== uid) {
    throw refuse(`it belongs to user ${info.uid}, not to this user (${uid})`);
  }
  if (info.mode !== null && (info.mode & 0o022) !== 0) {
    throw refuse(`group or others may write to it (mode ${(info.mode & 0o777).toString(8)})`);
  }
}

/** This process's user id; null when the runtime may not ask (no `--allow-sys`). */
function currentUid(): number | null {
  try {
    return Deno.uid();
  } catch {
    return null;
  }
}

/**
 * The name of a scope's files: the provider kind and a digest of the scope, so that the name
 * says nothing of the account.
 *
 * @param kind The provider kind (`ec2`).
 * @param scope What decides which instances a listing sees (no secret).
 * @returns e.g. `ec2-` and 32 hex digits.
 */
export async function scopeFileName(kind: string, scope: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(scope));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${kind}-${hex.slice(0, 32)}`;
}

/** A listing as polls read it. */
export interface SharedListing {
  /** When it was taken (epoch ms, before the request was sent). */
  readonly takenAt: number;
  /** Prefix of the provider's facts in the monitoring string (`AWS`). */
  readonly factPrefix: string;
  /**
   * The instance with this id, when the listing has it. Absence is no proof that the cloud
   * does not know the instance (it may be newer than the listing).
   */
  find(id: string): Instance | undefined;
}

/** What a listing of the cloud gives the state. */
export interface Listed {
  /** The provider's fact prefix. */
  readonly factPrefix: string;
  /** Every instance of the scope. */
  readonly instances: readonly Instance[];
}

/** Where and how one scope's listing is shared. */
export interface PollStateOptions {
  /** The state directory (see {@link pollStateDir}); checked with {@link checkStateDir}. */
  readonly dir: string;
  /** The provider kind. */
  readonly kind: string;
  /** What decides which instances a listing sees (no secret). */
  readonly scope: string;
  /** How long a listing serves polls, in seconds (more than 0). */
  readonly windowSeconds: number;
  /** Clock in epoch ms (`Date.now` by default). */
  readonly clock?: () => number;
  /** This user's id, who must own the directory ({@link currentUid} by default). */
  readonly uid?: number | null;
}

/** The header line of a state file. */
type Header =
  | { v: number; scope: string; takenAt: number; factPrefix: string }
  | { v: number; scope: string; failedAt: number; message: string; code?: string };

/**
 * One scope's shared listing. See the module's description.
 */
export class PollState {
  readonly #options: PollStateOptions;
  readonly #clock: () => number;
  readonly #base: string;

  private constructor(options: PollStateOptions, base: string) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#base = `${options.dir}/${base}`;
  }

  /**
   * Opens a scope's state, checking (and creating) its directory.
   *
   * @param options Directory, scope and window.
   * @returns The state.
   * @throws {InvalidInputError} when the directory is unsafe (see {@link checkStateDir}).
   */
  static async open(options: PollStateOptions): Promise<PollState> {
    await checkStateDir(options.dir, options.uid === undefined ? currentUid() : options.uid);
    return new PollState(options, await scopeFileName(options.kind, options.scope));
  }

  /** The listing file's path. */
  get file(): string {
    return `${this.#base}.listing`;
  }

  /**
   * The listing when it may serve a poll now: younger than the window and taken after the last
   * change of the scope's instances. Reads files only; a missing or corrupt file is a miss.
   *
   * @returns The listing, or undefined.
   */
  async fresh(): Promise<SharedListing | undefined> {
    const read = this.#parse(await this.#read());
    return read && "takenAt" in read.header && await this.#servable(read.header.takenAt)
      ? read.listing
      : undefined;
  }

  /**
   * A listing that may serve a poll: the fresh one, else one this process takes with `list`,
   * or that another process took while this one waited for the lock.
   *
   * @param list Lists the scope's instances (asks the cloud).
   * @param signal Ends the wait for another process's listing.
   * @returns The listing.
   * @throws what `list` threw; the message of the listing another process failed while this
   * one waited; the signal's reason when it aborted.
   */
  async listing(list: () => Promise<Listed>, signal: AbortSignal): Promise<SharedListing> {
    const started = this.#clock();
    const served = await this.fresh();
    if (served) return served;
    const lock = await lockFile(`${this.#base}.lock`, signal);
    try {
      const read = this.#parse(await this.#read());
      if (read && "takenAt" in read.header && await this.#servable(read.header.takenAt)) {
        return read.listing;
      }
      if (read && "failedAt" in read.header && read.header.failedAt >= started) {
        const { code, message } = read.header;
        throw code === undefined ? new DriverError(message) : new CloudError(code, message);
      }
      const takenAt = this.#clock();
      let listed: Listed;
      try {
        listed = await list();
      } catch (error) {
        if (!signal.aborted && error instanceof DriverError) await this.#recordFailure(error);
        throw error;
      }
      const text = serialize(this.#options.scope, takenAt, listed);
      await writeTextAtomically(this.file, text, { mode: 0o600 }).catch(() => {});
      return this.#parse(text)!.listing;
    } finally {
      lock.close();
    }
  }

  /**
   * Keeps a listing another part of the driver took anyway (the host probes), so that polls
   * within the window are served from it.
   *
   * @param takenAt When the listing was asked for (epoch ms, before the request).
   * @param listed The listing.
   */
  async record(takenAt: number, listed: Listed): Promise<void> {
    const text = serialize(this.#options.scope, takenAt, listed);
    await writeTextAtomically(this.file, text, { mode: 0o600 });
  }

  /**
   * Marks the scope's instances changed now: no listing taken before is served any more.
   * Actions that change an instance call it before and after the change.
   */
  async markChanged(): Promise<void> {
    await writeTextAtomically(`${this.#base}.changed`, `${this.#clock()}\n`, { mode: 0o600 });
  }

  /** Whether a listing taken then may serve now. */
  async #servable(takenAt: number): Promise<boolean> {
    const now = this.#clock();
    if (takenAt > now || now - takenAt >= this.#options.windowSeconds * 1000) return false;
    let changed: string;
    try {
      changed = await Deno.readTextFile(`${this.#base}.changed`);
    } catch (error) {
      return error instanceof Deno.errors.NotFound;
    }
    const changedAt = Number(changed.trim());
    // A corrupt mark could hide a change: it makes every listing unservable until rewritten.
    return Number.isFinite(changedAt) && changed.trim() !== "" && takenAt > changedAt;
  }

  /** The listing file's text, or undefined when there is none or it cannot be read. */
  async #read(): Promise<string | undefined> {
    try {
      return await Deno.readTextFile(this.file);
    } catch {
      return undefined;
    }
  }

  /** The header and listing of a file's text; undefined when corrupt or of another scope. */
  #parse(text: string | undefined): { header: Header; listing: SharedListing } | undefined {
    if (text === undefined || !text.endsWith(END)) return undefined;
    const eol = text.indexOf("\n");
    let header: Header;
    try {
      header = JSON.parse(text.slice(0, eol));
    } catch {
      return undefined;
    }
    if (!isHeader(header) || header.scope !== this.#options.scope) return undefined;
    if (!("takenAt" in header)) {
      return { header, listing: { takenAt: 0, factPrefix: "", find: () => undefined } };
    }
    const listing: SharedListing = {
      takenAt: header.takenAt,
      factPrefix: header.factPrefix,
      find: (id) => findInstance(text, id),
    };
    return { header, listing };
  }

  /** Records a failed listing, so that the polls waiting for it fail with it. */
  async #recordFailure(error: DriverError): Promise<void> {
    const header: Header = {
      v: FORMAT,
      scope: this.#options.scope,
      failedAt: this.#clock(),
      message: error.message,
      ...(error instanceof CloudError ? { code: error.code } : {}),
    };
    await writeTextAtomically(this.file, `${JSON.stringify(header)}\n${END}`, { mode: 0o600 })
      .catch(() => {});
  }
}

/** The text of a listing file. */
function serialize(scope: string, takenAt: number, listed: Listed): string {
  const header: Header = { v: FORMAT, scope, takenAt, factPrefix: listed.factPrefix };
  const lines = [JSON.stringify(header)];
  for (const instance of listed.instances) {
    if (/[\t\n]/.test(instance.id) || instance.id === "") continue;
    lines.push(`${instance.id}\t${
      JSON.stringify({
        state: instance.state,
        nativeState: instance.nativeState,
        ...(instance.memoryKiB !== undefined ? { memoryKiB: instance.memoryKiB } : {}),
        facts: instance.facts,
      })
    }`);
  }
  return `${lines.join("\n")}\n${END}`;
}

/** The instance of a listing file's text with this id; undefined when absent or corrupt. */
function findInstance(text: string, id: string): Instance | undefined {
  if (id === "" || /[\t\n]/.test(id)) return undefined;
  const key = `\n${id}\t`;
  const at = text.indexOf(key);
  if (at < 0) return undefined;
  const start = at + key.length;
  let entry: unknown;
  try {
    entry = JSON.parse(text.slice(start, text.indexOf("\n", start)));
  } catch {
    return undefined;
  }
  if (typeof entry !== "object" || entry === null) return undefined;
  const { state, nativeState, memoryKiB, facts } = entry as Record<string, unknown>;
  if (typeof state !== "string" || !STATES.has(state) || typeof nativeState !== "string") {
    return undefined;
  }
  if (memoryKiB !== undefined && (typeof memoryKiB !== "number" || !Number.isFinite(memoryKiB))) {
    return undefined;
  }
  if (
    typeof facts !== "object" || facts === null || Array.isArray(facts) ||
    !Object.values(facts).every((v) => typeof v === "string")
  ) {
    return undefined;
  }
  return {
    id,
    state: state as InstanceState,
    nativeState,
    ...(memoryKiB !== undefined ? { memoryKiB } : {}),
    facts: facts as Record<string, string>,
  };
}

/** Whether a parsed header line is one this version wrote. */
function isHeader(value: unknown): value is Header {
  if (typeof value !== "object" || value === null) return false;
  const h = value as Record<string, unknown>;
  if (h.v !== FORMAT || typeof h.scope !== "string") return false;
  if (typeof h.takenAt === "number") {
    return Number.isFinite(h.takenAt) && typeof h.factPrefix === "string" &&
      /^[A-Z][A-Z0-9_]*$/.test(h.factPrefix);
  }
  return typeof h.failedAt === "number" && typeof h.message === "string" &&
    (h.code === undefined || typeof h.code === "string");
}
