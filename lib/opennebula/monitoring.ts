/**
 * The monitoring string a poll prints: blank-separated `KEY=VALUE` pairs on one line, values
 * percent-encoded so that none contains a blank.
 *
 * @module
 */

import type { MonitoringKeys } from "../core/config.ts";
import { encodeValue } from "../util/output.ts";
import type { Instance, InstanceState } from "../core/provider.ts";

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
 * overwrite the VM template's own attribute, so the generation matters), then the provider's
 * facts under its prefix.
 *
 * @param instance The instance.
 * @param prefix Fact prefix, e.g. `AWS`.
 * @param keys Which generation's usage keys to use.
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
export function formatMonitoring(instance: Instance, prefix: string, keys: MonitoringKeys): string {
  const state = POLL_STATE[instance.state];
  const pairs = [`STATE=${state}`];
  if (instance.memoryKiB !== undefined && state === "a") {
    pairs.push(`${keys === "legacy" ? "USEDMEMORY" : "MEMORY"}=${instance.memoryKiB}`);
  }
  for (const [key, value] of Object.entries(instance.facts)) {
    pairs.push(`${prefix}_${key}=${encodeValue(value)}`);
  }
  return pairs.join(" ");
}
