/**
 * The XML of instances and state changes, with the element names of the 2016-11-15 API
 * (`instanceState`, `dnsName`, `ipAddress`, `reason`, `groupSet`, `tagSet`, ...).
 *
 * @module
 */

import { type InstanceStateName, STATE_CODES } from "./lifecycle.ts";
import type { InstanceRecord } from "./instance.ts";
import type { RegionState } from "./region_state.ts";
import { el, frag, list, opt, type Xml } from "./xml.ts";

/**
 * `<name><code>..</code><name>..</name></name>` of a state.
 *
 * @param element The element name (`instanceState`, `currentState`, ...).
 * @param state The state.
 * @returns The element.
 */
export function stateElement(element: string, state: InstanceStateName): Xml {
  return el(element, el("code", STATE_CODES[state]), el("name", state));
}

/**
 * `tagSet` of a tag map (nothing when empty, as EC2 leaves it out).
 *
 * @param tags The tags.
 * @returns The element.
 */
export function tagSet(tags: ReadonlyMap<string, string>): Xml {
  if (tags.size === 0) return frag();
  return list("tagSet", [...tags].map(([key, value]) => frag(el("key", key), el("value", value))));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * One instance's description, as in DescribeInstances and RunInstances.
 *
 * A terminated instance has no addresses, DNS names, subnet, interfaces or volumes any more;
 * a public address shows only while the instance has one: from the pool while running, an
 * associated Elastic IP address in any state.
 *
 * @param region The instance's region.
 * @param i The instance.
 * @param accountId The owner account.
 * @returns The `item` content.
 */
export function instanceXml(region: RegionState, i: InstanceRecord, accountId: string): Xml {
  const gone = i.state === "terminated";
  const publicIp = gone ? undefined : region.publicIpOf(i);
  const groups = gone ? [] : i.securityGroups;
  const groupItems = groups.map((g) =>
    frag(el("groupId", g.groupId), el("groupName", g.groupName))
  );
  return frag(
    el("instanceId", i.id),
    el("imageId", i.imageId),
    stateElement("instanceState", i.state),
    el("privateDnsName", gone ? "" : region.privateDnsName(i.privateIp)),
    el("dnsName", publicIp ? region.publicDnsName(publicIp) : ""),
    el("reason", i.stateTransitionReason),
    opt("keyName", i.keyName),
    el("amiLaunchIndex", i.launchIndex),
    el("productCodes"),
    el("instanceType", i.instanceType),
    el("launchTime", iso(i.launchTime)),
    el(
      "placement",
      el("availabilityZone", i.availabilityZone),
      el("groupName", i.placementGroup),
      el("tenancy", i.tenancy),
    ),
    el("monitoring", el("state", i.monitoring ? "enabled" : "disabled")),
    gone ? frag() : frag(
      el("subnetId", i.subnet.subnetId),
      el("vpcId", i.subnet.vpcId),
      el("privateIpAddress", i.privateIp),
    ),
    opt("ipAddress", publicIp),
    gone ? frag() : el("sourceDestCheck", true),
    list("groupSet", groupItems),
    i.stateReason
      ? el("stateReason", el("code", i.stateReason.code), el("message", i.stateReason.message))
      : frag(),
    el("architecture", i.architecture),
    el("rootDeviceType", "ebs"),
    el("rootDeviceName", i.rootDeviceName),
    list(
      "blockDeviceMapping",
      gone ? [] : i.blockDevices.map((d) =>
        frag(
          el("deviceName", d.deviceName),
          el(
            "ebs",
            el("volumeId", d.volumeId),
            el("status", "attached"),
            el("attachTime", iso(i.launchTime)),
            el("deleteOnTermination", d.deleteOnTermination),
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
    // EC2 reports "xen" for Xen and Nitro instances alike.
    el("hypervisor", "xen"),
    list("networkInterfaceSet", gone ? [] : [networkInterfaceXml(region, i, accountId)]),
    i.iamInstanceProfile
      ? el(
        "iamInstanceProfile",
        el("arn", i.iamInstanceProfile.arn),
        el("id", i.iamInstanceProfile.id),
      )
      : frag(),
    el("ebsOptimized", i.ebsOptimized),
    el("enaSupport", i.hypervisor === "nitro"),
    el("hibernationOptions", el("configured", i.hibernationConfigured)),
    el("enclaveOptions", el("enabled", false)),
    el(
      "metadataOptions",
      el("state", "applied"),
      el("httpTokens", i.metadataOptions.httpTokens),
      el("httpPutResponseHopLimit", i.metadataOptions.httpPutResponseHopLimit),
      el("httpEndpoint", i.metadataOptions.httpEndpoint),
      el("httpProtocolIpv6", i.metadataOptions.httpProtocolIpv6),
      el("instanceMetadataTags", i.metadataOptions.instanceMetadataTags),
    ),
    el("platformDetails", i.platformDetails),
    el("usageOperation", "RunInstances"),
    el("usageOperationUpdateTime", iso(i.launchTime)),
  );
}

function networkInterfaceXml(region: RegionState, i: InstanceRecord, accountId: string): Xml {
  const elastic = region.elasticIpOf(i.id);
  const publicIp = region.publicIpOf(i);
  const association = publicIp
    ? el(
      "association",
      el("publicIp", publicIp),
      el("publicDnsName", region.publicDnsName(publicIp)),
      el("ipOwnerId", elastic ? accountId : "amazon"),
    )
    : frag();
  return frag(
    el("networkInterfaceId", i.networkInterfaceId),
    el("subnetId", i.subnet.subnetId),
    el("vpcId", i.subnet.vpcId),
    el("description"),
    el("ownerId", accountId),
    el("status", "in-use"),
    el("macAddress", i.macAddress),
    el("privateIpAddress", i.privateIp),
    el("privateDnsName", region.privateDnsName(i.privateIp)),
    el("sourceDestCheck", true),
    list(
      "groupSet",
      i.securityGroups.map((g) => frag(el("groupId", g.groupId), el("groupName", g.groupName))),
    ),
    el(
      "attachment",
      el("attachmentId", i.attachmentId),
      el("deviceIndex", 0),
      el("status", "attached"),
      el("attachTime", iso(i.launchTime)),
      el("deleteOnTermination", true),
      el("networkCardIndex", 0),
    ),
    association,
    list("privateIpAddressesSet", [
      frag(
        el("privateIpAddress", i.privateIp),
        el("privateDnsName", region.privateDnsName(i.privateIp)),
        el("primary", true),
        association,
      ),
    ]),
    el("interfaceType", "interface"),
  );
}

/**
 * A reservation's `item` in DescribeInstances (or the body of RunInstances).
 *
 * @param region The instances' region.
 * @param reservationId The `r-` id.
 * @param accountId Owner.
 * @param instances The instances, each described by {@link instanceXml}.
 * @returns The reservation elements.
 */
export function reservationXml(
  region: RegionState,
  reservationId: string,
  accountId: string,
  instances: readonly InstanceRecord[],
): Xml {
  return frag(
    el("reservationId", reservationId),
    el("ownerId", accountId),
    el("groupSet"),
    list("instancesSet", instances.map((i) => instanceXml(region, i, accountId))),
  );
}

/**
 * An `InstanceStateChange` item.
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
