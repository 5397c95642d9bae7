/**
 * What a cloud host offers OpenNebula's scheduler: the capacity the operator allows it, what
 * this host's instances use of it, and what is left. The scheduler stops placing VMs on a host
 * whose free capacity is spent, and deploy refuses a VM that would go past it.
 *
 * A capacity counts instances per size (EC2 instance type: `{"t3.micro": 10, "m5.large": 2}`)
 * and/or caps totals of the whole host: `vcpus`, `memoryGiB` and `instances`. Size names always
 * hold a `.` (`family.size`), total keys never do, so the two cannot clash. How they combine:
 *
 * - Counts alone: only the sizes listed may run, each up to its count. The host's totals are
 *   the sum of count × size.
 * - Totals alone: any size may run while the host's pending and running instances stay within
 *   them. Without counts, both `vcpus` and `memoryGiB` must be given (the scheduler needs both).
 * - Both: only the sizes listed, each up to its count, and all of them together within the
 *   totals: a total caps the sum of the counts.
 *
 * `instances` caps how many instances run at once; it has no figure of its own, so it changes
 * no `TOTAL*` figure, only what deploy accepts.
 *
 * Figures are in OpenNebula's units: CPU in hundredths of a virtual CPU (100 per vCPU), memory
 * in KiB.
 *
 * @module
 */

import { DriverError, InvalidInputError } from "../util/errors.ts";
import { printable } from "../util/output.ts";
import type {
  AccountQuota,
  Instance,
  ListedInstance,
  Provider,
  QuotaCharge,
  QuotaFigure,
  Size,
} from "./provider.ts";

/**
 * A host's capacity: instances allowed per size (keys with a `.`, `t3.micro`), and totals
 * (`vcpus`, `memoryGiB`, `instances`; see {@link TOTAL_KEYS}).
 */
export type CapacitySpec = Readonly<Record<string, number>>;

/** The keys of a capacity that cap the whole host rather than one size. */
export const TOTAL_KEYS = ["vcpus", "memoryGiB", "instances"] as const;

/** A capacity split into its parts. */
interface CapacityParts {
  /** Instances allowed per size; empty when the capacity lists no size. */
  readonly counts: ReadonlyMap<string, number>;
  /** Most virtual CPUs of all pending and running instances together. */
  readonly vcpus?: number;
  /** Most memory of all pending and running instances together, GiB. */
  readonly memoryGiB?: number;
  /** Most pending and running instances. */
  readonly instances?: number;
}

/** The largest number a capacity may give (instances, vCPUs or GiB). */
const MAX_CAPACITY_NUMBER = 10_000_000;

/**
 * Splits a capacity into counts per size and totals.
 *
 * @param capacity The capacity.
 * @returns Its parts.
 */
function capacityParts(capacity: CapacitySpec): CapacityParts {
  const counts = new Map<string, number>();
  const parts: { -readonly [K in keyof CapacityParts]: CapacityParts[K] } = { counts };
  for (const [key, value] of Object.entries(capacity)) {
    if ((TOTAL_KEYS as readonly string[]).includes(key)) {
      parts[key as typeof TOTAL_KEYS[number]] = value;
    } else {
      counts.set(key, value);
    }
  }
  return parts;
}

/**
 * Says what is wrong with a capacity, or `undefined` when it is valid: every key a size
 * (`family.size`) or a total, every number whole (`memoryGiB` may have a fraction) from 0 to
 * {@link MAX_CAPACITY_NUMBER}, and, without sizes, both `vcpus` and `memoryGiB`.
 *
 * @param capacity Keys and values as read (values not yet known to be numbers).
 * @returns The problem, in words that follow "capacity ...", or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { capacityProblem } from "./capacity.ts";
 * assert.equal(capacityProblem({ "t3.micro": 10, vcpus: 64 }), undefined);
 * assert.match(capacityProblem({ vcpus: 64 }) ?? "", /needs both "vcpus" and "memoryGiB"/);
 * ```
 */
