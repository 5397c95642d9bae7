/**
 * DescribeInstances: by id (every id must exist and be visible) or all visible instances,
 * filtered, paginated by `MaxResults`/`NextToken` (not combinable with ids), and grouped in
 * reservations.
 *
 * @module
 */

import type { ActionContext } from "../context.ts";
import { Ec2Error } from "../errors.ts";
import { applyFilters, type FilterSpec } from "../filters.ts";
import { STATE_CODES } from "../lifecycle.ts";
import { paginate, readPageRequest } from "../pagination.ts";
import { filtersOf } from "../query.ts";
import type { InstanceRecord } from "../instance.ts";
import type { RegionState } from "../region_state.ts";
import { reservationXml } from "../render.ts";
import { frag, list, opt, type Xml } from "../xml.ts";
import { instanceIds } from "./instance_ids.ts";

function instanceFilters(region: RegionState): FilterSpec<InstanceRecord> {
  const live = (i: InstanceRecord) => i.state !== "terminated";
  return {
    tags: (i) => i.tags,
    fields: {
      "instance-id": (i) => i.id,
      "instance-state-name": (i) => i.state,
      "instance-state-code": (i) => String(STATE_CODES[i.state]),
      "client-token": (i) => i.clientToken,
      "image-id": (i) => i.imageId,
      "instance-type": (i) => i.instanceType,
      "subnet-id": (i) => live(i) ? i.subnet.subnetId : undefined,
      "vpc-id": (i) => live(i) ? i.subnet.vpcId : undefined,
      "availability-zone": (i) => i.availabilityZone,
      "key-name": (i) => i.keyName,
      "reservation-id": (i) => i.reservationId,
      "architecture": (i) => i.architecture,
      "ami-launch-index": (i) => String(i.launchIndex),
      "private-ip-address": (i) => live(i) ? i.privateIp : undefined,
      "ip-address": (i) => live(i) ? region.publicIpOf(i) : undefined,
      "private-dns-name": (i) => live(i) ? region.privateDnsName(i.privateIp) : undefined,
      "dns-name": (i) => {
        const publicIp = live(i) ? region.publicIpOf(i) : undefined;
        return publicIp && region.publicDnsName(publicIp);
      },
      "instance-lifecycle": (i) => i.spot ? "spot" : undefined,
      "spot-instance-request-id": (i) => i.spot?.requestId,
      "iam-instance-profile.arn": (i) => i.iamInstanceProfile?.arn,
      "metadata-options.http-tokens": (i) => i.metadataOptions.httpTokens,
      "hibernation-options.configured": (i) => String(i.hibernationConfigured),
      "block-device-mapping.device-name": (i) =>
        live(i) ? i.blockDevices.map((d) => d.deviceName) : undefined,
      "block-device-mapping.volume-id": (i) =>
        live(i) ? i.blockDevices.map((d) => d.volumeId) : undefined,
      "network-interface.association.public-ip": (i) => live(i) ? region.publicIpOf(i) : undefined,
      "network-interface.association.allocation-id": (i) => region.elasticIpOf(i.id)?.allocationId,
      "network-interface.association.association-id": (i) =>
        region.elasticIpOf(i.id)?.association?.associationId,
      "instance.group-id": (i) => i.securityGroups.map((g) => g.groupId),
      "instance.group-name": (i) => i.securityGroups.map((g) => g.groupName),
      "tenancy": (i) => i.tenancy,
      "placement-group-name": (i) => i.placementGroup,
      "state-reason-code": (i) => i.stateReason?.code,
    },
  };
}

/**
 * Handles DescribeInstances.
 *
 * @param context The request.
 * @returns `reservationSet` and `nextToken`.
 */
export function describeInstances(context: ActionContext): Xml {
  const { params: p, region, now, options } = context;
  const ids = instanceIds(p, false);
  if (ids.length > 0 && p["MaxResults"] !== undefined) {
    throw new Ec2Error(
      "InvalidParameterCombination",
      "The parameter instancesSet cannot be used with the parameter maxResults",
    );
  }
  const filters = filtersOf(p);
  const scope = JSON.stringify(["DescribeInstances", region.region, filters]);
  const page = readPageRequest(p, { min: 5, max: 1000 }, scope);
  const candidates = ids.length > 0
    ? region.requireVisible(ids, now)
    : region.visibleInstances(now);
  const matching = applyFilters(candidates, filters, instanceFilters(region));
  const { items, nextToken } = ids.length > 0
    ? { items: matching, nextToken: undefined }
    : paginate(matching, (i) => i.seq, page, scope);
  const groups = new Map<string, InstanceRecord[]>();
  for (const instance of items) {
    const group = groups.get(instance.reservationId) ?? [];
    group.push(instance);
    groups.set(instance.reservationId, group);
  }
  const reservations = [...groups].map(([reservationId, instances]) =>
    reservationXml(region, reservationId, options.accountId, instances)
  );
  return frag(list("reservationSet", reservations), opt("nextToken", nextToken));
}
