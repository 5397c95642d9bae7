/**
 * Sizes of common EC2 instance types, so that monitoring can report the memory a VM was given
 * without an extra API call per poll. Types not listed here are reported without memory.
 *
 * @module
 */

import type { Size } from "../../core/provider.ts";

/** Sizes of the burstable T3 generation: size name to [vCPUs, MiB]. */
const T3_SIZES: Readonly<Record<string, [number, number]>> = {
  nano: [2, 512],
  micro: [2, 1024],
  small: [2, 2048],
  medium: [2, 4096],
  large: [2, 8192],
  xlarge: [4, 16384],
  "2xlarge": [8, 32768],
};

/** Burstable families: size name to [vCPUs, MiB]. */
const BURSTABLE: Readonly<Record<string, Readonly<Record<string, [number, number]>>>> = {
  t2: { ...T3_SIZES, nano: [1, 512], micro: [1, 1024], small: [1, 2048] },
  t3: T3_SIZES,
  t3a: T3_SIZES,
  t4g: T3_SIZES,
};

/** Fixed-ratio families (general purpose, compute, memory): MiB of memory per vCPU. */
const MIB_PER_VCPU: Readonly<Record<string, number>> = Object.fromEntries([
  ...["m5", "m5a", "m5d", "m6i", "m6a", "m6g", "m7i", "m7a", "m7g", "m8g"].map((f) => [f, 4096]),
  ...["c5", "c5a", "c5d", "c6i", "c6a", "c6g", "c7i", "c7a", "c7g", "c8g"].map((f) => [f, 2048]),
  ...["r5", "r5a", "r5d", "r6i", "r6a", "r6g", "r7i", "r7a", "r7g", "r8g"].map((f) => [f, 8192]),
]);

/**
 * Looks up the size of an instance type in the table.
 *
 * @param type Instance type, e.g. `t3.micro` or `m6i.2xlarge`.
 * @returns vCPUs and memory, or `undefined` for a type the table does not know.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { instanceTypeSize } from "./instance_types.ts";
 * assert.deepEqual(instanceTypeSize("m5.2xlarge"), { vcpus: 8, memoryMiB: 32768 });
 * assert.deepEqual(instanceTypeSize("t3.micro"), { vcpus: 2, memoryMiB: 1024 });
 * assert.equal(instanceTypeSize("x9.mega"), undefined);
 * ```
 */
export function instanceTypeSize(type: string): Size | undefined {
  const [family = "", size = ""] = type.split(".");
  const burstable = BURSTABLE[family]?.[size];
  if (burstable) return { vcpus: burstable[0], memoryMiB: burstable[1] };
  const ratio = MIB_PER_VCPU[family];
  if (ratio === undefined) return undefined;
  const match = /^(\d*)xlarge$/.exec(size);
  const vcpus = size === "large"
    ? 2
    : size === "medium"
    ? 1
    : match
    ? 4 * Number(match[1] || 1)
    : 0;
  if (vcpus === 0) return undefined;
  return { vcpus, memoryMiB: vcpus * ratio };
}
