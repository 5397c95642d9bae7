/**
 * The RunInstances request for a checked launch spec: a pure mapping, so every field the
 * driver sends can be tested without an endpoint. Only SDK types are imported; this module
 * never loads the SDK.
 *
 * @module
 */

import type {
  _InstanceType,
  BlockDeviceMapping as SdkMapping,
  EbsBlockDevice,
  RunInstancesCommandInput,
  TagSpecification,
} from "@aws-sdk/client-ec2";
import { InvalidInputError } from "../errors.ts";
import { type BlockDeviceMapping, canonicalDevice, type LaunchSpec } from "./launch_spec.ts";

/**
 * IMDS token setting when the template has no `METADATA_HTTP_TOKENS`: `required` (IMDSv2
 * only). It keeps the instance's role credentials out of reach of the request-forgery attacks
 * IMDSv1 allows, and it is what AWS recommends and what current AMIs (cloud-init, the SSM
 * agent, the AWS CLI and SDKs) support. Old AMIs whose tools speak only IMDSv1 need
 * `METADATA_HTTP_TOKENS=optional`, in the template or as a driver default.
 */
export const DEFAULT_HTTP_TOKENS = "required";

/**
 * IMDS token setting when the template has `CLOUD_INIT=no` and no `METADATA_HTTP_TOKENS`:
 * `optional`, because OpenNebula's one-context fetches the user data with a plain IMDSv1
 * request (`curl http://169.254.169.254/latest/user-data`), which `required` would refuse.
 */
export const SHELL_CONTEXT_HTTP_TOKENS = "optional";

/**
 * Whether the launch needs the AMI's root device name: the template changes the root volume
 * (`ROOTVOLUMESIZE`, `ROOTVOLUMETYPE`, `ROOTVOLUMEIOPS`) without naming its device
 * (`ROOTVOLUMEDEVICE`). The provider then reads `Images[0].RootDeviceName` from DescribeImages
 * and passes it to {@link runInstancesInput}.
 *
 * @param spec The launch spec.
 * @returns true when {@link runInstancesInput} needs its `rootDeviceName` argument.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toLaunchSpec } from "./launch_spec.ts";
 * import { needsRootDeviceName } from "./run_input.ts";
 *
 * const base = { AMI: "ami-0abcdef1234567890", INSTANCETYPE: "t3.micro" };
 * assert.equal(needsRootDeviceName(toLaunchSpec({ ...base, ROOTVOLUMESIZE: "40" })), true);
 * assert.equal(
 *   needsRootDeviceName(toLaunchSpec({ ...base, ROOTVOLUMESIZE: "40", ROOTVOLUMEDEVICE: "/dev/sda1" })),
 *   false,
 * );
 * assert.equal(needsRootDeviceName(toLaunchSpec(base)), false);
 * ```
 */
export function needsRootDeviceName(spec: LaunchSpec): boolean {
  return spec.rootVolume !== undefined && spec.rootVolume.deviceName === undefined;
}

/**
 * The IMDS token setting a launch uses: the template's, else {@link DEFAULT_HTTP_TOKENS}, or
 * {@link SHELL_CONTEXT_HTTP_TOKENS} when `CLOUD_INIT=no`.
 *
 * @param spec The launch spec.
 * @returns `required` or `optional`.
 */
export function httpTokensOf(spec: LaunchSpec): "required" | "optional" {
  return spec.metadataHttpTokens ??
    (spec.contextFormat === "shell" ? SHELL_CONTEXT_HTTP_TOKENS : DEFAULT_HTTP_TOKENS);
}

