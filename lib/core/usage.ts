/**
 * The usage figures OpenNebula's monitoring carries for a VM, made from what a cloud's metrics
 * service says period by period ({@link UsageSample}):
 *
 * - `cpu`: the latest period's average utilisation times the instance's vCPUs, which is
 *   OpenNebula's CPU figure (percent of one CPU: 100 per busy vCPU; EC2's `CPUUtilization` is a
 *   percentage of all the instance's vCPUs together);
 * - `netrx`, `nettx`: bytes received and sent, cumulative as OpenNebula expects them: the
 *   periods' sums added up since the driver began reading the instance. Each read looks back
 *   over several periods and remembers what each period added, so that a period whose value
 *   arrives late, or grows as late data comes in, adds what is new and nothing twice.
 *
 * Pure: the memory between reads is kept by `usage_state.ts`.
 *
 * @module
 */

import type { Datapoint, UsageSample } from "./provider.ts";

/** What a VM's monitoring string carries of its usage. */
export interface VmUsage {
  /** OpenNebula's CPU figure (100 per busy vCPU), when a recent period gave one. */
  readonly cpu?: number;
  /** Bytes received, cumulative. */
  readonly netrx: number;
  /** Bytes sent, cumulative. */
  readonly nettx: number;
}

/** What is remembered of one instance between reads. */
export interface Counters {
  /** OpenNebula's CPU figure of the latest period read, when the vCPUs were known. */
  readonly cpu?: number;
  /** When that period began (epoch ms). */
  readonly cpuAt?: number;
  /** Bytes received, counted so far. */
  readonly rx: number;
  /** Bytes sent, counted so far. */
  readonly tx: number;
  /** What each period still in the look-back added to `rx`, by its start (epoch ms). */
  readonly rxSeen: Readonly<Record<string, number>>;
  /** What each period still in the look-back added to `tx`, by its start (epoch ms). */
  readonly txSeen: Readonly<Record<string, number>>;
}

/**
 * How long a CPU figure is reported after the period it comes from began: a metrics service
 * publishes a period some minutes after it ends (EC2's basic monitoring: 5-minute periods,
 * published within about 10 minutes), and an older figure no longer says what the VM does.
 */
export const CPU_FRESH_MS = 30 * 60 * 1000;

/**
 * Adds one read of an instance to what was remembered of it.
 *
 * @param previous What was remembered, or undefined for an instance read the first time.
 * @param sample What the service said over the look-back (nothing: an empty sample).
 * @param vcpus The instance's vCPUs, when known: without them there is no CPU figure.
 * @param since Start of the look-back (epoch ms): what is remembered of earlier periods is
 * dropped.
 * @returns What to remember now.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accumulate } from "./usage.ts";
 * const first = accumulate(undefined, {
 *   cpuPercent: [{ at: 0, value: 10 }, { at: 300_000, value: 25 }],
 *   received: [{ at: 0, value: 1000 }],
 *   sent: [],
 * }, 2, 0);
 * assert.equal(first.cpu, 50); // 25 % of 2 vCPUs: half of one CPU each
 * assert.equal(first.rx, 1000);
 * // The same period read again, grown by late data: only the growth is added.
 * const again = accumulate(first, {
 *   cpuPercent: [],
 *   received: [{ at: 0, value: 1500 }, { at: 300_000, value: 200 }],
 *   sent: [],
 * }, 2, 0);
 * assert.equal(again.rx, 1700);
 * ```
 */
export function accumulate(
  previous: Counters | undefined,
  sample: UsageSample,
  vcpus: number | undefined,
  since: number,
): Counters {
  const rx = added(previous?.rx ?? 0, previous?.rxSeen ?? {}, sample.received, since);
  const tx = added(previous?.tx ?? 0, previous?.txSeen ?? {}, sample.sent, since);
  const latest = sample.cpuPercent.reduce<Datapoint | undefined>(
    (last, point) => last === undefined || point.at > last.at ? point : last,
    undefined,
  );
  const cpu = latest !== undefined && vcpus !== undefined
    ? { cpu: latest.value * vcpus, cpuAt: latest.at }
    : previous?.cpu !== undefined && previous.cpuAt !== undefined
    ? { cpu: previous.cpu, cpuAt: previous.cpuAt }
    : {};
  return { ...cpu, rx: rx.total, tx: tx.total, rxSeen: rx.seen, txSeen: tx.seen };
}

/** A counter with a read's periods added: what each grew by since it was last seen. */
function added(
  total: number,
  seen: Readonly<Record<string, number>>,
  points: readonly Datapoint[],
  since: number,
): { total: number; seen: Record<string, number> } {
  const kept: Record<string, number> = {};
  for (const [at, value] of Object.entries(seen)) {
    if (Number(at) >= since) kept[at] = value;
  }
  for (const point of points) {
    if (point.at < since || !Number.isFinite(point.value) || point.value < 0) continue;
    const before = kept[point.at] ?? 0;
    if (point.value > before) {
      total += point.value - before;
      kept[point.at] = point.value;
    }
  }
  return { total, seen: kept };
}

/**
 * What a VM's monitoring string carries of the remembered counters now: the cumulative bytes,
 * and the CPU figure while it is recent ({@link CPU_FRESH_MS}).
 *
 * @param counters What is remembered of the instance.
 * @param now Epoch ms.
 * @returns The figures.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usageOf } from "./usage.ts";
 * const counters = { cpu: 37.5, cpuAt: 0, rx: 10, tx: 20, rxSeen: {}, txSeen: {} };
 * assert.deepEqual(usageOf(counters, 600_000), { cpu: 37.5, netrx: 10, nettx: 20 });
 * assert.deepEqual(usageOf(counters, 3_600_000), { netrx: 10, nettx: 20 });
 * ```
 */
export function usageOf(counters: Counters, now: number): VmUsage {
  const recent = counters.cpu !== undefined && counters.cpuAt !== undefined &&
    now - counters.cpuAt < CPU_FRESH_MS;
  return {
    ...(recent ? { cpu: counters.cpu } : {}),
    netrx: counters.rx,
    nettx: counters.tx,
  };
}
