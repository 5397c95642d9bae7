/**
 * RunInstances: idempotency by `ClientToken` (the same token and parameters give the same
 * reservation; other parameters `IdempotentParameterMismatch`; a token whose instances are all
 * terminated `IdempotentInstanceTerminated`, as EC2 answers today), the checks of the request
 * against the region's resources in EC2's order of concern, and the launch of pending instances;
 * with `DryRun`, the checks only, answered `DryRunOperation` (HTTP 412) as EC2 does.
 *
 * @module
 */

import { Ec2Error, errors } from "./errors.ts";
import type { SecurityGroupFixture, SubnetFixture } from "./fixtures.ts";
import { bool, items, type Params, sub, tagSpecifications, values } from "./params.ts";
import { reservationXml } from "./render.ts";
import {
  type ImageRecord,
  type InstanceRecord,
  isId,
  newId,
  type RegionState,
  type Volume,
} from "./state.ts";
import type { Xml } from "./xml.ts";

/** User data limit: 16 KB before base64 encoding. */
const MAX_USER_DATA_BYTES = 16 * 1024;
const VOLUME_TYPES = ["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"];

/**
 * Handles RunInstances.
 *
 * @param region The region (brought up to `now`).
 * @param p The request's parameters.
 * @param now The current time (ms).
 * @returns The reservation's elements.
 */
export function runInstances(region: RegionState, p: Params, now: number): Xml {
  const count = Number(p["MaxCount"] ?? "");
  if (!Number.isInteger(count) || count < 1 || p["MinCount"] === undefined) {
    throw errors.missing("MinCount and MaxCount");
  }
  const token = p["ClientToken"] || undefined;
  const fingerprint = JSON.stringify(
    Object.entries(p).filter(([k]) => k !== "ClientToken" && k !== "Action" && k !== "Version")
      .sort(),
  );
  const earlier = token === undefined ? undefined : region.tokens.get(token);
  if (earlier) {
    if (earlier.fingerprint !== fingerprint) {
      throw new Ec2Error(
        "IdempotentParameterMismatch",
        "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).",
      );
    }
    const instances = earlier.instanceIds.map((id) => region.instances.get(id)!);
    if (instances.every((i) => i.state === "terminated")) {
      throw new Ec2Error(
        "IdempotentInstanceTerminated",
        "The client token you provided is associated with a resource that is already deleted. Please use a different client token.",
      );
    }
    return reservationXml(region, instances);
  }
  const launch = validate(region, p, now);
  if (bool(p, "DryRun")) {
    // EC2 checks the request and the caller's permission, then launches nothing.
    throw new Ec2Error(
      "DryRunOperation",
      "Request would have succeeded, but DryRun flag is set.",
      412,
    );
  }
  const reservationId = newId("r");
  const invisibleAs = region.options.faults.invisibleAs ?? "not-found";
  const launched: InstanceRecord[] = [];
  for (let index = 0; index < count; index++) {
    const instance: InstanceRecord = {
      ...launch,
      id: newId("i"),
      reservationId,
      clientToken: token,
      privateIp: region.allocatePrivateIp(
        launch.subnet,
        index === 0 ? p["PrivateIpAddress"] : undefined,
      ),
      publicIp: undefined,
      volumes: launch.volumes.map((v) => ({ ...v, volumeId: newId("vol") })),
      spot: launch.spot === undefined
        ? undefined
        : { requestId: newId("sir").slice(0, 12), type: launch.spot },
      visibleAt: now + region.options.timing.visibilityDelayMs,
      invisibleAs: typeof invisibleAs === "function" ? invisibleAs(launch.tags) : invisibleAs,
      launchTime: now,
      state: "pending",
      transitionReason: "",
      stateReason: undefined,
      next: undefined,
      goneAt: undefined,
      rebootCount: 0,
      lastRebootAt: undefined,
    };
    region.instances.set(instance.id, instance);
    region.enter(instance, "pending", now);
    launched.push(instance);
  }
  if (token !== undefined) {
    region.tokens.set(token, { fingerprint, instanceIds: launched.map((i) => i.id) });
  }
  return reservationXml(region, launched);
}

/** What a launch's instances share, checked. */
type Launch =
  & Omit<
    InstanceRecord,
    | "id"
    | "reservationId"
    | "clientToken"
    | "privateIp"
    | "publicIp"
    | "spot"
    | "visibleAt"
    | "invisibleAs"
    | "launchTime"
    | "state"
    | "transitionReason"
    | "stateReason"
    | "next"
    | "goneAt"
    | "rebootCount"
    | "lastRebootAt"
  >
  & { readonly spot: string | undefined };

