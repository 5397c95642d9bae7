/**
 * DescribeAddresses: the account's Elastic IP addresses in the region, narrowed by
 * `PublicIp.N`, `AllocationId.N` (each must exist) and filters. Not paginated, as in EC2.
 *
 * @module
 */

import type { AddressRecord } from "../addresses.ts";
import type { ActionContext } from "../context.ts";
import { applyFilters, type FilterSpec } from "../filters.ts";
import { filtersOf, stringList } from "../query.ts";
import type { RegionState } from "../region_state.ts";
import { tagSet } from "../render.ts";
import { el, frag, list, type Xml } from "../xml.ts";
import { addressByAllocation, addressByIp } from "./address_ids.ts";

function addressFilters(accountId: string, region: string): FilterSpec<AddressRecord> {
  return {
    tags: (a) => a.tags,
    fields: {
      "allocation-id": (a) => a.allocationId,
      "association-id": (a) => a.association?.associationId,
      "domain": () => "vpc",
      "instance-id": (a) => a.association?.instanceId,
      "network-border-group": () => region,
      "network-interface-id": (a) => a.association?.networkInterfaceId,
      "network-interface-owner-id": (a) => a.association ? accountId : undefined,
      "private-ip-address": (a) => a.association?.privateIp,
      "public-ip": (a) => a.publicIp,
    },
  };
}

/**
 * Handles DescribeAddresses.
 *
 * @param context The request.
 * @returns `addressesSet`.
 */
export function describeAddresses(context: ActionContext): Xml {
  const { params: p, region, options } = context;
  const publicIps = stringList(p, "PublicIp");
  const allocationIds = stringList(p, "AllocationId");
  const named = new Set([
    ...publicIps.map((ip) => addressByIp(region, ip)),
    ...allocationIds.map((id) => addressByAllocation(region, id)),
  ]);
  const candidates = [...region.addresses.values()].filter((a) => named.size === 0 || named.has(a));
  const matching = applyFilters(
    candidates,
    filtersOf(p),
    addressFilters(options.accountId, region.region),
  );
  return list("addressesSet", matching.map((a) => addressXml(region, a, options.accountId)));
}

function addressXml(region: RegionState, a: AddressRecord, accountId: string): Xml {
  const association = a.association;
  return frag(
    el("publicIp", a.publicIp),
    el("allocationId", a.allocationId),
    el("domain", "vpc"),
    association
      ? frag(
        el("instanceId", association.instanceId),
        el("associationId", association.associationId),
        el("networkInterfaceId", association.networkInterfaceId),
        el("networkInterfaceOwnerId", accountId),
        el("privateIpAddress", association.privateIp),
      )
      : frag(),
    tagSet(a.tags),
    el("publicIpv4Pool", "amazon"),
    el("networkBorderGroup", region.region),
  );
}
