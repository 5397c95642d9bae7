/**
 * DescribeInstanceTypes: the types offered in the region, by `InstanceType.N` (every name
 * must exist) and filters, paginated with `MaxResults` of 5-100.
 *
 * @module
 */

import type { ActionContext } from "../context.ts";
import { Ec2Error } from "../errors.ts";
import type { InstanceTypeFixture } from "../fixtures.ts";
import { applyFilters, type FilterSpec } from "../filters.ts";
import { paginate, readPageRequest } from "../pagination.ts";
import { filtersOf, stringList } from "../query.ts";
import { el, frag, list, opt, type Xml } from "../xml.ts";

const SPEC: FilterSpec<InstanceTypeFixture> = {
  fields: {
    "instance-type": (t) => t.instanceType,
    "current-generation": (t) => String(t.currentGeneration),
    "free-tier-eligible": (t) => String(t.freeTierEligible),
    "burstable-performance-supported": (t) => String(t.burstable),
    "hypervisor": (t) => t.hypervisor,
    "vcpu-info.default-vcpus": (t) => String(t.vCpus),
    "memory-info.size-in-mib": (t) => String(t.memoryMiB),
    "processor-info.supported-architecture": (t) => t.architectures,
  },
};

/**
 * Handles DescribeInstanceTypes.
 *
 * @param context The request.
 * @returns `instanceTypeSet` and `nextToken`.
 */
export function describeInstanceTypes(context: ActionContext): Xml {
  const { params: p, region } = context;
  const all = region.fixtures.instanceTypes;
  const names = stringList(p, "InstanceType");
  const missing = names.filter((n) => !all.some((t) => t.instanceType === n));
  if (missing.length > 0) {
    throw new Ec2Error(
      "InvalidInstanceType",
      `The following supplied instance types do not exist: [${missing.join(", ")}]`,
    );
  }
  const order = new Map(all.map((t, index) => [t.instanceType, index + 1]));
  const chosen = names.length > 0 ? all.filter((t) => names.includes(t.instanceType)) : all;
  const filters = filtersOf(p);
  const scope = JSON.stringify(["DescribeInstanceTypes", region.region, filters, names]);
  const request = readPageRequest(p, { min: 5, max: 100 }, scope);
  const matching = applyFilters(chosen, filters, SPEC);
  const { items, nextToken } = paginate(
    matching,
    (t) => order.get(t.instanceType)!,
    request,
    scope,
  );
  return frag(list("instanceTypeSet", items.map(typeXml)), opt("nextToken", nextToken));
}

function typeXml(t: InstanceTypeFixture): Xml {
  const threads = t.vCpus === 1 || t.architectures.includes("arm64") ? 1 : 2;
  const cores = Math.max(1, t.vCpus / threads);
  return frag(
    el("instanceType", t.instanceType),
    el("currentGeneration", t.currentGeneration),
    el("freeTierEligible", t.freeTierEligible),
    list("supportedUsageClasses", [frag("on-demand"), frag("spot")]),
    list("supportedRootDeviceTypes", [frag("ebs")]),
    list("supportedVirtualizationTypes", [frag("hvm")]),
    el("bareMetal", false),
    el("hypervisor", t.hypervisor),
    el(
      "processorInfo",
      list("supportedArchitectures", t.architectures.map((a) => frag(a))),
      el("sustainedClockSpeedInGhz", t.hypervisor === "nitro" ? 3.1 : 2.5),
    ),
    el(
      "vCpuInfo",
      el("defaultVCpus", t.vCpus),
      el("defaultCores", cores),
      el("defaultThreadsPerCore", threads),
    ),
    el("memoryInfo", el("sizeInMiB", t.memoryMiB)),
    el("instanceStorageSupported", false),
    el(
      "ebsInfo",
      el("ebsOptimizedSupport", t.hypervisor === "nitro" ? "default" : "unsupported"),
      el("encryptionSupport", "supported"),
      el("nvmeSupport", t.hypervisor === "nitro" ? "required" : "unsupported"),
    ),
    el(
      "networkInfo",
      el("networkPerformance", t.burstable ? "Up to 5 Gigabit" : "Up to 10 Gigabit"),
      el("maximumNetworkInterfaces", t.vCpus <= 2 ? 3 : 4),
      el("ipv4AddressesPerInterface", t.vCpus <= 2 ? 10 : 15),
      el("ipv6Supported", t.hypervisor === "nitro"),
      el("enaSupport", t.hypervisor === "nitro" ? "required" : "unsupported"),
    ),
    el("placementGroupInfo", list("supportedStrategies", [frag("partition"), frag("spread")])),
    el("hibernationSupported", !t.burstable || t.hypervisor === "nitro"),
    el("burstablePerformanceSupported", t.burstable),
    el("dedicatedHostsSupported", !t.burstable),
    el("autoRecoverySupported", true),
    list("supportedBootModes", [frag("legacy-bios"), frag("uefi")]),
  );
}
