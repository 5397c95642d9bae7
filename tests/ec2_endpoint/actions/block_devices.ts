/**
 * `BlockDeviceMapping.N` of RunInstances and CreateImage, checked as the `BlockDeviceMapping`
 * and `EbsBlockDevice` references describe them:
 *
 * - a launch starts from the AMI's mappings; a request's mapping of the same device overrides
 *   it, `NoDevice` removes it, `VirtualName` (`ephemeralN`) maps instance store instead;
 * - a volume needs a snapshot or a size; the size defaults to the snapshot's, may not be
 *   smaller (`InvalidBlockDeviceMapping`) and must fit the volume type (gp2 1-16,384 GiB,
 *   gp3 1-65,536, io1 4-16,384, io2 4-65,536, st1/sc1 125-16,384, standard 1-1,024);
 * - `Iops` is required for io1/io2, optional for gp3 (3,000 by default), refused for the
 *   others, and bounded per type and per GiB; `Throughput` is for gp3 only (125-2,000);
 * - an unknown snapshot is `InvalidSnapshot.NotFound`;
 * - CreateImage may only change `DeleteOnTermination` of the instance's own volumes, and may
 *   add new ones.
 *
 * @module
 */

import { DEFAULT_VOLUME_TYPE, type SnapshotRecord, VOLUME_TYPES, type VolumeSpec } from "../ebs.ts";
import { Ec2Error, errors } from "../errors.ts";
import { isWellFormed } from "../ids.ts";
import type { ImageRecord } from "../images.ts";
import type { BlockDevice, InstanceRecord } from "../instance.ts";
import { boolParam, intParam, type Params, structList, sub } from "../query.ts";
import type { RegionState } from "../region_state.ts";

/** Linux device names (`/dev/sdf`, `/dev/xvdba`, `/dev/sda1`, or without `/dev/`). */
const DEVICE_NAME =
  /^(?:\/dev\/)?(?:sd[a-z]{1,2}[0-9]{0,2}|xvd[a-z]{1,2}[0-9]{0,2}|hd[a-z][0-9]{0,2})$/;
/** Instance store virtual names. */
const VIRTUAL_NAME = /^ephemeral(?:[0-9]|1[0-9]|2[0-3])$/;

/** A mapping of a request, after the checks every mapping gets. */
interface Mapping {
  readonly deviceName: string;
  readonly kind: "none" | "virtual" | "ebs";
  readonly ebs: Params;
}

/**
 * The volumes of a launch: the AMI's mappings with the request's applied.
 *
 * @param region The region (its snapshots).
 * @param p The request's parameters.
 * @param image The AMI.
 * @returns The volumes, root first.
 * @throws {Ec2Error} The first mapping that is not valid.
 */
export function launchVolumes(region: RegionState, p: Params, image: ImageRecord): VolumeSpec[] {
  const volumes = new Map(image.blockDevices.map((d) => [d.deviceName, d]));
  for (const mapping of mappingsOf(p, image.rootDeviceName)) {
    if (mapping.kind !== "ebs") {
      volumes.delete(mapping.deviceName);
      continue;
    }
    const base = volumes.get(mapping.deviceName);
    if (Object.keys(mapping.ebs).length === 0 && !base) throw emptyMapping(mapping.deviceName);
    volumes.set(mapping.deviceName, ebsVolume(region, mapping.ebs, mapping.deviceName, base));
  }
  const root = volumes.get(image.rootDeviceName)!;
  return [root, ...[...volumes.values()].filter((v) => v !== root)];
}

/** A volume of an image to be: a snapshot of an instance's volume, or a new one. */
export interface ImageVolume {
  /** The mapping (without the snapshot still to be taken of `source`). */
  readonly spec: VolumeSpec;
  /** The instance's volume it is a snapshot of. */
  readonly source: BlockDevice | undefined;
}

/**
 * The mappings of an image made from an instance: its volumes with the request's applied.
 *
 * @param region The region (its snapshots).
 * @param p The request's parameters.
 * @param instance The instance.
 * @returns The volumes, root first.
 * @throws {Ec2Error} The first mapping that is not valid.
 */
