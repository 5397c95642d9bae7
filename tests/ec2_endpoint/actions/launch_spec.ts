/**
 * Validation of a RunInstances request into a launch specification.
 *
 * @module
 */

import { Ec2Error, errors } from "../errors.ts";
import type { ImageFixture, SecurityGroupFixture, SubnetFixture } from "../fixtures.ts";
import { instanceProfileId, isWellFormed } from "../ids.ts";
import { contains, isAssignable, parseIpv4 } from "../net.ts";
import {
  boolParam,
  intParam,
  type Params,
  stringList,
  structList,
  sub,
  type Tag,
  tagsOf,
} from "../query.ts";
import type { MetadataOptions } from "../instance.ts";
import type { RegionState } from "../region_state.ts";
import { validateTags } from "../tags.ts";

/** The instance type RunInstances uses when none is given (as documented). */
const DEFAULT_INSTANCE_TYPE = "m1.small";
/** User data limit: 16 KB before base64 encoding. */
const MAX_USER_DATA_BYTES = 16 * 1024;
/** Resource types a RunInstances tag specification may name. */
const TAGGABLE = new Set(["instance", "volume", "network-interface", "spot-instances-request"]);
const VOLUME_TYPES = new Set(["standard", "io1", "io2", "gp2", "gp3", "sc1", "st1"]);

/** A validated launch request. */
export interface LaunchSpec {
  readonly image: ImageFixture;
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
  readonly devices: readonly DeviceSpec[];
  readonly ebsOptimized: boolean;
  readonly monitoring: boolean;
  readonly placementGroup: string;
  readonly tenancy: string;
  readonly iamInstanceProfile: { readonly arn: string; readonly id: string } | undefined;
  readonly metadataOptions: MetadataOptions;
  readonly spotType: string | undefined;
}

/** A volume to create at launch. */
export interface DeviceSpec {
  readonly deviceName: string;
  readonly sizeGiB: number;
  readonly volumeType: string;
  readonly deleteOnTermination: boolean;
}

/**
 * Checks a RunInstances request against the region's resources, in EC2's order of concern:
 * AMI, instance type (and architecture), key pair, subnet or zone, security groups, private
 * address, tenancy, tag specifications, user data, volumes, instance profile, IMDS, market.
 *
 * @param region The region.
 * @param p The request's parameters.
 * @param maxCount `MaxCount` (a private address allows one instance only).
 * @param accountId The account (for instance profile ARNs).
 * @returns The launch to make.
 * @throws {Ec2Error} The first problem found.
 */
export function validateLaunch(
  region: RegionState,
  p: Params,
  maxCount: number,
  accountId: string,
): LaunchSpec {
  const image = validateImage(region, p);
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
  const { instanceTags, volumeTags } = validateTagSpecifications(p);
  const market = sub(p, "InstanceMarketOptions");
  return {
    image,
    instanceType,
    hypervisor: type.hypervisor,
    keyName,
    subnet,
    availabilityZone: region.zoneOf(subnet),
    securityGroups,
    privateIp,
    userData: validateUserData(p["UserData"]),
    instanceTags,
    volumeTags,
    devices: validateDevices(p, image),
    ebsOptimized: boolParam(p, "EbsOptimized") ?? false,
    monitoring: boolParam(p, "Monitoring.Enabled") ?? false,
    placementGroup: placement["GroupName"] ?? "",
    tenancy,
    iamInstanceProfile: validateInstanceProfile(sub(p, "IamInstanceProfile"), accountId),
    metadataOptions: validateMetadataOptions(sub(p, "MetadataOptions"), image),
    spotType: validateMarket(market),
  };
}

function validateImage(region: RegionState, p: Params): ImageFixture {
  const imageId = p["ImageId"];
  if (imageId === undefined || imageId === "") throw errors.missingParameter("ImageId");
  if (!isWellFormed(imageId, "ami")) {
    throw errors.malformed("InvalidAMIID.Malformed", imageId, "ami");
  }
  const image = region.image(imageId);
  if (!image) throw errors.imagesNotFound([imageId]);
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
      throw new Ec2Error("InvalidSubnetID.NotFound", `The subnet ID '${subnetId}' does not exist`);
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
      throw new Ec2Error("InvalidGroup.NotFound", `The security group '${groupId}' does not exist`);
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

function validateTagSpecifications(p: Params): { instanceTags: Tag[]; volumeTags: Tag[] } {
  const instanceTags: Tag[] = [];
  const volumeTags: Tag[] = [];
  structList(p, "TagSpecification").forEach((spec, i) => {
    const where = `TagSpecification.${i + 1}`;
    const resourceType = spec["ResourceType"];
    if (resourceType === undefined) throw errors.missingParameter(`${where}.ResourceType`);
    if (!TAGGABLE.has(resourceType)) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `'${resourceType}' is not a valid taggable resource type for this operation.`,
      );
    }
    const tags = tagsOf(spec, `${where}.Tag`);
    validateTags(tags);
    if (resourceType === "instance") instanceTags.push(...tags);
    if (resourceType === "volume") volumeTags.push(...tags);
  });
  validateTags(instanceTags);
  validateTags(volumeTags);
  return { instanceTags, volumeTags };
}

