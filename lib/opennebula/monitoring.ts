/**
 * The monitoring string a poll prints: blank-separated `KEY=VALUE` pairs on one line, values
 * percent-encoded so that none contains a blank.
 *
 * @module
 */

import type { MonitoringKeys } from "../core/config.ts";
import { encodeValue } from "../util/output.ts";
import type { Instance, InstanceState } from "../core/provider.ts";
import type { VmUsage } from "../core/usage.ts";

/**
 * How each instance state reads to OpenNebula (`STATE=` of a poll):
 * - `pending`, `running`: `a`, the VM is active (booting counts as active, as for a local hypervisor);
 * - `stopping`, `stopped`: `p`, the instance and its disks still exist and can start again;
 *   `d` would make OpenNebula 3.2 drop the VM;
 * - `terminating`, `terminated`: `d`, the instance is gone for good;
 * - `unknown`: `-`, so OpenNebula changes nothing.
 */
const POLL_STATE: Readonly<Record<InstanceState, "a" | "p" | "d" | "-">> = {
  pending: "a",
  running: "a",
  stopping: "p",
  stopped: "p",
  terminating: "d",
  terminated: "d",
  unknown: "-",
};

/**
 * Formats an instance as OpenNebula's poll reply: `STATE`, the memory given to the VM (under
 * `USEDMEMORY` for OpenNebula 3.2–4.12 or `MEMORY` for 4.14+; a 3.2 `MEMORY` key would
 * overwrite the VM template's own attribute, so the generation matters), its usage when read
 * (see {@link usagePairs}), then the provider's facts under its prefix.
 *
 * @param instance The instance.
 * @param prefix Fact prefix, e.g. `AWS`.
 * @param keys Which generation's usage keys to use.
 * @param usage The VM's usage figures, when the host reads them.
 * @returns The monitoring string.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatMonitoring } from "./monitoring.ts";
 * const line = formatMonitoring(
 *   { id: "i-0abc", state: "running", nativeState: "running", memoryKiB: 1048576, facts: { KEY_NAME: "my key" } },
 *   "AWS",
 *   "current",
 * );
 * assert.equal(line, "STATE=a MEMORY=1048576 AWS_KEY_NAME=my%20key");
 * ```
 */
export function formatMonitoring(
  instance: Instance,
  prefix: string,
  keys: MonitoringKeys,
  usage?: VmUsage,
): string {
  const state = POLL_STATE[instance.state];
  const pairs = [`STATE=${state}`];
  if (instance.memoryKiB !== undefined && state === "a") {
    pairs.push(`${keys === "legacy" ? "USEDMEMORY" : "MEMORY"}=${instance.memoryKiB}`);
  }
  if (usage !== undefined && state === "a") pairs.push(...usagePairs(usage, keys));
  for (const [key, value] of Object.entries(instance.facts)) {
    pairs.push(`${prefix}_${key}=${encodeValue(value)}`);
  }
  return pairs.join(" ");
}

/**
 * A VM's usage in the poll reply, as each generation of oned parses it: CPU as a percentage of
 * one CPU (100 per busy vCPU) under `USEDCPU` for 3.2–4.12, which read it into an integer, or
 * `CPU` for 4.14+, which keeps decimals (two, as OpenNebula's own EC2 driver printed); then the
 * cumulative bytes `NETTX` and `NETRX`, as integers.
 *
 * @param usage The VM's figures.
 * @param keys Which generation's keys.
 * @returns The pairs.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usagePairs } from "./monitoring.ts";
 * const usage = { cpu: 37.456, netrx: 1200, nettx: 3400 };
 * assert.deepEqual(usagePairs(usage, "current"), ["CPU=37.46", "NETTX=3400", "NETRX=1200"]);
 * assert.deepEqual(usagePairs(usage, "legacy"), ["USEDCPU=37", "NETTX=3400", "NETRX=1200"]);
 * assert.deepEqual(usagePairs({ netrx: 0, nettx: 0 }, "current"), ["NETTX=0", "NETRX=0"]);
 * ```
 */
export function usagePairs(usage: VmUsage, keys: MonitoringKeys): string[] {
  const pairs: string[] = [];
  if (usage.cpu !== undefined) {
    pairs.push(
      keys === "legacy"
        ? `USEDCPU=${Math.round(usage.cpu)}`
        : `CPU=${Math.round(usage.cpu * 100) / 100}`,
    );
  }
  pairs.push(`NETTX=${Math.round(usage.nettx)}`, `NETRX=${Math.round(usage.netrx)}`);
  return pairs;
}