function mappingInput(mapping: BlockDeviceMapping): SdkMapping {
  switch (mapping.kind) {
    case "none":
      // The SDK's way of saying "no device": an empty string.
      return { DeviceName: mapping.deviceName, NoDevice: "" };
    case "ephemeral":
      return { DeviceName: mapping.deviceName, VirtualName: mapping.virtualName };
    case "ebs": {
      const ebs: EbsBlockDevice = {};
      if (mapping.snapshotId !== undefined) ebs.SnapshotId = mapping.snapshotId;
      if (mapping.sizeGiB !== undefined) ebs.VolumeSize = mapping.sizeGiB;
      if (mapping.deleteOnTermination !== undefined) {
        ebs.DeleteOnTermination = mapping.deleteOnTermination;
      }
      if (mapping.volumeType !== undefined) ebs.VolumeType = mapping.volumeType;
      if (mapping.iops !== undefined) ebs.Iops = mapping.iops;
      return { DeviceName: mapping.deviceName, Ebs: ebs };
    }
  }
}

/** The block device mappings: the root volume's first, then `BLOCKDEVICEMAPPING`'s. */
function mappingsInput(spec: LaunchSpec, rootDeviceName: string | undefined): SdkMapping[] {
  const mappings = (spec.blockDeviceMappings ?? []).map(mappingInput);
  const root = spec.rootVolume;
  if (!root) return mappings;
  const device = root.deviceName ?? rootDeviceName;
  if (device === undefined) {
    throw new InvalidInputError(
      "Cannot change the root volume: the AMI's root device name is unknown; set ROOTVOLUMEDEVICE (e.g. /dev/xvda or /dev/sda1)",
    );
  }
  const clash = spec.blockDeviceMappings?.find((m) =>
    canonicalDevice(m.deviceName) === canonicalDevice(device)
  );
  if (clash) {
    throw new InvalidInputError(
      `Invalid BLOCKDEVICEMAPPING: ${clash.deviceName} is the AMI's root device, which the ROOTVOLUME keys also set; use one or the other`,
    );
  }
  const ebs: EbsBlockDevice = {};
  if (root.sizeGiB !== undefined) ebs.VolumeSize = root.sizeGiB;
  if (root.volumeType !== undefined) ebs.VolumeType = root.volumeType;
  if (root.iops !== undefined) ebs.Iops = root.iops;
  return [{ DeviceName: device, Ebs: ebs }, ...mappings];
}

/**
 * Builds the RunInstances request for one instance.
 *
 * Besides what the spec holds it always sends `MinCount`/`MaxCount` 1, the idempotency token,
 * `MetadataOptions` (`HttpEndpoint` enabled, `HttpTokens` from {@link httpTokensOf}) and the
 * tags for the instance and its volumes (and for the Spot request when there is one). The root
 * volume mapping comes first and leaves `DeleteOnTermination` to the AMI.
 *
 * @param spec The checked launch spec (`toLaunchSpec()`), with `userData` filled from the
 * context when the template had no `USERDATA`.
 * @param token The idempotency token (`ClientToken`).
 * @param tags Tags for the instance, its volumes and its Spot request (`instanceTags()`).
 * @param rootDeviceName The AMI's root device name (`Images[0].RootDeviceName` from
 * DescribeImages); needed only when {@link needsRootDeviceName} says so, and ignored when the
 * template gives `ROOTVOLUMEDEVICE`.
 * @returns The request.
 * @throws {InvalidInputError} when the root volume is changed but its device name is unknown,
 * or when `BLOCKDEVICEMAPPING` also maps the root device.
 * @example From an OpenNebula PUBLIC_CLOUD section
 * ```ts
 * import assert from "node:assert/strict";
 * import { toLaunchSpec } from "./launch_spec.ts";
 * import { runInstancesInput } from "./run_input.ts";
 *
 * // PUBLIC_CLOUD = [ TYPE="ec2", AMI="ami-0abcdef1234567890", INSTANCETYPE="t3.micro",
 * //   IAMINSTANCEPROFILE="web-role", ROOTVOLUMESIZE="30", ROOTVOLUMETYPE="gp3",
 * //   BLOCKDEVICEMAPPING="/dev/sdf=snap-0123456789abcdef0::false" ]
 * const spec = toLaunchSpec({
 *   AMI: "ami-0abcdef1234567890",
 *   INSTANCETYPE: "t3.micro",
 *   IAMINSTANCEPROFILE: "web-role",
 *   ROOTVOLUMESIZE: "30",
 *   ROOTVOLUMETYPE: "gp3",
 *   BLOCKDEVICEMAPPING: "/dev/sdf=snap-0123456789abcdef0::false",
 * });
 * const input = runInstancesInput(spec, "one-42-abc", [{ Key: "Name", Value: "one-42" }], "/dev/xvda");
 * assert.deepEqual(input.BlockDeviceMappings, [
 *   { DeviceName: "/dev/xvda", Ebs: { VolumeSize: 30, VolumeType: "gp3" } },
 *   { DeviceName: "/dev/sdf", Ebs: { SnapshotId: "snap-0123456789abcdef0", DeleteOnTermination: false } },
 * ]);
 * assert.deepEqual(input.IamInstanceProfile, { Name: "web-role" });
 * assert.deepEqual(input.MetadataOptions, { HttpTokens: "required", HttpEndpoint: "enabled" });
 * ```
 */
