/**
 * The XML of instances, reservations, state changes, images and addresses, with the element
 * names of the 2016-11-15 API (`instanceState`, `dnsName`, `ipAddress`, `groupSet`, `tagSet`, ...).
 *
 * @module
 */

import { ACCOUNT_ID } from "./fixtures.ts";
import {
  type AddressRecord,
  type ImageRecord,
  type InstanceRecord,
  type InstanceStateName,
  type RegionState,
  STATE_CODES,
} from "./state.ts";
import { el, frag, list, opt, type Xml } from "./xml.ts";

/** `<element><code>..</code><name>..</name></element>` of a state. */
function stateElement(element: string, state: InstanceStateName): Xml {
  return el(element, el("code", STATE_CODES[state]), el("name", state));
}

/** `tagSet` of a tag map (nothing when empty, as EC2 leaves it out). */
function tagSet(tags: ReadonlyMap<string, string>): Xml {
  return tags.size === 0
    ? frag()
    : list("tagSet", [...tags].map(([key, value]) => frag(el("key", key), el("value", value))));
}

function dnsName(region: RegionState, kind: "ip" | "ec2", address: string): string {
  const host = `${kind}-${address.replaceAll(".", "-")}`;
  if (kind === "ip") {
    return region.region === "us-east-1"
      ? `${host}.ec2.internal`
      : `${host}.${region.region}.compute.internal`;
  }
  return region.region === "us-east-1"
    ? `${host}.compute-1.amazonaws.com`
    : `${host}.${region.region}.compute.amazonaws.com`;
}

/**
 * One instance's description, as in DescribeInstances and RunInstances. A terminated instance
 * has no addresses, DNS names, subnet, groups or volumes any more.
 *
 * @param region The instance's region.
 * @param i The instance.
 * @returns The `item` content.
 */
export function instanceXml(region: RegionState, i: InstanceRecord): Xml {
  const gone = i.state === "terminated";
  const publicIp = region.publicIpOf(i);
  const launchTime = new Date(i.launchTime).toISOString();
  return frag(
    el("instanceId", i.id),
    el("imageId", i.imageId),
    stateElement("instanceState", i.state),
    el("privateDnsName", gone ? "" : dnsName(region, "ip", i.privateIp)),
    el("dnsName", publicIp ? dnsName(region, "ec2", publicIp) : ""),
    el("reason", i.transitionReason),
    opt("keyName", i.keyName),
    el("instanceType", i.instanceType),
    el("launchTime", launchTime),
    el("placement", el("availabilityZone", region.zoneOf(i.subnet)), el("tenancy", "default")),
    gone ? frag() : frag(
      el("subnetId", i.subnet.subnetId),
      el("vpcId", i.subnet.vpcId),
      el("privateIpAddress", i.privateIp),
    ),
    opt("ipAddress", publicIp),
    list(
      "groupSet",
      (gone ? [] : i.securityGroups).map((g) =>
        frag(el("groupId", g.groupId), el("groupName", g.groupName))
      ),
    ),
    i.stateReason
      ? el("stateReason", el("code", i.stateReason.code), el("message", i.stateReason.message))
      : frag(),
    el("architecture", i.architecture),
    el("rootDeviceType", "ebs"),
    el("rootDeviceName", i.rootDeviceName),
    list(
      "blockDeviceMapping",
      (gone ? [] : i.volumes).map((v) =>
        frag(
          el("deviceName", v.deviceName),
          el(
            "ebs",
            el("volumeId", v.volumeId),
            el("status", "attached"),
            el("attachTime", launchTime),
            el("deleteOnTermination", v.deleteOnTermination),
          ),
        )
      ),
    ),
    i.spot
      ? frag(el("instanceLifecycle", "spot"), el("spotInstanceRequestId", i.spot.requestId))
      : frag(),
    el("virtualizationType", "hvm"),
    opt("clientToken", i.clientToken),
    tagSet(i.tags),
    i.iamInstanceProfileArn ? el("iamInstanceProfile", el("arn", i.iamInstanceProfileArn)) : frag(),
    el("metadataOptions", el("state", "applied"), el("httpTokens", i.httpTokens)),
  );
}

/**
 * A reservation: the body of RunInstances, or an item of DescribeInstances' `reservationSet`.
 *
 * @param region The instances' region.
 * @param instances The instances, all of one launch.
 * @returns The reservation elements.
 */
export function reservationXml(region: RegionState, instances: readonly InstanceRecord[]): Xml {
  return frag(
    el("reservationId", instances[0]?.reservationId),
    el("ownerId", ACCOUNT_ID),
    el("groupSet"),
    list("instancesSet", instances.map((i) => instanceXml(region, i))),
  );
}

/**
 * An `InstanceStateChange` item: the current state, then the previous one.
 *
 * @param id The instance id.
 * @param previous State before the call.
 * @param current State after the call.
 * @returns The `item` content.
 */
export function stateChangeXml(
  id: string,
  previous: InstanceStateName,
  current: InstanceStateName,
): Xml {
  return frag(
    el("instanceId", id),
    stateElement("currentState", current),
    stateElement("previousState", previous),
  );
}

/**
 * An item of DescribeImages' `imagesSet`.
 *
 * @param i The image.
 * @returns The `item` content.
 */
export function imageXml(i: ImageRecord): Xml {
  return frag(
    el("imageId", i.imageId),
    el("imageState", i.state),
    el("imageOwnerId", i.ownerId),
    el("isPublic", i.ownerId !== ACCOUNT_ID),
    el("architecture", i.architecture),
    el("imageType", "machine"),
    el("name", i.name),
    opt("description", i.description),
    el("rootDeviceType", "ebs"),
    el("rootDeviceName", i.rootDeviceName),
    list(
      "blockDeviceMapping",
      i.volumes.map((v) =>
        frag(
          el("deviceName", v.deviceName),
          el(
            "ebs",
            opt("snapshotId", v.snapshotId),
            el("volumeSize", v.sizeGiB),
            el("deleteOnTermination", v.deleteOnTermination),
            el("volumeType", v.volumeType),
          ),
        )
      ),
    ),
    el("virtualizationType", "hvm"),
    tagSet(i.tags),
    i.imdsV2 ? el("imdsSupport", "v2.0") : frag(),
    opt("sourceInstanceId", i.sourceInstanceId),
  );
}

/**
 * An item of DescribeAddresses' `addressesSet`.
 *
 * @param a The address.
 * @returns The `item` content.
 */
export function addressXml(a: AddressRecord): Xml {
  return frag(
    el("publicIp", a.publicIp),
    el("allocationId", a.allocationId),
    el("domain", "vpc"),
    a.association
      ? frag(
        el("instanceId", a.association.instanceId),
        el("associationId", a.association.associationId),
      )
      : frag(),
  );
}
