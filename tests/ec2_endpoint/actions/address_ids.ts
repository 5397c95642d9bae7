/**
 * Finding Elastic IP addresses by allocation id or public address, with the errors EC2 gives
 * for each (EC2 documents no `.Malformed` code for allocation and association ids: a
 * malformed one is simply not found).
 *
 * @module
 */

import type { AddressRecord } from "../addresses.ts";
import { Ec2Error, errors } from "../errors.ts";
import { parseIpv4 } from "../net.ts";
import type { RegionState } from "../region_state.ts";

/**
 * An address by allocation id.
 *
 * @param region The region.
 * @param allocationId The `eipalloc-` id.
 * @returns The address.
 * @throws {Ec2Error} `InvalidAllocationID.NotFound`.
 */
export function addressByAllocation(region: RegionState, allocationId: string): AddressRecord {
  const address = region.addresses.get(allocationId);
  if (!address) throw allocationNotFound(allocationId);
  return address;
}

/**
 * An address by its public IPv4 address.
 *
 * @param region The region.
 * @param publicIp The address.
 * @returns The address.
 * @throws {Ec2Error} `InvalidAddress.Malformed` or `InvalidAddress.NotFound`.
 */
export function addressByIp(region: RegionState, publicIp: string): AddressRecord {
  if (parseIpv4(publicIp) === undefined) {
    throw errors.addressMalformed(publicIp);
  }
  const address = region.addressByIp(publicIp);
  if (!address) throw errors.addressNotFound(publicIp);
  return address;
}

/**
 * The error for an allocation id the account does not have.
 *
 * @param allocationId The id.
 * @returns `InvalidAllocationID.NotFound`.
 */
export function allocationNotFound(allocationId: string): Ec2Error {
  return new Ec2Error(
    "InvalidAllocationID.NotFound",
    `The allocation ID '${allocationId}' does not exist`,
  );
}
