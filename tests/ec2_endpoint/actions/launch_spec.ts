/**
 * Validation of a RunInstances request into a launch specification.
 *
 * @module
 */

import type { VolumeSpec } from "../ebs.ts";
import { Ec2Error, errors } from "../errors.ts";
import type { SecurityGroupFixture, SubnetFixture } from "../fixtures.ts";
import { isWellFormed } from "../ids.ts";
import type { ImageRecord } from "../images.ts";
import { contains, isAssignable, parseIpv4 } from "../net.ts";
import { boolParam, type Params, stringList, sub, type Tag } from "../query.ts";
import type { MetadataOptions } from "../instance.ts";
import type { RegionState } from "../region_state.ts";
import { tagSpecificationsOf } from "../tags.ts";
import { launchVolumes } from "./block_devices.ts";
import {
  type SpotSpec,
  validateHibernation,
  validateInstanceProfile,
  validateMarket,
  validateMetadataOptions,
} from "./launch_options.ts";

/** The instance type RunInstances uses when none is given (as documented). */
const DEFAULT_INSTANCE_TYPE = "m1.small";
/** User data limit: 16 KB before base64 encoding. */
const MAX_USER_DATA_BYTES = 16 * 1024;
/** Resource types a RunInstances tag specification may name. */
const TAGGABLE = new Set(["instance", "volume", "network-interface", "spot-instances-request"]);

/** A validated launch request. */
export interface LaunchSpec {
  readonly image: ImageRecord;
  readonly instanceType: string;
  readonly hypervisor: string;
  readonly keyName: string | undefined;
  readonly subnet: SubnetFixture;
  readonly availabilityZone: string;
  readonly securityGroups: readonly SecurityGroupFixture[];
  readonly privateIp: string | undefined;
  readonly userData: string | undefined;
  readonly instanceTags: readonly Tag[];
  readonly volumeTags: readonly Tag[];
  readonly devices: readonly VolumeSpec[];
  readonly ebsOptimized: boolean;
  readonly monitoring: boolean;
  readonly placementGroup: string;
  readonly tenancy: string;
  readonly iamInstanceProfile: { readonly arn: string; readonly id: string } | undefined;
  readonly metadataOptions: MetadataOptions;
  readonly spot: SpotSpec | undefined;
  readonly hibernationConfigured: boolean;
}

/**
 * Checks a RunInstances request against the region's resources, in EC2's order of concern:
 * AMI, instance type (and architecture), key pair, subnet or zone, security groups, private
 * address, tenancy, tag specifications, user data, volumes, instance profile, IMDS,
 * hibernation, market.
 *
 * @param region The region.
 * @param p The request's parameters.
 * @param maxCount `MaxCount` (a private address allows one instance only).
 * @param now The current time (ms).
 * @returns The launch to make.
 * @throws {Ec2Error} The first problem found.
 */
export function validateLaunch(
  region: RegionState,
  p: Params,
  maxCount: number,
  now: number,
): LaunchSpec {
  const image = validateImage(region, p, now);
  const instanceType = p["InstanceType"] ?? DEFAULT_INSTANCE_TYPE;
  const type = region.instanceType(instanceType);
  if (!type) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `Invalid value '${instanceType}' for InstanceType.`,
    );
  }
  if (!type.architectures.includes(image.architecture)) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `The architecture '${
        type.architectures[0]
      }' of the specified instance type does not match the architecture '${image.architecture}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again.`,
    );
  }
  const keyName = p["KeyName"];
  if (keyName !== undefined && !region.fixtures.keyPairs.includes(keyName)) {
    throw new Ec2Error("InvalidKeyPair.NotFound", `The key pair '${keyName}' does not exist`);
  }
  const placement = sub(p, "Placement");
  const subnet = validateSubnet(region, p, placement["AvailabilityZone"]);
  const securityGroups = validateGroups(region, p, subnet);
  const privateIp = validatePrivateIp(region, p["PrivateIpAddress"], subnet, maxCount);
  const tenancy = placement["Tenancy"] ?? "default";
  if (!["default", "dedicated", "host"].includes(tenancy)) {
    throw errors.invalidValue("tenancy", tenancy);
  }
  const tags = tagSpecificationsOf(p, TAGGABLE);
  const userData = validateUserData(p["UserData"]);
  const devices = launchVolumes(region, p, image);
  const iamInstanceProfile = validateInstanceProfile(region, sub(p, "IamInstanceProfile"));
  const metadataOptions = validateMetadataOptions(sub(p, "MetadataOptions"), image);
  const hibernationConfigured = validateHibernation(p, devices[0]!);
  const spot = validateMarket(sub(p, "InstanceMarketOptions"), type, hibernationConfigured, now);
  return {
    image,
    instanceType,
    hypervisor: type.hypervisor,
    keyName,
    subnet,
    availabilityZone: region.zoneOf(subnet),
    securityGroups,
    privateIp,
    userData,
    instanceTags: tags.get("instance") ?? [],
    volumeTags: tags.get("volume") ?? [],
    devices,
    ebsOptimized: boolParam(p, "EbsOptimized") ?? false,
    monitoring: boolParam(p, "Monitoring.Enabled") ?? false,
    placementGroup: placement["GroupName"] ?? "",
    tenancy,
    iamInstanceProfile,
    metadataOptions,
    spot,
    hibernationConfigured,
  };
}

