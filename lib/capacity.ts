/**
 * What a cloud host offers OpenNebula's scheduler: the capacity the operator allows it, what
 * this host's instances use of it, and what is left. The scheduler stops placing VMs on a host
 * whose free capacity is spent.
 *
 * Figures are in OpenNebula's units: CPU in hundredths of a virtual CPU (100 per vCPU), memory
 * in KiB.
 *
 * @module
 */

import type { ListedInstance, Provider, Size } from "./provider.ts";

/** How many instances of each size (EC2 instance type) a host may run. */
export type CapacitySpec = Readonly<Record<string, number>>;

/** The host figures an IM probe reports. */
export interface HostFigures {
  /** `TOTALCPU`. */
  readonly totalCpu: number;
  /** `TOTALMEMORY`, KiB. */
  readonly totalMemoryKiB: number;
  /** `USEDCPU`. */
  readonly usedCpu: number;
  /** `USEDMEMORY`, KiB. */
  readonly usedMemoryKiB: number;
  /** `FREECPU`: what is left, never below 0. */
  readonly freeCpu: number;
  /** `FREEMEMORY`, KiB: what is left, never below 0. */
  readonly freeMemoryKiB: number;
}

/** Instance states that hold capacity: pending and running ones. */
const HOLDING = new Set(["pending", "running"]);

/**
 * Whether an instance counts against a host's capacity: this driver launched it for the host,
 * and it is pending or running.
 *
 * @param instance A listed instance.
 * @param host OpenNebula host name.
 */
export function holdsCapacity(instance: ListedInstance, host: string): boolean {
  return instance.launchedByDriver && instance.ownerHost === host && HOLDING.has(instance.state);
}

/**
 * Computes a host's figures: totals from the capacity and the sizes, used from this host's
 * pending and running instances, free from the difference.
 *
 * @param host OpenNebula host name.
 * @param capacity Instances allowed per size.
 * @param provider Answers the sizes.
 * @param listed Every instance of the host's account and region (`Provider.list()`).
 * @returns The figures. Sizes the provider does not know count as nothing.
 */
export async function hostFigures(
  host: string,
  capacity: CapacitySpec,
  provider: Provider,
  listed: readonly ListedInstance[],
): Promise<HostFigures> {
  const held = listed.filter((i) => holdsCapacity(i, host));
  const names = new Set([...Object.keys(capacity), ...held.flatMap((i) => i.size ?? [])]);
  const sizes = await provider.sizes([...names]);
  const total = sum(Object.entries(capacity).map(([name, count]) => [sizes.get(name), count]));
  const used = sum(held.map((i) => [i.size === undefined ? undefined : sizes.get(i.size), 1]));
  return {
    totalCpu: total.cpu,
    totalMemoryKiB: total.memoryKiB,
    usedCpu: used.cpu,
    usedMemoryKiB: used.memoryKiB,
    freeCpu: Math.max(0, total.cpu - used.cpu),
    freeMemoryKiB: Math.max(0, total.memoryKiB - used.memoryKiB),
  };
}

/** Adds up sizes times counts, in OpenNebula's units. */
function sum(items: readonly (readonly [Size | undefined, number])[]) {
  let cpu = 0;
  let memoryKiB = 0;
  for (const [size, count] of items) {
    if (size === undefined) continue;
    cpu += size.vcpus * 100 * count;
    memoryKiB += size.memoryMiB * 1024 * count;
  }
  return { cpu, memoryKiB };
}
