/**
 * EBS: what a volume of a block device mapping is made of, the limits of each volume type
 * (as the `EbsBlockDevice` reference gives them), and the snapshots volumes start from.
 *
 * @module
 */

/** A volume as a block device mapping describes it (an AMI's, or a launch's). */
export interface VolumeSpec {
  /** Device name (`/dev/xvda`). */
  readonly deviceName: string;
  /** Snapshot it starts from; empty when absent. */
  readonly snapshotId: string | undefined;
  /** Size in GiB. */
  readonly sizeGiB: number;
  /** `gp2`, `gp3`, `io1`, `io2`, `st1`, `sc1` or `standard`. */
  readonly volumeType: string;
  /** Provisioned IOPS (gp3, io1, io2). */
  readonly iops: number | undefined;
  /** Throughput in MiB/s (gp3). */
  readonly throughput: number | undefined;
  /** Deleted with the instance. */
  readonly deleteOnTermination: boolean;
  /** Encrypted. */
  readonly encrypted: boolean;
}

/** An EBS snapshot of the account (or of a public AMI). */
export interface SnapshotRecord {
  /** `snap-` id. */
  readonly snapshotId: string;
  /** Size in GiB. */
  readonly sizeGiB: number;
  /** Description. */
  readonly description: string;
  /** Owning account. */
  readonly ownerId: string;
  /** Tags. */
  readonly tags: Map<string, string>;
}

/** A closed range. */
export interface Range {
  /** Smallest allowed value. */
  readonly min: number;
  /** Largest allowed value. */
  readonly max: number;
}

/** What a volume type allows. */
export interface VolumeTypeLimits {
  /** Size in GiB. */
  readonly size: Range;
  /** Provisioned IOPS, when the type takes them. */
  readonly iops?: Range & {
    /** Whether `Iops` must be given. */
    readonly required: boolean;
    /** Most IOPS per GiB of size (above the range's minimum). */
    readonly perGiB: number;
    /** IOPS when none are given. */
    readonly default?: number;
  };
  /** Throughput in MiB/s, when the type takes it. */
  readonly throughput?: Range & {
    /** Throughput when none is given. */
    readonly default: number;
  };
}

/** The volume types and their limits. */
export const VOLUME_TYPES: Readonly<Record<string, VolumeTypeLimits>> = {
  gp2: { size: { min: 1, max: 16_384 } },
  gp3: {
    size: { min: 1, max: 65_536 },
    iops: { min: 3_000, max: 80_000, required: false, perGiB: 500, default: 3_000 },
    throughput: { min: 125, max: 2_000, default: 125 },
  },
  io1: {
    size: { min: 4, max: 16_384 },
    iops: { min: 100, max: 64_000, required: true, perGiB: 50 },
  },
  io2: {
    size: { min: 4, max: 65_536 },
    iops: { min: 100, max: 256_000, required: true, perGiB: 1_000 },
  },
  st1: { size: { min: 125, max: 16_384 } },
  sc1: { size: { min: 125, max: 16_384 } },
  standard: { size: { min: 1, max: 1_024 } },
};

/** The volume type of a new volume whose mapping names none (as CreateVolume defaults). */
export const DEFAULT_VOLUME_TYPE = "gp2";