/**
 * The AMI to launch: it must exist, and be available (a pending or deregistered one answers
 * `InvalidAMIID.Unavailable`).
 */
function validateImage(region: RegionState, p: Params, now: number): ImageRecord {
  const imageId = p["ImageId"];
  if (imageId === undefined || imageId === "") throw errors.missingParameter("ImageId");
  if (!isWellFormed(imageId, "ami")) {
    throw errors.malformed("InvalidAMIID.Malformed", imageId, "ami");
  }
  const image = region.image(imageId);
  if (!image || !region.isImageListed(image, now)) throw errors.imagesNotFound([imageId]);
  if (image.state === "pending") {
    throw new Ec2Error("InvalidAMIID.Unavailable", `AMI ${imageId} is pending, and cannot be run`);
  }
  if (image.state === "deregistered") {
    throw new Ec2Error(
      "InvalidAMIID.Unavailable",
      `AMI ${imageId} has been deregistered, and cannot be run`,
    );
  }
  return image;
}

function validateSubnet(
  region: RegionState,
  p: Params,
  zone: string | undefined,
): SubnetFixture {
  const subnetId = p["SubnetId"];
  if (subnetId !== undefined) {
    if (!isWellFormed(subnetId, "subnet")) {
      throw errors.malformed("InvalidSubnetID.Malformed", subnetId, "subnet");
    }
    const subnet = region.subnet(subnetId);
    if (!subnet) {
      throw errors.subnetNotFound(subnetId);
    }
    return subnet;
  }
  if (zone !== undefined && !region.fixtures.subnets.some((s) => region.zoneOf(s) === zone)) {
    throw new Ec2Error("InvalidParameterValue", `Invalid availability zone: [${zone}]`);
  }
  const subnet = region.defaultSubnet(zone);
  if (!subnet) {
    throw new Ec2Error(
      "VPCIdNotSpecified",
      "No default VPC for this user. Specify a subnet in your request.",
    );
  }
  return subnet;
}

function validateGroups(
  region: RegionState,
  p: Params,
  subnet: SubnetFixture,
): SecurityGroupFixture[] {
  const all = region.fixtures.securityGroups;
  const groups: SecurityGroupFixture[] = [];
  for (const groupId of stringList(p, "SecurityGroupId")) {
    if (!isWellFormed(groupId, "sg")) {
      throw errors.malformed("InvalidGroupId.Malformed", groupId, "sg");
    }
    const group = all.find((g) => g.groupId === groupId);
    if (!group) {
      throw errors.groupNotFound(groupId);
    }
    if (group.vpcId !== subnet.vpcId) {
      throw new Ec2Error(
        "InvalidParameter",
        `Security group ${groupId} and subnet ${subnet.subnetId} belong to different networks.`,
      );
    }
    groups.push(group);
  }
  for (const name of stringList(p, "SecurityGroup")) {
    const group = all.find((g) => g.groupName === name && g.vpcId === subnet.vpcId);
    if (!group) {
      throw new Ec2Error(
        "InvalidGroup.NotFound",
        `The security group '${name}' does not exist in VPC '${subnet.vpcId}'`,
      );
    }
    groups.push(group);
  }
  if (groups.length === 0) {
    const fallback = all.find((g) => g.groupName === "default" && g.vpcId === subnet.vpcId);
    if (fallback) groups.push(fallback);
  }
  return [...new Map(groups.map((g) => [g.groupId, g])).values()];
}

function validatePrivateIp(
  region: RegionState,
  address: string | undefined,
  subnet: SubnetFixture,
  maxCount: number,
): string | undefined {
  if (address === undefined) return undefined;
  if (maxCount > 1) {
    throw new Ec2Error(
      "InvalidParameterCombination",
      "A private IP address cannot be specified when launching more than one instance.",
    );
  }
  const value = parseIpv4(address);
  if (value === undefined) throw errors.invalidValue("PrivateIpAddress", address);
  const cidr = region.subnetCidr(subnet.subnetId)!;
  if (!contains(cidr, value)) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `Address ${address} does not fall within the subnet's address range`,
    );
  }
  if (!isAssignable(cidr, value)) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `Address ${address} is reserved in subnet ${subnet.subnetId}`,
    );
  }
  if (region.ipInUse(address)) {
    throw new Ec2Error("InvalidIPAddress.InUse", `Address ${address} is in use.`);
  }
  return address;
}

function validateUserData(userData: string | undefined): string | undefined {
  if (userData === undefined) return undefined;
  const compact = userData.replace(/\r?\n/g, "");
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new Ec2Error("InvalidParameterValue", "Invalid BASE64 encoding of user data.");
  }
  const padding = compact.endsWith("==") ? 2 : compact.endsWith("=") ? 1 : 0;
  const decoded = (compact.length / 4) * 3 - padding;
  if (decoded > MAX_USER_DATA_BYTES) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `User data is limited to ${MAX_USER_DATA_BYTES} bytes`,
    );
  }
  return userData;
}
