/**
 * The memory of a host's usage reads, shared by its monitoring runs: one small JSON file per
 * host (and listing scope) in the poll state directory (`poll_state.ts`), holding when the
 * cloud's metrics service was last read and each instance's counters (`usage.ts`).
 *
 * - a run reads the file without a lock and serves its figures from it while the last read (or
 *   the last failed one) is younger than the interval;
 * - otherwise it takes the host's lock and reads the service: of many concurrent runs one asks
 *   and the rest wait for the lock and serve what it wrote. So a host's instances cost at most
 *   one read per interval, however many processes monitor them (a host probe, or one `poll`
 *   per VM as OpenNebula 3.2–4.2 run them);
 * - a failed read is recorded too, so that the runs waiting for it do not ask again; they serve
 *   the counters read before, without a CPU figure from before the failure.
 *
 * @module
 */

import { writeTextAtomically } from "../util/atomic_write.ts";
import { lockFile } from "../util/file_lock.ts";
import { checkStateDir, scopeFileName } from "./poll_state.ts";
import type { UsageSample } from "./provider.ts";
import { accumulate, type Counters, usageOf, type VmUsage } from "./usage.ts";

/** Version of the file's format; a file of another version counts as no memory. */
const FORMAT = 1;

/** How far each read looks back, in periods: late and revised periods are caught this long. */
export const LOOKBACK_PERIODS = 12;

/** Where and how one host's usage is remembered. */
export interface UsageStateOptions {
  /** The state directory (see `pollStateDir`); checked with `checkStateDir`. */
  readonly dir: string;
  /** The provider kind (`ec2`). */
  readonly kind: string;
  /** What decides which instances the host's account sees (no secret). */
  readonly scope: string;
  /** The OpenNebula host. */
  readonly host: string;
  /** The length of the service's periods, in seconds: the service is read at most this often. */
  readonly periodSeconds: number;
  /** Clock in epoch ms (`Date.now` by default). */
  readonly clock?: () => number;
  /** This user's id, who must own the directory (this process's by default). */
  readonly uid?: number | null;
}

/** One instance to read: its id and, when known, its vCPUs (for the CPU figure). */
export interface UsageTarget {
  /** The instance id. */
  readonly id: string;
  /** Its vCPUs, when known. */
  readonly vcpus?: number;
}

/**
 * Reads the service for the host's instances over a time range: the instances (asked only
 * when a read is due), then their samples.
 */
export interface UsageSource {
  /** The host's instances to read now (its running ones). */
  targets(): Promise<readonly UsageTarget[]>;
  /** Their samples over [start, end), by id (see `UsageReader.read`). */
  read(
    ids: readonly string[],
    start: number,
    end: number,
  ): Promise<ReadonlyMap<string, UsageSample>>;
}

/** The host's figures as a run serves them. */
export interface ServedUsage {
  /** Each instance's figures, by id; instances never read are absent. */
  readonly figures: ReadonlyMap<string, VmUsage>;
  /** Whether this run read the service. */
  readonly readHere: boolean;
  /** Why the last read failed, when it did. */
  readonly failure?: string;
}

/** The file. */
interface Memory {
  readonly v: number;
  readonly scope: string;
  readonly host: string;
  /** When the service was last read (epoch ms; 0: never). */
  readonly readAt: number;
  /** When a read last failed (epoch ms), and why. */
  readonly failedAt?: number;
  readonly failure?: string;
  readonly vms: Readonly<Record<string, Counters>>;
}

/** One host's usage memory. See the module's description. */
export class UsageState {
  readonly #options: UsageStateOptions;
  readonly #clock: () => number;
  readonly #base: string;

