/**
 * The views of instances and images tests get from `ep.instances()` and `ep.images()`: plain,
 * detached objects.
 *
 * @module
 */

import type { ImageRecord, ImageSnapshot } from "./images.ts";
import type { InstanceRecord, InstanceSnapshot } from "./instance.ts";
import type { RegionState } from "./region_state.ts";

/**
 * A snapshot of an instance for tests.
 *
 * @param region Its region.
 * @param instance The instance.
 * @param now The current time (ms).
 * @returns A plain, detached view.
 */
export function instanceView(
  region: RegionState,
  instance: InstanceRecord,
  now: number,
): InstanceSnapshot {
  const elastic = region.elasticIpOf(instance.id);
  return {
    instanceId: instance.id,
    region: region.region,
    state: instance.state,
    reservationId: instance.reservationId,
    imageId: instance.imageId,
    instanceType: instance.instanceType,
    clientToken: instance.clientToken,
    keyName: instance.keyName,
    subnetId: instance.subnet.subnetId,
    availabilityZone: instance.availabilityZone,
    privateIpAddress: instance.privateIp,
    publicIpAddress: region.publicIpOf(instance),
    elasticIp: elastic?.association
      ? {
        publicIp: elastic.publicIp,
        allocationId: elastic.allocationId,
        associationId: elastic.association.associationId,
      }
      : undefined,
    securityGroupIds: instance.securityGroups.map((g) => g.groupId),
    tags: Object.fromEntries(instance.tags),
    volumeTags: Object.fromEntries(
      instance.blockDevices.map((d) => [d.volumeId, Object.fromEntries(d.tags)]),
    ),
    userData: instance.userData,
    launchTime: new Date(instance.launchTime),
    visible: region.isVisible(instance, now),
    instanceLifecycle: instance.spot ? "spot" : undefined,
    spotInstanceRequestId: instance.spot?.requestId,
    spotInstanceType: instance.spot?.type,
    iamInstanceProfileArn: instance.iamInstanceProfile?.arn,
    metadataHttpTokens: instance.metadataOptions.httpTokens,
    blockDevices: instance.blockDevices.map((d) => ({
      deviceName: d.deviceName,
      volumeId: d.volumeId,
      sizeGiB: d.sizeGiB,
      volumeType: d.volumeType,
      iops: d.iops,
      snapshotId: d.snapshotId,
      deleteOnTermination: d.deleteOnTermination,
    })),
    rebootCount: instance.rebootCount,
    lastRebootAt: instance.lastRebootAt === undefined ? undefined : new Date(instance.lastRebootAt),
  };
}

/**
 * A snapshot of an image for tests.
 *
 * @param region Its region.
 * @param image The image.
 * @param now The current time (ms).
 * @returns A plain, detached view.
 */
export function imageView(region: RegionState, image: ImageRecord, now: number): ImageSnapshot {
  const snapshotTags: Record<string, Record<string, string>> = {};
  for (const device of image.blockDevices) {
    const snapshot = device.snapshotId ? region.snapshots.get(device.snapshotId) : undefined;
    if (snapshot) snapshotTags[snapshot.snapshotId] = Object.fromEntries(snapshot.tags);
  }
  return {
    imageId: image.imageId,
    region: region.region,
    name: image.name,
    description: image.description,
    state: image.state,
    ownerId: image.ownerId,
    public: image.public,
    sourceInstanceId: image.sourceInstanceId,
    tags: Object.fromEntries(image.tags),
    blockDevices: image.blockDevices.map((d) => ({ ...d })),
    snapshotTags,
    listed: region.isImageListed(image, now),
  };
}
