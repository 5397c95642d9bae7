/**
 * AMIs: the fixture images and those CreateImage makes, their states (`pending` →
 * `available`, and `deregistered`), and the view of them tests get.
 *
 * A deregistered image still shows in DescribeImages for a short while (`timing.imageMs`),
 * then no more; asked for by id it then answers an empty result while instances launched
 * from it live on, and `InvalidAMIID.NotFound` after that.
 *
 * @module
 */

import type { VolumeSpec } from "./ebs.ts";
import type { ImageFixture } from "./fixtures.ts";

/** The image states the endpoint models. */
export type ImageStateName = "pending" | "available" | "deregistered";

/** Everything the endpoint knows about an AMI. */
export interface ImageRecord {
  /** `ami-` id. */
  readonly imageId: string;
  /** Name, unique per account and region. */
  readonly name: string;
  /** Description, if any. */
  readonly description: string | undefined;
  /** `x86_64`, `arm64` or `i386`. */
  readonly architecture: string;
  /** Owning account. */
  readonly ownerId: string;
  /** Owner alias (`amazon`), for images of AWS. */
  readonly ownerAlias: string | undefined;
  /** Whether anyone may launch it. */
  readonly public: boolean;
  /** Platform details (`Linux/UNIX`). */
  readonly platformDetails: string;
  /** Root device name. */
  readonly rootDeviceName: string;
  /** Block device mappings, root first. */
  readonly blockDevices: readonly VolumeSpec[];
  /** ISO-8601 creation time. */
  readonly creationDate: string;
  /** `v2.0` when instances launched from it require IMDSv2 by default. */
  readonly imdsSupport: string | undefined;
  /** The instance CreateImage made it from. */
  readonly sourceInstanceId: string | undefined;
  /** Tags. */
  readonly tags: Map<string, string>;
  /** Current state. */
  state: ImageStateName;
  /** When a pending image becomes available (ms). */
  availableAt: number | undefined;
  /** When it was deregistered (ms). */
  deregisteredAt: number | undefined;
}

/** A view of an image for tests (`ep.images()`). */
export interface ImageSnapshot {
  /** `ami-` id. */
  readonly imageId: string;
  /** Region. */
  readonly region: string;
  /** Name. */
  readonly name: string;
  /** Description. */
  readonly description: string | undefined;
  /** State. */
  readonly state: ImageStateName;
  /** Owning account. */
  readonly ownerId: string;
  /** Whether anyone may launch it. */
  readonly public: boolean;
  /** The instance CreateImage made it from. */
  readonly sourceInstanceId: string | undefined;
  /** Tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** Block device mappings, root first. */
  readonly blockDevices: readonly VolumeSpec[];
  /** Tags of its snapshots, by snapshot id. */
  readonly snapshotTags: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Whether DescribeImages lists it. */
  readonly listed: boolean;
}

/**
 * The record of a fixture image: available, its root snapshot the only mapping.
 *
 * @param fixture The fixture.
 * @returns A fresh record (its own tag map).
 */
export function imageFromFixture(fixture: ImageFixture): ImageRecord {
  return {
    imageId: fixture.imageId,
    name: fixture.name,
    description: fixture.description,
    architecture: fixture.architecture,
    ownerId: fixture.ownerId,
    ownerAlias: fixture.ownerAlias,
    public: fixture.public,
    platformDetails: fixture.platformDetails,
    rootDeviceName: fixture.rootDeviceName,
    blockDevices: [{
      deviceName: fixture.rootDeviceName,
      snapshotId: rootSnapshotId(fixture),
      sizeGiB: fixture.rootVolumeSizeGiB,
      volumeType: "gp3",
      iops: 3_000,
      throughput: 125,
      deleteOnTermination: true,
      encrypted: false,
    }],
    creationDate: fixture.creationDate,
    imdsSupport: fixture.imdsSupport,
    sourceInstanceId: undefined,
    tags: new Map(),
    state: "available",
    availableAt: undefined,
    deregisteredAt: undefined,
  };
}

/**
 * The root snapshot of a fixture image.
 *
 * @param fixture The fixture.
 * @returns Its `rootSnapshotId`, or `snap-` and the AMI id's digits.
 */
export function rootSnapshotId(fixture: ImageFixture): string {
  return fixture.rootSnapshotId ?? `snap-${fixture.imageId.slice(4)}`;
}

/**
 * Whether DescribeImages lists an image: any state but deregistered, or deregistered less
 * than `retentionMs` ago.
 *
 * @param image The image.
 * @param now The current time (ms).
 * @param retentionMs How long a deregistered image keeps showing.
 * @returns true when listed.
 */
export function isListed(image: ImageRecord, now: number, retentionMs: number): boolean {
  return image.state !== "deregistered" || now < (image.deregisteredAt ?? 0) + retentionMs;
}