export function imageVolumes(
  region: RegionState,
  p: Params,
  instance: InstanceRecord,
): ImageVolume[] {
  const volumes = new Map<string, ImageVolume>(
    instance.blockDevices.map((d) => [d.deviceName, { spec: volumeOf(d), source: d }]),
  );
  for (const mapping of mappingsOf(p, instance.rootDeviceName)) {
    const { deviceName, ebs } = mapping;
    if (mapping.kind !== "ebs") {
      volumes.delete(deviceName);
      continue;
    }
    const existing = volumes.get(deviceName);
    if (!existing) {
      if (Object.keys(ebs).length === 0) throw emptyMapping(deviceName);
      volumes.set(deviceName, {
        spec: ebsVolume(region, ebs, deviceName, undefined),
        source: undefined,
      });
      continue;
    }
    const size = intParam(ebs, "VolumeSize");
    if (size !== undefined && size !== existing.spec.sizeGiB) {
      throw new Ec2Error(
        "InvalidBlockDeviceMapping",
        `The size of ${deviceName} cannot be changed by CreateImage (${existing.spec.sizeGiB} GiB); change the volume's size first.`,
      );
    }
    const other = Object.keys(ebs).find((k) => k !== "VolumeSize" && k !== "DeleteOnTermination");
    if (other !== undefined) {
      throw new Ec2Error(
        "InvalidBlockDeviceMapping",
        `Only DeleteOnTermination can be changed for the instance's volume ${deviceName} (not ${other}).`,
      );
    }
    const deleteOnTermination = boolParam(ebs, "DeleteOnTermination") ??
      existing.spec.deleteOnTermination;
    volumes.set(deviceName, { ...existing, spec: { ...existing.spec, deleteOnTermination } });
  }
  const root = volumes.get(instance.rootDeviceName)!;
  return [root, ...[...volumes.values()].filter((v) => v !== root)];
}

/**
 * The mapping of an attached volume.
 *
 * @param device The volume.
 * @returns Its mapping (without volume id and tags).
 */
export function volumeOf(device: BlockDevice): VolumeSpec {
  return {
    deviceName: device.deviceName,
    snapshotId: device.snapshotId,
    sizeGiB: device.sizeGiB,
    volumeType: device.volumeType,
    iops: device.iops,
    throughput: device.throughput,
    deleteOnTermination: device.deleteOnTermination,
    encrypted: device.encrypted,
  };
}

function mappingsOf(p: Params, rootDeviceName: string): Mapping[] {
  const seen = new Set<string>();
  return structList(p, "BlockDeviceMapping").map((mapping, i) => {
    const deviceName = mapping["DeviceName"];
    if (deviceName === undefined) {
      throw errors.missingParameter(`BlockDeviceMapping.${i + 1}.DeviceName`);
    }
    if (!DEVICE_NAME.test(deviceName)) {
      throw new Ec2Error("InvalidBlockDeviceMapping", `Invalid device name ${deviceName}`);
    }
    if (seen.has(deviceName)) {
      throw new Ec2Error(
        "InvalidBlockDeviceMapping",
        `The device name ${deviceName} is used more than once in the block device mapping.`,
      );
    }
    seen.add(deviceName);
    const isRoot = deviceName === rootDeviceName;
    const ebs = sub(mapping, "Ebs");
    if (mapping["NoDevice"] !== undefined) {
      if (isRoot) throw rootRemoved(deviceName);
      return { deviceName, kind: "none", ebs };
    }
    const virtualName = mapping["VirtualName"];
    if (virtualName !== undefined) {
      if (!VIRTUAL_NAME.test(virtualName)) throw errors.invalidValue("virtualName", virtualName);
      if (isRoot) throw rootRemoved(deviceName);
      return { deviceName, kind: "virtual", ebs };
    }
    return { deviceName, kind: "ebs", ebs };
  });
}

/**
 * One `Ebs` structure as a volume, over the mapping it overrides.
 *
 * @param region The region (its snapshots).
 * @param ebs The `Ebs.*` parameters.
 * @param deviceName The device.
 * @param base The AMI's mapping of the device, if any.
 * @returns The volume.
 */