  private constructor(options: UsageStateOptions, base: string) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#base = `${options.dir}/${base}`;
  }

  /**
   * Opens a host's memory, checking (and creating) its directory.
   *
   * @param options Directory, scope, host and period.
   * @returns The memory.
   * @throws {InvalidInputError} when the directory is unsafe (see `checkStateDir`).
   */
  static async open(options: UsageStateOptions): Promise<UsageState> {
    await checkStateDir(options.dir, options.uid);
    const name = await scopeFileName(options.kind, `${options.scope}\n${options.host}`);
    return new UsageState(options, name);
  }

  /** The memory file's path. */
  get file(): string {
    return `${this.#base}.usage`;
  }

  /**
   * The host's figures: remembered ones while the last read is younger than a period, else
   * those of a read made now (or by the process that held the lock meanwhile).
   *
   * @param source The host's instances and the service.
   * @param signal Ends the wait for another process's read, and this run's read.
   * @returns The figures.
   * @throws the signal's reason when it aborts while waiting for the lock; what writing the
   * memory threw. A failed read of the service is not thrown: it is served as `failure`.
   */
  async usage(source: UsageSource, signal: AbortSignal): Promise<ServedUsage> {
    const remembered = await this.#load();
    if (remembered && this.#fresh(remembered)) return this.#served(remembered, false);
    const lock = await lockFile(`${this.#base}.usage.lock`, signal);
    try {
      const now = await this.#load();
      if (now && this.#fresh(now)) return this.#served(now, false);
      const memory = await this.#read(now, source);
      await writeTextAtomically(this.file, JSON.stringify(memory), { mode: 0o600 });
      return this.#served(memory, true);
    } finally {
      lock.close();
    }
  }

  /** A read of the service added to the memory, or the failure recorded in it. */
  async #read(before: Memory | undefined, source: UsageSource): Promise<Memory> {
    const period = this.#options.periodSeconds * 1000;
    const now = this.#clock();
    const end = Math.floor(now / period) * period;
    const start = end - LOOKBACK_PERIODS * period;
    const base = { v: FORMAT, scope: this.#options.scope, host: this.#options.host };
    try {
      const targets = await source.targets();
      const samples = targets.length === 0
        ? new Map<string, UsageSample>()
        : await source.read(targets.map((t) => t.id), start, end);
      const vms: Record<string, Counters> = {};
      for (const target of targets) {
        const sample = samples.get(target.id) ?? { cpuPercent: [], received: [], sent: [] };
        vms[target.id] = accumulate(before?.vms[target.id], sample, target.vcpus, start);
      }
      return { ...base, readAt: now, vms };
    } catch (error) {
      const failure = error instanceof Error ? error.message : String(error);
      // What was counted stays; a CPU figure from before the failure is not served as current.
      const vms = Object.fromEntries(
        Object.entries(before?.vms ?? {}).map(([id, { cpu: _cpu, cpuAt: _at, ...kept }]) => [
          id,
          kept,
        ]),
      );
      return { ...base, readAt: before?.readAt ?? 0, failedAt: now, failure, vms };
    }
  }

  /** Whether the last read, or failed read, is younger than a period. */
  #fresh(memory: Memory): boolean {
    const now = this.#clock();
    const last = Math.max(memory.readAt, memory.failedAt ?? 0);
    return last <= now && now - last < this.#options.periodSeconds * 1000;
  }

  /** The figures of a memory, as served now. */
  #served(memory: Memory, readHere: boolean): ServedUsage {
    const now = this.#clock();
    const figures = new Map(
      Object.entries(memory.vms).map(([id, counters]) => [id, usageOf(counters, now)]),
    );
    const failed = memory.failedAt !== undefined && memory.failedAt >= memory.readAt;
    return { figures, readHere, ...(failed ? { failure: memory.failure ?? "" } : {}) };
  }

  /** The memory in the file; undefined when there is none, or it is unreadable or another's. */
  async #load(): Promise<Memory | undefined> {
    let value: unknown;
    try {
      value = JSON.parse(await Deno.readTextFile(this.file));
    } catch {
      return undefined;
    }
    return isMemory(value) && value.scope === this.#options.scope &&
        value.host === this.#options.host
      ? value
      : undefined;
  }
}

/** Whether a parsed file is a memory this version wrote. */
function isMemory(value: unknown): value is Memory {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Record<string, unknown>;
  if (
    m.v !== FORMAT || typeof m.scope !== "string" || typeof m.host !== "string" ||
    typeof m.readAt !== "number" || (m.failedAt !== undefined && typeof m.failedAt !== "number") ||
    typeof m.vms !== "object" || m.vms === null || Array.isArray(m.vms)
  ) {
    return false;
  }
  return Object.values(m.vms).every(isCounters);
}

/** Whether a remembered entry has the shape of {@link Counters}. */
function isCounters(value: unknown): value is Counters {
  if (typeof value !== "object" || value === null) return false;
  const c = value as Record<string, unknown>;
  const numbers = (o: unknown) =>
    typeof o === "object" && o !== null && !Array.isArray(o) &&
    Object.values(o).every((n) => typeof n === "number" && Number.isFinite(n));
  return typeof c.rx === "number" && Number.isFinite(c.rx) && typeof c.tx === "number" &&
    Number.isFinite(c.tx) && numbers(c.rxSeen) && numbers(c.txSeen) &&
    (c.cpu === undefined || (typeof c.cpu === "number" && typeof c.cpuAt === "number"));
}