export function runInstancesInput(
  spec: LaunchSpec,
  token: string,
  tags: readonly { readonly Key: string; readonly Value: string }[],
  rootDeviceName?: string,
): RunInstancesCommandInput {
  const input: RunInstancesCommandInput = {
    ImageId: spec.imageId,
    // Checked against the instance type format; the SDK's list lags behind new types.
    InstanceType: spec.instanceType as _InstanceType,
    MinCount: 1,
    MaxCount: 1,
    ClientToken: token,
  };
  if (spec.keyName) input.KeyName = spec.keyName;
  if (spec.securityGroups?.length) input.SecurityGroups = [...spec.securityGroups];
  if (spec.securityGroupIds?.length) input.SecurityGroupIds = [...spec.securityGroupIds];
  if (spec.subnetId) input.SubnetId = spec.subnetId;
  if (spec.privateIpAddress) input.PrivateIpAddress = spec.privateIpAddress;
  if (spec.availabilityZone || spec.placementGroup || spec.tenancy) {
    input.Placement = {
      ...(spec.availabilityZone ? { AvailabilityZone: spec.availabilityZone } : {}),
      ...(spec.placementGroup ? { GroupName: spec.placementGroup } : {}),
      ...(spec.tenancy ? { Tenancy: spec.tenancy } : {}),
    };
  }
  if (spec.ebsOptimized !== undefined) input.EbsOptimized = spec.ebsOptimized;
  if (spec.userData) input.UserData = spec.userData;

  const mappings = mappingsInput(spec, rootDeviceName);
  if (mappings.length > 0) input.BlockDeviceMappings = mappings;

  const profile = spec.iamInstanceProfile;
  if (profile) {
    input.IamInstanceProfile = "arn" in profile ? { Arn: profile.arn } : { Name: profile.name };
  }

  input.MetadataOptions = {
    HttpTokens: httpTokensOf(spec),
    HttpEndpoint: "enabled",
    ...(spec.metadataHopLimit !== undefined
      ? { HttpPutResponseHopLimit: spec.metadataHopLimit }
      : {}),
  };

  if (spec.spot) {
    input.InstanceMarketOptions = {
      MarketType: "spot",
      SpotOptions: {
        ...(spec.spot.maxPrice !== undefined ? { MaxPrice: spec.spot.maxPrice } : {}),
        SpotInstanceType: spec.spot.type,
        InstanceInterruptionBehavior: spec.spot.interruption,
      },
    };
  }

  const tagged: TagSpecification[] = [
    { ResourceType: "instance", Tags: [...tags] },
    { ResourceType: "volume", Tags: [...tags] },
  ];
  if (spec.spot) tagged.push({ ResourceType: "spot-instances-request", Tags: [...tags] });
  input.TagSpecifications = tagged;
  return input;
}