function ebsVolume(
  region: RegionState,
  ebs: Params,
  deviceName: string,
  base: VolumeSpec | undefined,
): VolumeSpec {
  const requestedSnapshot = ebs["SnapshotId"];
  const snapshot = requestedSnapshot === undefined
    ? (base?.snapshotId === undefined ? undefined : region.snapshots.get(base.snapshotId))
    : findSnapshot(region, requestedSnapshot);
  const volumeType = ebs["VolumeType"] ?? base?.volumeType ?? DEFAULT_VOLUME_TYPE;
  const limits = Object.hasOwn(VOLUME_TYPES, volumeType) ? VOLUME_TYPES[volumeType] : undefined;
  if (!limits) {
    throw errors.invalidValue(
      "volumeType",
      volumeType,
      `Valid values are ${Object.keys(VOLUME_TYPES).join(", ")}.`,
    );
  }
  const size = intParam(ebs, "VolumeSize") ??
    (requestedSnapshot === undefined ? base?.sizeGiB : undefined) ?? snapshot?.sizeGiB;
  if (size === undefined) {
    throw new Ec2Error(
      "InvalidBlockDeviceMapping",
      `Either a snapshot or a volume size must be specified for ${deviceName}.`,
    );
  }
  if (size < limits.size.min) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `Volume of ${size}GiB is too small; minimum is ${limits.size.min}GiB.`,
    );
  }
  if (size > limits.size.max) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `Volume of ${size}GiB is too large; maximum is ${limits.size.max}GiB.`,
    );
  }
  if (snapshot && size < snapshot.sizeGiB) {
    throw new Ec2Error(
      "InvalidBlockDeviceMapping",
      `Volume of size ${size}GB is smaller than snapshot '${snapshot.snapshotId}', expect size >= ${snapshot.sizeGiB}GB`,
    );
  }
  const sameType = base?.volumeType === volumeType;
  return {
    deviceName,
    snapshotId: snapshot?.snapshotId,
    sizeGiB: size,
    volumeType,
    iops: iopsOf(ebs, volumeType, size, sameType ? base?.iops : undefined),
    throughput: throughputOf(ebs, volumeType, sameType ? base?.throughput : undefined),
    deleteOnTermination: boolParam(ebs, "DeleteOnTermination") ?? base?.deleteOnTermination ??
      true,
    encrypted: boolParam(ebs, "Encrypted") ?? base?.encrypted ?? false,
  };
}

function findSnapshot(region: RegionState, snapshotId: string): SnapshotRecord {
  if (!isWellFormed(snapshotId, "snap")) {
    throw errors.malformed("InvalidSnapshotID.Malformed", snapshotId, "snap");
  }
  const snapshot = region.snapshots.get(snapshotId);
  if (!snapshot) {
    throw errors.snapshotNotFound(snapshotId);
  }
  return snapshot;
}

function iopsOf(
  ebs: Params,
  volumeType: string,
  size: number,
  inherited: number | undefined,
): number | undefined {
  const limits = VOLUME_TYPES[volumeType]!.iops;
  const requested = intParam(ebs, "Iops");
  if (!limits) {
    if (requested !== undefined) {
      throw new Ec2Error(
        "InvalidParameterCombination",
        `The parameter iops is not supported for ${volumeType} volumes.`,
      );
    }
    return undefined;
  }
  const iops = requested ?? inherited ?? limits.default;
  if (iops === undefined) {
    throw new Ec2Error(
      "InvalidParameterCombination",
      `The parameter iops must be specified for ${volumeType} volumes.`,
    );
  }
  if (iops < limits.min || iops > limits.max) {
    throw errors.invalidValue(
      "iops",
      String(iops),
      `Expecting ${limits.min} to ${limits.max} for ${volumeType} volumes.`,
    );
  }
  if (iops > limits.min && iops > size * limits.perGiB) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `Iops to volume size ratio of ${iops / size} is too high; maximum is ${limits.perGiB}.`,
    );
  }
  return iops;
}

function throughputOf(
  ebs: Params,
  volumeType: string,
  inherited: number | undefined,
): number | undefined {
  const limits = VOLUME_TYPES[volumeType]!.throughput;
  const requested = intParam(ebs, "Throughput");
  if (!limits) {
    if (requested !== undefined) {
      throw new Ec2Error(
        "InvalidParameterCombination",
        `The parameter throughput is not supported for ${volumeType} volumes.`,
      );
    }
    return undefined;
  }
  const throughput = requested ?? inherited ?? limits.default;
  if (throughput < limits.min || throughput > limits.max) {
    throw errors.invalidValue(
      "throughput",
      String(throughput),
      `Expecting ${limits.min} to ${limits.max} MiB/s.`,
    );
  }
  return throughput;
}

function emptyMapping(deviceName: string): Ec2Error {
  return new Ec2Error(
    "InvalidBlockDeviceMapping",
    `The mapping of ${deviceName} needs Ebs, NoDevice or VirtualName.`,
  );
}

function rootRemoved(deviceName: string): Ec2Error {
  return new Ec2Error(
    "InvalidBlockDeviceMapping",
    `The root device ${deviceName} cannot be removed from the block device mapping.`,
  );
}