/**
 * Checks a request in EC2's order of concern: AMI, instance type (and architecture), key pair,
 * subnet, security groups, user data, volumes, instance profile, IMDS, Spot options.
 */
function validate(region: RegionState, p: Params, now: number): Launch {
  const { fixtures } = region.options;
  const image = validateImage(region, p["ImageId"], now);
  const instanceType = p["InstanceType"] ?? "m1.small";
  const type = fixtures.instanceTypes.find((t) => t.instanceType === instanceType);
  if (!type) throw errors.invalid("InstanceType", instanceType);
  if (!type.architectures.includes(image.architecture)) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `The architecture '${
        type.architectures[0]
      }' of the specified instance type does not match the architecture '${image.architecture}' of the specified AMI.`,
    );
  }
  const keyName = p["KeyName"];
  if (keyName !== undefined && !fixtures.keyPairs.includes(keyName)) {
    throw new Ec2Error("InvalidKeyPair.NotFound", `The key pair '${keyName}' does not exist`);
  }
  const subnet = validateSubnet(region, p);
  const securityGroups = validateGroups(region, p, subnet);
  const userData = p["UserData"];
  if (userData !== undefined && atobLength(userData) > MAX_USER_DATA_BYTES) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `User data is limited to ${MAX_USER_DATA_BYTES} bytes`,
    );
  }
  const tags = tagSpecifications(p, ["instance", "volume", "spot-instances-request"]);
  const profile = sub(p, "IamInstanceProfile");
  const profileName = profile["Name"] ?? profile["Arn"]?.replace(/^.*:instance-profile\//, "");
  if (profileName !== undefined && !fixtures.instanceProfiles.includes(profileName)) {
    throw errors.invalid("iamInstanceProfile", profileName, "Invalid IAM Instance Profile");
  }
  const httpTokens = p["MetadataOptions.HttpTokens"] ?? (image.imdsV2 ? "required" : "optional");
  if (httpTokens !== "required" && httpTokens !== "optional") {
    throw errors.invalid("MetadataOptions.HttpTokens", httpTokens);
  }
  return {
    imageId: image.imageId,
    instanceType,
    architecture: image.architecture,
    keyName,
    subnet,
    securityGroups,
    tags: tags.get("instance") ?? new Map(),
    volumeTags: tags.get("volume") ?? new Map(),
    volumes: launchVolumes(region, p, image),
    rootDeviceName: image.rootDeviceName,
    iamInstanceProfileArn: profileName === undefined
      ? undefined
      : `arn:aws:iam::123456789012:instance-profile/${profileName}`,
    httpTokens,
    spot: validateSpot(sub(p, "InstanceMarketOptions"), type.spotPrice),
    userData,
  };
}

/** The AMI to launch: it must exist and be available. */
function validateImage(region: RegionState, imageId: string | undefined, now: number): ImageRecord {
  if (imageId === undefined) throw errors.missing("ImageId");
  if (!isId(imageId, "ami")) {
    throw new Ec2Error("InvalidAMIID.Malformed", `Invalid id: "${imageId}" (expecting "ami-...")`);
  }
  const image = region.images.get(imageId);
  if (!image) throw errors.imageNotFound(imageId);
  if (image.availableAt > now) {
    throw new Ec2Error("InvalidAMIID.Unavailable", `AMI ${imageId} is pending, and cannot be run`);
  }
  return image;
}

/** The subnet named, or the default subnet of the zone asked for (or of the first zone). */
function validateSubnet(region: RegionState, p: Params): SubnetFixture {
  const subnets = region.options.fixtures.subnets;
  const subnetId = p["SubnetId"];
  if (subnetId !== undefined) {
    const subnet = subnets.find((s) => s.subnetId === subnetId);
    if (!subnet) {
      throw new Ec2Error("InvalidSubnetID.NotFound", `The subnet ID '${subnetId}' does not exist`);
    }
    return subnet;
  }
  const zone = p["Placement.AvailabilityZone"];
  const subnet = subnets.find((s) => zone === undefined || region.zoneOf(s) === zone);
  if (!subnet) throw new Ec2Error("InvalidParameterValue", `Invalid availability zone: [${zone}]`);
  return subnet;
}