export function capacityProblem(capacity: Readonly<Record<string, unknown>>): string | undefined {
  const keys = Object.keys(capacity);
  if (keys.length === 0) return "is empty: give instances per type and/or vcpus and memoryGiB";
  for (const [key, value] of Object.entries(capacity)) {
    const total = (TOTAL_KEYS as readonly string[]).includes(key);
    if (!total && !SIZE_NAME.test(key)) {
      return `has "${
        printable(key)
      }", which is neither an instance type (family.size, e.g. t3.micro) nor a total (${
        TOTAL_KEYS.join(", ")
      })`;
    }
    const whole = key !== "memoryGiB";
    if (
      typeof value !== "number" || !Number.isFinite(value) || value < 0 ||
      value > MAX_CAPACITY_NUMBER || (whole && !Number.isInteger(value))
    ) {
      return `has "${printable(key)}" ${
        typeof value === "number" ? String(value) : "not a number"
      }; it must be a ${whole ? "whole " : ""}number from 0 to ${MAX_CAPACITY_NUMBER}`;
    }
  }
  const parts = capacityParts(capacity as CapacitySpec);
  if (parts.counts.size === 0 && (parts.vcpus === undefined || parts.memoryGiB === undefined)) {
    return 'lists no instance type, so it needs both "vcpus" and "memoryGiB"';
  }
  return undefined;
}