function validateDevices(p: Params, image: ImageFixture): DeviceSpec[] {
  let root: DeviceSpec = {
    deviceName: image.rootDeviceName,
    sizeGiB: image.rootVolumeSizeGiB,
    volumeType: "gp3",
    deleteOnTermination: true,
  };
  const extra: DeviceSpec[] = [];
  structList(p, "BlockDeviceMapping").forEach((mapping, i) => {
    const deviceName = mapping["DeviceName"];
    if (deviceName === undefined) {
      throw errors.missingParameter(`BlockDeviceMapping.${i + 1}.DeviceName`);
    }
    if (mapping["NoDevice"] !== undefined || mapping["VirtualName"] !== undefined) return;
    const ebs = sub(mapping, "Ebs");
    const isRoot = deviceName === image.rootDeviceName;
    const size = intParam(ebs, "VolumeSize") ?? (isRoot ? image.rootVolumeSizeGiB : undefined);
    if (size === undefined) {
      throw errors.missingParameter(`BlockDeviceMapping.${i + 1}.Ebs.VolumeSize`);
    }
    if (size < 1 || size > 16384) {
      throw errors.invalidValue("volumeSize", String(size), "Expecting 1 to 16384 GiB.");
    }
    if (isRoot && size < image.rootVolumeSizeGiB) {
      throw new Ec2Error(
        "InvalidBlockDeviceMapping",
        `Volume of size ${size}GB is smaller than snapshot of ${image.imageId}, expect size >= ${image.rootVolumeSizeGiB}GB`,
      );
    }
    const volumeType = ebs["VolumeType"] ?? "gp3";
    if (!VOLUME_TYPES.has(volumeType)) throw errors.invalidValue("volumeType", volumeType);
    const device = {
      deviceName,
      sizeGiB: size,
      volumeType,
      deleteOnTermination: boolParam(ebs, "DeleteOnTermination") ?? true,
    };
    if (isRoot) root = device;
    else extra.push(device);
  });
  return [root, ...extra];
}

function validateInstanceProfile(
  profile: Params,
  accountId: string,
): { arn: string; id: string } | undefined {
  const arn = profile["Arn"];
  const name = profile["Name"];
  if (arn !== undefined) {
    const m = /^arn:aws[a-z-]*:iam::(\d{12}):instance-profile\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/
      .exec(arn);
    if (!m) {
      throw errors.invalidValue("iamInstanceProfile.arn", arn, "Invalid IAM Instance Profile ARN");
    }
    return { arn, id: instanceProfileId(m[2]!) };
  }
  if (name !== undefined) {
    if (!/^[\w+=,.@-]{1,128}$/.test(name)) {
      throw errors.invalidValue(
        "iamInstanceProfile.name",
        name,
        "Invalid IAM Instance Profile name",
      );
    }
    return {
      arn: `arn:aws:iam::${accountId}:instance-profile/${name}`,
      id: instanceProfileId(name),
    };
  }
  return undefined;
}

function validateMetadataOptions(options: Params, image: ImageFixture): MetadataOptions {
  const v2 = image.imdsSupport === "v2.0";
  const pick = (name: string, allowed: readonly string[], fallback: string) => {
    const value = options[name] ?? fallback;
    if (!allowed.includes(value)) throw errors.invalidValue(`MetadataOptions.${name}`, value);
    return value;
  };
  const hops = intParam(options, "HttpPutResponseHopLimit") ?? (v2 ? 2 : 1);
  if (hops < 1 || hops > 64) {
    throw errors.invalidValue("MetadataOptions.HttpPutResponseHopLimit", String(hops));
  }
  return {
    httpTokens: pick("HttpTokens", ["optional", "required"], v2 ? "required" : "optional"),
    httpPutResponseHopLimit: hops,
    httpEndpoint: pick("HttpEndpoint", ["enabled", "disabled"], "enabled"),
    httpProtocolIpv6: pick("HttpProtocolIpv6", ["enabled", "disabled"], "disabled"),
    instanceMetadataTags: pick("InstanceMetadataTags", ["enabled", "disabled"], "disabled"),
  };
}

function validateMarket(market: Params): string | undefined {
  const type = market["MarketType"];
  if (type === undefined) return undefined;
  if (type !== "spot") {
    throw errors.invalidValue(
      "InstanceMarketOptions.MarketType",
      type,
      "Only 'spot' is supported by this endpoint.",
    );
  }
  const spotType = market["SpotOptions.SpotInstanceType"] ?? "one-time";
  if (spotType !== "one-time" && spotType !== "persistent") {
    throw errors.invalidValue("SpotOptions.SpotInstanceType", spotType);
  }
  const maxPrice = market["SpotOptions.MaxPrice"];
  if (maxPrice !== undefined && !/^\d+(\.\d+)?$/.test(maxPrice)) {
    throw errors.invalidValue("SpotOptions.MaxPrice", maxPrice);
  }
  return spotType;
}
