/**
 * RunInstances: idempotency by `ClientToken` (same token and parameters → the same
 * reservation; other parameters → `IdempotentParameterMismatch`; a token whose instances are
 * all terminated → `IdempotentInstanceTerminated`, as EC2 answers today),
 * validation, capacity and limits (`MinCount`..`MaxCount`), and the launch of pending instances.
 *
 * @module
 */

import type { ActionContext } from "../context.ts";
import { Ec2Error, errors } from "../errors.ts";
import { newId, newMacAddress, randomHex } from "../ids.ts";
import { intParam, type Params } from "../query.ts";
import type { BlockDevice, InstanceRecord } from "../instance.ts";
import type { RegionState } from "../region_state.ts";
import { reservationXml } from "../render.ts";
import { tagMap } from "../tags.ts";
import type { Xml } from "../xml.ts";
import { type LaunchSpec, validateLaunch } from "./launch_spec.ts";

/** Parameters that do not take part in the idempotency comparison. */
const NOT_COMPARED = new Set(["Action", "Version", "ClientToken", "DryRun"]);

/**
 * Handles RunInstances.
 *
 * @param context The request.
 * @returns The reservation's elements.
 */
export function runInstances(context: ActionContext): Xml {
  const { params: p, region, now, options } = context;
  const minCount = requiredInt(p, "MinCount");
  const maxCount = requiredInt(p, "MaxCount");
  if (minCount < 1) throw errors.invalidValue("minCount", String(minCount), "Must be at least 1.");
  if (maxCount < minCount) {
    throw errors.invalidValue(
      "maxCount",
      String(maxCount),
      "Must be greater than or equal to minCount.",
    );
  }
  const token = clientToken(p);
  if (token !== undefined) {
    const earlier = region.tokens.get(token);
    if (earlier) {
      if (earlier.fingerprint !== fingerprint(p)) {
        throw new Ec2Error(
          "IdempotentParameterMismatch",
          "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).",
        );
      }
      return replay(region, earlier.reservationId, options.accountId);
    }
  }
  const spec = validateLaunch(region, p, maxCount, now);
  const count = launchableCount(context, spec, minCount, maxCount);
  const reservationId = newId("r");
  const launched: InstanceRecord[] = [];
  for (let index = 0; index < count; index++) {
    const instance = createInstance(context, spec, reservationId, index, token);
    region.instances.set(instance.id, instance);
    region.enter(instance, "pending", now);
    launched.push(instance);
  }
  region.reservations.set(reservationId, { reservationId, instanceIds: launched.map((i) => i.id) });
  if (token !== undefined) region.tokens.set(token, { fingerprint: fingerprint(p), reservationId });
  return reservationXml(region, reservationId, options.accountId, launched);
}

function requiredInt(p: Params, name: string): number {
  const value = intParam(p, name);
  if (value === undefined) throw errors.missingParameter(name);
  return value;
}

function clientToken(p: Params): string | undefined {
  const token = p["ClientToken"];
  if (token === undefined || token === "") return undefined;
  if (token.length > 64 || !/^[\x20-\x7E]+$/.test(token)) {
    throw errors.invalidValue(
      "clientToken",
      token,
      "The client token must be at most 64 ASCII characters.",
    );
  }
  return token;
}

/** A canonical form of the parameters that make a request "the same request". */
function fingerprint(p: Params): string {
  return JSON.stringify(
    Object.entries(p).filter(([k]) => !NOT_COMPARED.has(k)).sort((a, b) =>
      a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
    ),
  );
}

function replay(region: RegionState, reservationId: string, accountId: string): Xml {
  const reservation = region.reservations.get(reservationId)!;
  const instances = reservation.instanceIds.map((id) => region.instances.get(id)!);
  if (instances.every((i) => i.state === "terminated")) {
    throw new Ec2Error(
      "IdempotentInstanceTerminated",
      "The client token you provided is associated with a resource that is already deleted. Please use a different client token.",
    );
  }
  return reservationXml(region, reservationId, accountId, instances);
}

function launchableCount(
  context: ActionContext,
  spec: LaunchSpec,
  minCount: number,
  maxCount: number,
): number {
  const { region, options } = context;
  const underLimit = options.instanceLimit - region.liveCount();
  if (minCount > underLimit) {
    throw new Ec2Error(
      "InstanceLimitExceeded",
      `You have requested more instances (${minCount}) than your current instance limit of ${options.instanceLimit} allows for the specified instance type.`,
    );
  }
  const capacity = options.capacity[spec.instanceType];
  const available = capacity === undefined
    ? Infinity
    : Math.max(0, capacity - region.liveCount(spec.instanceType));
  if (minCount > available) {
    const others = region.fixtures.subnets.map((s) => region.zoneOf(s)).filter((z) =>
      z !== spec.availabilityZone
    );
    throw new Ec2Error(
      "InsufficientInstanceCapacity",
      `We currently do not have sufficient ${spec.instanceType} capacity in the Availability Zone you requested (${spec.availabilityZone}). Our system will be working on provisioning additional capacity. You can currently get ${spec.instanceType} capacity by not specifying an Availability Zone in your request or choosing ${
        [...new Set(others)].join(", ") || "another Availability Zone"
      }.`,
    );
  }
  return Math.min(maxCount, underLimit, available);
}

function createInstance(
  context: ActionContext,
  spec: LaunchSpec,
  reservationId: string,
  index: number,
  token: string | undefined,
): InstanceRecord {
  const { region, now, options } = context;
  const devices: BlockDevice[] = spec.devices.map((d) => ({
    ...d,
    volumeId: newId("vol"),
    tags: tagMap(spec.volumeTags),
  }));
  return {
    id: newId("i"),
    seq: region.nextSeq(),
    reservationId,
    imageId: spec.image.imageId,
    instanceType: spec.instanceType,
    architecture: spec.image.architecture,
    keyName: spec.keyName,
    launchIndex: index,
    clientToken: token,
    subnet: spec.subnet,
    availabilityZone: spec.availabilityZone,
    privateIp: region.allocatePrivateIp(
      spec.subnet.subnetId,
      index === 0 ? spec.privateIp : undefined,
    ),
    publicIp: undefined,
    macAddress: newMacAddress(),
    networkInterfaceId: newId("eni"),
    attachmentId: newId("eni-attach"),
    securityGroups: spec.securityGroups,
    tags: tagMap(spec.instanceTags),
    blockDevices: devices,
    rootDeviceName: spec.image.rootDeviceName,
    ebsOptimized: spec.ebsOptimized,
    monitoring: spec.monitoring,
    placementGroup: spec.placementGroup,
    tenancy: spec.tenancy,
    iamInstanceProfile: spec.iamInstanceProfile,
    metadataOptions: spec.metadataOptions,
    spot: spec.spot ? { ...spec.spot, requestId: `sir-${randomHex(8)}` } : undefined,
    hibernationConfigured: spec.hibernationConfigured,
    userData: spec.userData,
    platformDetails: spec.image.platformDetails,
    hypervisor: spec.hypervisor,
    visibleAt: now + options.timing.visibilityDelayMs,
    launchTime: now,
    state: "pending",
    stateTransitionReason: "",
    stateReason: undefined,
    next: undefined,
    goneAt: undefined,
    rebootCount: 0,
    lastRebootAt: undefined,
  };
}