/** A size name: a family and a size, lower case, separated by one dot (`u-6tb1.metal`). */
const SIZE_NAME = /^[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$/;

/** The template names of the totals: `CAPACITY=[ VCPUS="64", MEMORY_GIB="256", INSTANCES="20" ]`. */
const TEMPLATE_TOTALS: Readonly<Record<string, typeof TOTAL_KEYS[number]>> = {
  VCPUS: "vcpus",
  MEMORY_GIB: "memoryGiB",
  MEMORYGIB: "memoryGiB",
  INSTANCES: "instances",
};

/**
 * Reads the `CAPACITY` section of an OpenNebula host template, as operators write it since
 * OpenNebula 5.4: sizes in upper case with `_` for `.` (`T3_MICRO="10"`, read as OpenNebula's
 * own EC2 driver read them: lower-cased, every `_` a `.`), plus the totals `VCPUS`,
 * `MEMORY_GIB` and `INSTANCES`. Keys may come in any case; values are trimmed.
 *
 * @param attributes The section's attributes, as oned returns them.
 * @returns The capacity.
 * @throws {InvalidInputError} naming the key: a value that is not a number, a key that is not
 * an instance type, two keys for the same type, or a capacity that is invalid as a whole.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { capacityFromTemplate } from "./capacity.ts";
 * assert.deepEqual(
 *   capacityFromTemplate({ T3_MICRO: "10", M5_2XLARGE: " 2 ", VCPUS: "64" }),
 *   { "t3.micro": 10, "m5.2xlarge": 2, vcpus: 64 },
 * );
 * ```
 */
export function capacityFromTemplate(
  attributes: Readonly<Record<string, string>>,
): CapacitySpec {
  const capacity: Record<string, number> = {};
  const from: Record<string, string> = {};
  for (const [rawKey, rawValue] of Object.entries(attributes)) {
    const upper = rawKey.trim().toUpperCase();
    const key = TEMPLATE_TOTALS[upper] ?? upper.toLowerCase().replaceAll("_", ".");
    const value = rawValue.trim();
    if (!/^\d+(\.\d+)?$/.test(value)) {
      throw new InvalidInputError(
        `Host template CAPACITY ${printable(rawKey)}="${printable(value)}" is not a number of ${
          key.includes(".") ? "instances" : key
        }`,
      );
    }
    if (from[key] !== undefined) {
      throw new InvalidInputError(
        `Host template CAPACITY names ${key} twice (${printable(from[key])} and ${
          printable(rawKey)
        })`,
      );
    }
    from[key] = rawKey;
    capacity[key] = Number(value);
  }
  const problem = capacityProblem(capacity);
  if (problem !== undefined) throw new InvalidInputError(`Host template CAPACITY ${problem}`);
  return capacity;
}

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
 * Computes a host's figures: totals from the capacity and the sizes (a total caps the sum of
 * the counts; see the module's documentation), used from this host's pending and running
 * instances, free from the difference.
 *
 * @param host OpenNebula host name.
 * @param capacity The host's capacity.
 * @param provider Answers the sizes.
 * @param listed Every instance of the host's account and region (`Provider.list()`).
 * @param charged Whether an instance counts what its account's quota charges for it, where
 *   the cloud says ({@link Instance.charged}), rather than its size: for a capacity taken from
 *   that quota ({@link capacityFromQuota}).
 * @returns The figures. Sizes the provider does not know count as nothing.
 */
export async function hostFigures(
  host: string,
  capacity: CapacitySpec,
  provider: Provider,
  listed: readonly ListedInstance[],
  charged = false,
): Promise<HostFigures> {
  const parts = capacityParts(capacity);
  const held = listed.filter((i) => holdsCapacity(i, host));
  const names = new Set([...parts.counts.keys(), ...held.flatMap((i) => i.size ?? [])]);
  const sizes = names.size === 0 ? new Map() : await provider.sizes([...names]);
  const counted = sum([...parts.counts].map(([name, count]) => [sizes.get(name), count]));
  const listsSizes = parts.counts.size > 0;
  const cap = (fromCounts: number, limit: number | undefined) =>
    limit === undefined ? fromCounts : listsSizes ? Math.min(fromCounts, limit) : limit;
  const totalCpu = cap(counted.cpu, parts.vcpus === undefined ? undefined : parts.vcpus * 100);
  const totalMemoryKiB = cap(
    counted.memoryKiB,
    parts.memoryGiB === undefined ? undefined : Math.round(parts.memoryGiB * 1024 * 1024),
  );
  const used = sum(held.map((i) => [charged ? chargeOf(i, sizes) : sizeIn(sizes, i), 1]));
  return {
    totalCpu,
    totalMemoryKiB,
    usedCpu: used.cpu,
    usedMemoryKiB: used.memoryKiB,
    freeCpu: Math.max(0, totalCpu - used.cpu),
    freeMemoryKiB: Math.max(0, totalMemoryKiB - used.memoryKiB),
  };
}

/**
 * Says why one more instance of a size would go past a host's capacity, or `undefined` when
 * it fits. Checks, in order: the size is listed (when the capacity lists sizes), its count,
 * `instances`, `vcpus`, `memoryGiB`.
 *
 * @param capacity The host's capacity.
 * @param size The size of the instance to add, when known.
 * @param sizes The sizes the provider knows (of `size` and of the held instances).
 * @param held The host's pending and running instances, the deploying VM's own left out.
 * @returns The reason, in words that follow "Cannot deploy VM 42 to host aws: ".
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { capacityExceeded } from "./capacity.ts";
 * const held = [{ size: "m5.large" }, { size: "m5.large" }];
 * assert.equal(
 *   capacityExceeded({ "m5.large": 2 }, "m5.large", new Map(), held),
 *   "its capacity allows 2 m5.large and 2 are pending or running",
 * );
 * assert.equal(capacityExceeded({ "m5.large": 3 }, "m5.large", new Map(), held), undefined);
 * ```
 */
export function capacityExceeded(
  capacity: CapacitySpec,
  size: string | undefined,
  sizes: ReadonlyMap<string, Size>,
  held: readonly Pick<ListedInstance, "size">[],
): string | undefined {
  const parts = capacityParts(capacity);
  if (parts.counts.size > 0) {
    const allowed = size === undefined ? undefined : parts.counts.get(size);
    if (allowed === undefined) {
      return `its capacity allows no ${size ?? "instance of unknown size"} (it lists ${
        [...parts.counts.keys()].join(", ")
      })`;
    }
    const same = held.filter((i) => i.size === size).length;
    if (same + 1 > allowed) {
      return `its capacity allows ${allowed} ${size} and ${same} ${
        same === 1 ? "is" : "are"
      } pending or running`;
    }
  }
  return instancesExceeded(parts, held.length) ?? totalsExceeded(
    parts,
    { name: size, size: size === undefined ? undefined : sizes.get(size) },
    held.map((i) => sizeIn(sizes, i)),
  );
}

/** Says why one more instance would go past a capacity's `instances`, or undefined. */
function instancesExceeded(parts: CapacityParts, held: number): string | undefined {
  if (parts.instances === undefined || held + 1 <= parts.instances) return undefined;
  return `its capacity allows ${parts.instances} instances and ${held} ${
    held === 1 ? "is" : "are"
  } pending or running`;
}

/**
 * Says why one more instance would go past a capacity's `vcpus` or `memoryGiB`, or undefined.
 *
 * @param parts The capacity's parts.
 * @param needed What the instance takes: `size`, named `name` (`t3.micro`, or undefined for an
 *   instance of unknown size), or with `cpu` what a quota charges for it (`CPU` rather than
 *   vCPUs, for a capacity taken from the quota).
 * @param held What each pending and running instance takes.
 */
function totalsExceeded(
  parts: CapacityParts,
  needed: { name: string | undefined; size: Size | undefined; cpu?: true },
  held: readonly (Size | undefined)[],
): string | undefined {
  if (parts.vcpus === undefined && parts.memoryGiB === undefined) return undefined;
  const { name, size } = needed;
  const unit = needed.cpu ? "CPU" : "vCPUs";
  if (size === undefined) {
    return `its capacity caps ${parts.vcpus === undefined ? "memory" : unit} and the size of ${
      name ?? "the instance"
    } is unknown`;
  }
  const used = sum(held.map((held) => [held, 1]));
  const what = name ?? "the instance";
  if (parts.vcpus !== undefined && used.cpu / 100 + size.vcpus > parts.vcpus) {
    return `its capacity allows ${parts.vcpus} ${unit}, pending and running instances hold ${
      used.cpu / 100
    } and ${what} needs ${size.vcpus}`;
  }
  const usedGiB = used.memoryKiB / 1024 / 1024;
  const neededGiB = size.memoryMiB / 1024;
  if (parts.memoryGiB !== undefined && usedGiB + neededGiB > parts.memoryGiB) {
    return `its capacity allows ${parts.memoryGiB} GiB of memory, pending and running instances hold ${
      round(usedGiB)
    } GiB and ${what} needs ${round(neededGiB)} GiB`;
  }
  return undefined;
}

/** The size of an instance, when the provider knows it. */
function sizeIn(
  sizes: ReadonlyMap<string, Size>,
  instance: { readonly size?: string | undefined },
) {
  return instance.size === undefined ? undefined : sizes.get(instance.size);
}

/**
 * What an account's quota charges for an instance, as a size (`vcpus` the quota's CPUs): its
 * {@link Instance.charged} where the cloud says, else its size.
 *
 * @param instance The instance.
 * @param sizes The sizes the provider knows.
 * @returns The charge, or undefined when neither is known.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chargeOf } from "./capacity.ts";
 * const sizes = new Map([["2vcpu.512mib", { vcpus: 2, memoryMiB: 512 }]]);
 * const charged = { cpu: 0.5, memoryMiB: 512 };
 * assert.deepEqual(chargeOf({ size: "2vcpu.512mib", charged }, sizes), { vcpus: 0.5, memoryMiB: 512 });
 * assert.deepEqual(chargeOf({ size: "2vcpu.512mib" }, sizes), { vcpus: 2, memoryMiB: 512 });
 * ```
 */
export function chargeOf(
  instance: Pick<Instance, "size" | "charged">,
  sizes: ReadonlyMap<string, Size>,
): Size | undefined {
  return asSize(instance.charged) ?? sizeIn(sizes, instance);
}

/** A quota's charge as a size. */
function asSize(charge: QuotaCharge | undefined): Size | undefined {
  return charge && { vcpus: charge.cpu, memoryMiB: charge.memoryMiB };
}

/** What deploy checks against the host's capacity. */
interface DeployCapacityRequest {
  /** OpenNebula VM id; its own instances (an earlier attempt, a resumed one) are left out. */
  readonly vmId: number;
  /** OpenNebula host name. */
  readonly host: string;
  /** The size the deploy would run, when the provider knows it. */
  readonly size: string | undefined;
}

/** What deploy checks against its account's quota. */
interface DeployQuotaRequest extends DeployCapacityRequest {
  /**
   * What the quota will charge for the instance, where that is not its size and the provider
   * says; asked only when the quota limits something.
   */
  readonly charged?: () => Promise<QuotaCharge | undefined>;
}

/**
 * Refuses a deploy that would go past its host's capacity, before anything is launched or
 * started. One request for the host's instances ({@link Provider.listForHost}), and one for
 * sizes only when the capacity caps `vcpus` or `memoryGiB`.
 *
 * @param provider The host's provider.
 * @param capacity The host's capacity.
 * @param request The VM, host and size.
 * @throws {DriverError} `Cannot deploy VM 42 to host aws: its capacity allows ...`.
 */
export async function checkDeployCapacity(
  provider: Provider,
  capacity: CapacitySpec,
  request: DeployCapacityRequest,
): Promise<void> {
  const held = (await provider.listForHost(request.host)).filter((i) =>
    HOLDING.has(i.state) && i.ownerVmId !== request.vmId
  );
  const parts = capacityParts(capacity);
  const needsSizes = parts.vcpus !== undefined || parts.memoryGiB !== undefined;
  const names = new Set(held.flatMap((i) => i.size ?? []));
  if (request.size !== undefined) names.add(request.size);
  const sizes = needsSizes && names.size > 0
    ? await provider.sizes([...names])
    : new Map<string, Size>();
  const reason = capacityExceeded(capacity, request.size, sizes, held);
  if (reason !== undefined) {
    throw new DriverError(`Cannot deploy VM ${request.vmId} to host ${request.host}: ${reason}`);
  }
}

/** An instance whose share of an account's quota the caller counts on its own. */
interface CountedInstance {
  /**
   * What the quota charges for it, as a size (`vcpus` the quota's CPUs): its charge where the
   * cloud says, else its size; unknown counts as nothing.
   */
  readonly size: Size | undefined;
  /** Whether it is pending or running (`RUNNING_*` quotas count only those). */
  readonly running: boolean;
}

/**
 * A host's capacity from its cloud account's quota: each total is the limit less what the
 * account holds outside the instances the caller counts itself (this host's pending and
 * running ones, and for a deploy the VM's own), so that what is free on the host is what the
 * quota leaves. A total with several limits (all VMs, running VMs) takes the smallest; a
 * total without limits is left out, so the capacity may lack `vcpus` or `memoryGiB`. `vcpus`
 * is in the quota's units: OpenNebula's `CPU`, which its quota charges, not `VCPU`; the host's
 * figures then count instances by their charge too ({@link hostFigures} with `charged`).
 *
 * @param quota The account's limits.
 * @param counted The instances the caller counts against the capacity itself.
 * @returns The totals (`vcpus` and `instances` whole, rounded down).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { capacityFromQuota } from "./capacity.ts";
 * const limit = (limit: number, used: number) => ({ limit, used, runningOnly: false });
 * // 8 vCPUs, 6 used: 2 by this host's running instance, 4 elsewhere; so 4 for this host.
 * assert.deepEqual(
 *   capacityFromQuota(
 *     { vcpus: [limit(8, 6)], memoryGiB: [], instances: [limit(5, 3)] },
 *     [{ size: { vcpus: 2, memoryMiB: 2048 }, running: true }],
 *   ),
 *   { vcpus: 4, instances: 3 },
 * );
 * ```
 */
export function capacityFromQuota(
  quota: AccountQuota,
  counted: readonly CountedInstance[],
): CapacitySpec {
  const share = (running: boolean) => {
    const items = counted.filter((i) => !running || i.running);
    return {
      ...sum(items.map((i) => [i.size, 1])),
      instances: items.length,
    };
  };
  const all = share(false);
  const runningOnly = share(true);
  const total = (figures: readonly QuotaFigure[], pick: (s: typeof all) => number) => {
    const left = figures.map((f) => {
      const own = pick(f.runningOnly ? runningOnly : all);
      return Math.max(0, f.limit - Math.max(0, f.used - own));
    });
    return left.length === 0 ? undefined : Math.min(MAX_CAPACITY_NUMBER, ...left);
  };
  const capacity: Record<string, number> = {};
  const vcpus = total(quota.vcpus, (s) => s.cpu / 100);
  const memoryGiB = total(quota.memoryGiB, (s) => s.memoryKiB / 1024 / 1024);
  const instances = total(quota.instances, (s) => s.instances);
  if (vcpus !== undefined) capacity.vcpus = Math.floor(vcpus);
  if (memoryGiB !== undefined) capacity.memoryGiB = Math.floor(memoryGiB * 1024) / 1024;
  if (instances !== undefined) capacity.instances = Math.floor(instances);
  return capacity;
}

/**
 * Refuses a deploy that would go past what its cloud account's quota leaves, before anything
 * is launched or started: one call for the quota, and when it limits anything one listing of
 * the account. The VM's own instance (a retry's, or one being resumed) is already in the
 * quota's counters, so it is counted once, as the instance the deploy needs.
 *
 * @param provider The host's provider.
 * @param quota The account's limits.
 * @param request The VM, host and size, and what the quota will charge for it.
 * @throws {DriverError} `Cannot deploy VM 42 to host h: its capacity allows ... (what the cloud
 * account's quota leaves)`.
 */
export async function checkDeployQuota(
  provider: Provider,
  quota: AccountQuota,
  request: DeployQuotaRequest,
): Promise<void> {
  if (quota.vcpus.length + quota.memoryGiB.length + quota.instances.length === 0) return;
  const needed = await request.charged?.();
  const listed = await provider.list();
  const held = listed.filter((i) => holdsCapacity(i, request.host) && i.ownerVmId !== request.vmId);
  const own = listed.filter((i) =>
    i.launchedByDriver && i.ownerHost === request.host && i.ownerVmId === request.vmId &&
    i.state !== "terminated" && i.state !== "terminating"
  );
  const names = new Set([...held, ...own].flatMap((i) => i.size ?? []));
  if (request.size !== undefined) names.add(request.size);
  const sizes = names.size > 0 ? await provider.sizes([...names]) : new Map<string, Size>();
  const capacity = capacityFromQuota(quota, [
    ...held.map((i) => ({ size: chargeOf(i, sizes), running: true })),
    ...own.map((i) => ({ size: chargeOf(i, sizes), running: HOLDING.has(i.state) })),
  ]);
  // Counted as the quota counts: what it charges, where the cloud says (CPU, not vCPUs).
  const charged = needed !== undefined || [...held, ...own].some((i) => i.charged);
  const parts = capacityParts(capacity);
  const reason = instancesExceeded(parts, held.length) ?? totalsExceeded(
    parts,
    charged
      ? { name: undefined, size: asSize(needed) ?? sizeIn(sizes, request), cpu: true }
      : { name: request.size, size: sizeIn(sizes, request) },
    held.map((i) => chargeOf(i, sizes)),
  );
  if (reason !== undefined) {
    throw new DriverError(
      `Cannot deploy VM ${request.vmId} to host ${request.host}: ${reason} (what the cloud account's quota leaves)`,
    );
  }
}

/** Adds up sizes times counts, in OpenNebula's units. */
function sum(items: readonly (readonly [Size | undefined, number])[]) {
  let cpu = 0;
  let memoryKiB = 0;
  for (const [size, count] of items) {
    if (size === undefined) continue;
    // A quota's CPUs may be shares of one (0.5): whole hundredths, as OpenNebula counts CPU.
    cpu += Math.round(size.vcpus * 100) * count;
    memoryKiB += size.memoryMiB * 1024 * count;
  }
  return { cpu, memoryKiB };
}

/** A number of GiB for a message: at most two decimals. */
function round(gib: number): number {
  return Math.round(gib * 100) / 100;
}
