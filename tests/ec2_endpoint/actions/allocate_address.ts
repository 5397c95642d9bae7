/**
 * AllocateAddress and ReleaseAddress.
 *
 * Allocate: a new address from Amazon's pool (domain `vpc`), or a released one recovered
 * (`Address`), within the region's Elastic IP quota (`AddressLimitExceeded`); tags of type
 * `elastic-ip`.
 *
 * Release: by `AllocationId` (or the deprecated `PublicIp`); an address associated with an
 * instance of the default VPC is disassociated first, one of another VPC answers
 * `InvalidIPAddress.InUse`. A `NetworkBorderGroup` other than the region's is
 * `InvalidAddress.NotFound`, as documented.
 *
 * @module
 */

import type { ActionContext } from "../context.ts";
import { Ec2Error, errors } from "../errors.ts";
import { newId } from "../ids.ts";
import { parseIpv4 } from "../net.ts";
import { tagMap, tagSpecificationsOf } from "../tags.ts";
import { el, frag, type Xml } from "../xml.ts";
import { addressByAllocation, addressByIp } from "./address_ids.ts";

const TAGGABLE = new Set(["elastic-ip"]);

/**
 * Handles AllocateAddress.
 *
 * @param context The request.
 * @returns The address, its allocation id, pool, border group and domain.
 */
export function allocateAddress(context: ActionContext): Xml {
  const { params: p, region, options } = context;
  const domain = p["Domain"] ?? "vpc";
  if (domain !== "vpc") {
    throw errors.invalidValue("Domain", domain, "Only 'vpc' addresses can be allocated.");
  }
  const pool = p["PublicIpv4Pool"] ?? "amazon";
  if (pool !== "amazon") {
    throw errors.invalidValue("PublicIpv4Pool", pool, "This endpoint has Amazon's pool only.");
  }
  const borderGroup = p["NetworkBorderGroup"] ?? region.region;
  if (borderGroup !== region.region) {
    throw errors.invalidValue("NetworkBorderGroup", borderGroup);
  }
  const tags = tagSpecificationsOf(p, TAGGABLE);
  const recover = p["Address"];
  if (recover !== undefined) {
    if (parseIpv4(recover) === undefined) {
      throw errors.addressMalformed(recover);
    }
    if (!region.releasedAddresses.has(recover)) {
      throw errors.addressNotFound(recover);
    }
  }
  if (region.addresses.size >= options.elasticIpLimit) {
    throw new Ec2Error("AddressLimitExceeded", "The maximum number of addresses has been reached.");
  }
  const publicIp = recover ?? region.allocateElasticIp();
  region.releasedAddresses.delete(publicIp);
  const allocationId = newId("eipalloc");
  region.addresses.set(allocationId, {
    allocationId,
    publicIp,
    tags: tagMap(tags.get("elastic-ip")),
    association: undefined,
  });
  return frag(
    el("publicIp", publicIp),
    el("allocationId", allocationId),
    el("publicIpv4Pool", "amazon"),
    el("networkBorderGroup", region.region),
    el("domain", "vpc"),
  );
}

/**
 * Handles ReleaseAddress.
 *
 * @param context The request.
 * @returns `return` true.
 */
export function releaseAddress(context: ActionContext): Xml {
  const { params: p, region } = context;
  const allocationId = p["AllocationId"];
  const publicIp = p["PublicIp"];
  if (allocationId === undefined && publicIp === undefined) {
    throw errors.missingParameter("AllocationId");
  }
  const address = allocationId !== undefined
    ? addressByAllocation(region, allocationId)
    : addressByIp(region, publicIp!);
  const borderGroup = p["NetworkBorderGroup"];
  if (borderGroup !== undefined && borderGroup !== region.region) {
    throw new Ec2Error(
      "InvalidAddress.NotFound",
      `Address '${address.publicIp}' not found in network border group '${borderGroup}'.`,
    );
  }
  const association = address.association;
  if (association) {
    const instance = region.instances.get(association.instanceId);
    const inDefaultVpc = instance !== undefined && region.vpc(instance.subnet.vpcId)?.isDefault;
    if (!inDefaultVpc) {
      throw new Ec2Error(
        "InvalidIPAddress.InUse",
        `The address with allocation id [${address.allocationId}] is in use. Disassociate it first.`,
      );
    }
    region.disassociate(address);
  }
  region.addresses.delete(address.allocationId);
  region.releasedAddresses.add(address.publicIp);
  return el("return", true);
}
