/**
 * AssociateAddress and DisassociateAddress.
 *
 * Associate: the address (`AllocationId`, or the deprecated `PublicIp`) goes to the primary
 * interface of an instance (`InstanceId`, or its `NetworkInterfaceId`, not both) that is not
 * pending, shutting down or terminated (`IncorrectInstanceState`). An address associated
 * elsewhere moves, unless `AllowReassociation` is false (`Resource.AlreadyAssociated`); an
 * address the instance had is disassociated but stays allocated; the instance's public address
 * from Amazon's pool is released. Repeating an association is no error.
 *
 * Disassociate: by `AssociationId` (or the deprecated `PublicIp`); idempotent. A running
 * instance left without a public address gets a new one from the pool if its subnet gives them.
 *
 * @module
 */

import type { ActionContext } from "../context.ts";
import { Ec2Error, errors } from "../errors.ts";
import { isWellFormed } from "../ids.ts";
import type { InstanceRecord } from "../instance.ts";
import { boolParam, type Params } from "../query.ts";
import type { RegionState } from "../region_state.ts";
import { el, type Xml } from "../xml.ts";
import { addressByAllocation, addressByIp } from "./address_ids.ts";

/**
 * Handles AssociateAddress.
 *
 * @param context The request.
 * @returns `associationId`.
 */
export function associateAddress(context: ActionContext): Xml {
  const { params: p, region, now } = context;
  const allocationId = p["AllocationId"];
  const publicIp = p["PublicIp"];
  if (allocationId === undefined && publicIp === undefined) {
    throw errors.missingParameter("AllocationId");
  }
  const allowReassociation = boolParam(p, "AllowReassociation") ?? true;
  const instance = targetInstance(region, p, now);
  const address = allocationId !== undefined
    ? addressByAllocation(region, allocationId)
    : addressByIp(region, publicIp!);
  if (
    instance.state === "pending" || instance.state === "shutting-down" ||
    instance.state === "terminated"
  ) {
    throw new Ec2Error(
      "IncorrectInstanceState",
      `The ${instance.state} instance to which '${instance.networkInterfaceId}' is attached is not in a valid state for this operation`,
    );
  }
  const privateIp = p["PrivateIpAddress"] ?? instance.privateIp;
  if (privateIp !== instance.privateIp) {
    throw errors.invalidValue(
      "PrivateIpAddress",
      privateIp,
      `It is not a private address of ${instance.networkInterfaceId}.`,
    );
  }
  const current = address.association;
  if (current && current.instanceId !== instance.id && !allowReassociation) {
    throw new Ec2Error(
      "Resource.AlreadyAssociated",
      `resource ${address.allocationId} is already associated with associate-id ${current.associationId}`,
    );
  }
  return el("associationId", region.associate(address, instance, privateIp));
}

/**
 * Handles DisassociateAddress.
 *
 * @param context The request.
 * @returns `return` true.
 */
export function disassociateAddress(context: ActionContext): Xml {
  const { params: p, region } = context;
  const associationId = p["AssociationId"];
  const publicIp = p["PublicIp"];
  if (associationId === undefined && publicIp === undefined) {
    throw errors.missingParameter("AssociationId");
  }
  if (associationId === undefined) {
    region.disassociate(addressByIp(region, publicIp!));
    return el("return", true);
  }
  const address = [...region.addresses.values()].find((a) =>
    a.association?.associationId === associationId
  );
  if (address) {
    region.disassociate(address);
  } else if (!region.pastAssociations.has(associationId)) {
    throw new Ec2Error(
      "InvalidAssociationID.NotFound",
      `The association ID '${associationId}' does not exist`,
    );
  }
  return el("return", true);
}

function targetInstance(region: RegionState, p: Params, now: number): InstanceRecord {
  const instanceId = p["InstanceId"];
  const interfaceId = p["NetworkInterfaceId"];
  if (instanceId !== undefined && interfaceId !== undefined) {
    throw new Ec2Error(
      "InvalidParameterCombination",
      "You can specify either the instance ID or the network interface ID, but not both.",
    );
  }
  if (instanceId !== undefined) {
    if (!isWellFormed(instanceId, "i")) {
      throw errors.malformed("InvalidInstanceID.Malformed", instanceId, "i");
    }
    return region.requireVisible([instanceId], now)[0]!;
  }
  if (interfaceId === undefined) throw errors.missingParameter("InstanceId");
  if (!isWellFormed(interfaceId, "eni")) {
    throw errors.malformed("InvalidNetworkInterfaceId.Malformed", interfaceId, "eni");
  }
  const instance = region.visibleInstances(now).find((i) =>
    i.networkInterfaceId === interfaceId && i.state !== "terminated"
  );
  if (!instance) {
    throw new Ec2Error(
      "InvalidNetworkInterfaceID.NotFound",
      `The networkInterface ID '${interfaceId}' does not exist`,
    );
  }
  return instance;
}