/** The groups named by id or name, in the subnet's VPC; its `default` group when none. */
function validateGroups(region: RegionState, p: Params, subnet: SubnetFixture) {
  const all = region.options.fixtures.securityGroups.filter((g) => g.vpcId === subnet.vpcId);
  const groups: SecurityGroupFixture[] = [];
  for (const [key, field] of [["SecurityGroupId", "groupId"], ["SecurityGroup", "groupName"]]) {
    for (const wanted of values(p, key!)) {
      const group = all.find((g) => g[field as "groupId" | "groupName"] === wanted);
      if (!group) {
        throw new Ec2Error(
          "InvalidGroup.NotFound",
          `The security group '${wanted}' does not exist`,
        );
      }
      groups.push(group);
    }
  }
  if (groups.length === 0) groups.push(...all.filter((g) => g.groupName === "default"));
  return [...new Set(groups)];
}

/** The decoded length of base64 text. */
function atobLength(text: string): number {
  const compact = text.replace(/\s/g, "");
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new Ec2Error("InvalidParameterValue", "Invalid BASE64 encoding of user data.");
  }
  return (compact.length / 4) * 3 - (compact.match(/=*$/)?.[0].length ?? 0);
}

/** The AMI's volumes with the request's mappings applied (a change, a new volume, none). */
function launchVolumes(region: RegionState, p: Params, image: ImageRecord): Volume[] {
  const volumes = new Map(image.volumes.map((v) => [v.deviceName, v]));
  for (const mapping of items(p, "BlockDeviceMapping")) {
    const deviceName = mapping["DeviceName"] ?? "";
    if (mapping["NoDevice"] !== undefined || mapping["VirtualName"] !== undefined) {
      if (deviceName === image.rootDeviceName) {
        throw new Ec2Error("InvalidBlockDeviceMapping", `The root device cannot be removed.`);
      }
      volumes.delete(deviceName);
      continue;
    }
    const ebs = sub(mapping, "Ebs");
    const base = volumes.get(deviceName);
    const snapshotId = ebs["SnapshotId"] ?? base?.snapshotId;
    const snapshotSize = snapshotId === undefined ? undefined : region.snapshots.get(snapshotId);
    if (snapshotId !== undefined && snapshotSize === undefined) {
      throw new Ec2Error(
        "InvalidSnapshot.NotFound",
        `The snapshot '${snapshotId}' does not exist.`,
      );
    }
    const sizeGiB = ebs["VolumeSize"] === undefined
      ? base?.sizeGiB ?? snapshotSize
      : Number(ebs["VolumeSize"]);
    if (sizeGiB === undefined || !(sizeGiB >= (snapshotSize ?? 1) && sizeGiB <= 16_384)) {
      throw new Ec2Error(
        "InvalidBlockDeviceMapping",
        `The size of ${deviceName} must be at least its snapshot's, 1 to 16384 GiB.`,
      );
    }
    const volumeType = ebs["VolumeType"] ?? base?.volumeType ?? "gp2";
    if (!VOLUME_TYPES.includes(volumeType)) throw errors.invalid("volumeType", volumeType);
    const deleteOnTermination = bool(ebs, "DeleteOnTermination") ?? base?.deleteOnTermination ??
      true;
    volumes.set(deviceName, { deviceName, snapshotId, sizeGiB, volumeType, deleteOnTermination });
  }
  return [...volumes.values()];
}

/** The Spot request type of a Spot launch, its maximum price checked against the Spot price. */
function validateSpot(market: Params, spotPrice: number): string | undefined {
  if (market["MarketType"] === undefined) return undefined;
  if (market["MarketType"] !== "spot") {
    throw errors.invalid("InstanceMarketOptions.MarketType", market["MarketType"]);
  }
  const type = market["SpotOptions.SpotInstanceType"] ?? "one-time";
  if (type !== "one-time" && type !== "persistent") {
    throw errors.invalid("SpotOptions.SpotInstanceType", type);
  }
  const maxPrice = market["SpotOptions.MaxPrice"];
  if (maxPrice !== undefined && !(Number(maxPrice) >= spotPrice)) {
    throw new Ec2Error(
      "SpotMaxPriceTooLow",
      `Your Spot request price of ${maxPrice} is lower than the minimum required Spot request fulfillment price of ${spotPrice}.`,
    );
  }
  return type;
}
