/**
 * A partner user's VM quota, as `one.user.info` answers it, in the driver's neutral words.
 *
 * OpenNebula (4.8+) keeps the user's limits in `VM_QUOTA/VM` (`VMS`, `CPU`, `MEMORY` in MB, and
 * from 5.6.1 `RUNNING_VMS`, `RUNNING_CPU`, `RUNNING_MEMORY`), each beside its `*_USED` counter;
 * a metric the partner does not have is read as unlimited. `CPU` is what oned charges: each
 * VM's template `CPU` (a share of CPUs: 0.5 is half of one), never its `VCPU`
 * (QuotaVirtualMachine.cc); the `vcpus` totals below are in those units, and the provider's
 * listing says what each VM is charged (`Instance.charged`).
 * A limit of `-1`, or a quota never set, means the default quota (the document's
 * `DEFAULT_USER_QUOTAS/VM_QUOTA/VM`, set with `oneuser defaultquota`); `-2`, or a default that
 * is not set either, means unlimited (`Quota::check_quota`).
 *
 * @module
 */

import type { AccountQuota, QuotaFigure } from "../../core/provider.ts";
import { child, childText, type XmlElement } from "../../util/xml.ts";

/** `Quota::DEFAULT`: take the default quota's limit. */
const DEFAULT = -1;

/**
 * The quota metrics of each neutral total, and whether each counts running VMs only. `vcpus`
 * holds OpenNebula's CPU, not its VCPU.
 */
const METRICS = {
  instances: [["VMS", false], ["RUNNING_VMS", true]],
  vcpus: [["CPU", false], ["RUNNING_CPU", true]],
  memoryGiB: [["MEMORY", false], ["RUNNING_MEMORY", true]],
} as const;

/** MB to GiB. */
const PER_GIB = 1024;

/** A number of an element, when present and numeric (negative allowed). */
function numberOf(element: XmlElement | undefined, name: string): number | undefined {
  const text = element === undefined ? undefined : childText(element, name)?.trim();
  return text !== undefined && /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
}

/**
 * Reads the VM quota of a `<USER>` document.
 *
 * @param user The `<USER>` element of `one.user.info`.
 * @returns Each total's limits (unlimited metrics left out), memory in GiB.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseXml } from "../../util/xml.ts";
 * import { readVmQuota } from "./quota.ts";
 * const user = parseXml(
 *   "<USER><VM_QUOTA><VM><VMS>-1</VMS><VMS_USED>2</VMS_USED><CPU>-2</CPU><CPU_USED>2</CPU_USED>" +
 *     "<MEMORY>4096</MEMORY><MEMORY_USED>1024</MEMORY_USED></VM></VM_QUOTA>" +
 *     "<DEFAULT_USER_QUOTAS><VM_QUOTA><VM><VMS>10</VMS></VM></VM_QUOTA></DEFAULT_USER_QUOTAS></USER>",
 * );
 * assert.deepEqual(readVmQuota(user), {
 *   instances: [{ limit: 10, used: 2, runningOnly: false }],
 *   vcpus: [],
 *   memoryGiB: [{ limit: 4, used: 1, runningOnly: false }],
 * });
 * ```
 */
export function readVmQuota(user: XmlElement): AccountQuota {
  const path = (from: XmlElement | undefined, ...names: string[]) =>
    names.reduce((at, name) => at === undefined ? undefined : child(at, name), from);
  const own = path(user, "VM_QUOTA", "VM");
  const defaults = path(user, "DEFAULT_USER_QUOTAS", "VM_QUOTA", "VM");
  const figures = (total: keyof typeof METRICS): QuotaFigure[] =>
    METRICS[total].flatMap(([metric, runningOnly]) => {
      let limit = numberOf(own, metric) ?? DEFAULT;
      if (limit === DEFAULT) limit = numberOf(defaults, metric) ?? -2;
      // -2 is unlimited; any other negative number is not a limit OpenNebula applies.
      if (limit < 0) return [];
      const used = Math.max(0, numberOf(own, `${metric}_USED`) ?? 0);
      const factor = total === "memoryGiB" ? PER_GIB : 1;
      return [{ limit: limit / factor, used: used / factor, runningOnly }];
    });
  return {
    vcpus: figures("vcpus"),
    memoryGiB: figures("memoryGiB"),
    instances: figures("instances"),
  };
}
