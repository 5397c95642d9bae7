/**
 * What the endpoint records about an instance, and the view of it tests get.
 *
 * @module
 */

import type { VolumeSpec } from "./ebs.ts";
import type { SecurityGroupFixture, SubnetFixture } from "./fixtures.ts";
import type { InstanceStateName, StateReason } from "./lifecycle.ts";

/** An EBS volume attached to an instance. */
export interface BlockDevice extends VolumeSpec {
  /** `vol-` id. */
  readonly volumeId: string;
  /** Tags (from `TagSpecification` of type `volume`, or CreateTags). */
  readonly tags: Map<string, string>;
}

/** The Spot request behind a Spot Instance. */
export interface SpotInfo {
  /** `sir-` id. */
  readonly requestId: string;
  /** `one-time` or `persistent`. */
  readonly type: string;
  /** `terminate`, `stop` or `hibernate`. */
  readonly interruptionBehavior: string;
  /** `MaxPrice` as given. */
  readonly maxPrice: string | undefined;
}

/** IMDS settings of an instance. */
export interface MetadataOptions {
  /** `optional` or `required`. */
  readonly httpTokens: string;
  /** 1-64. */
  readonly httpPutResponseHopLimit: number;
  /** `enabled` or `disabled`. */
  readonly httpEndpoint: string;
  /** `enabled` or `disabled`. */
  readonly httpProtocolIpv6: string;
  /** `enabled` or `disabled`. */
  readonly instanceMetadataTags: string;
}

/** Everything the endpoint knows about one instance. */
export interface InstanceRecord {
  /** `i-` id. */
  readonly id: string;
  /** Launch order within the region (pagination key). */
  readonly seq: number;
  /** `r-` id of its launch. */
  readonly reservationId: string;
  /** AMI. */
  readonly imageId: string;
  /** Instance type. */
  readonly instanceType: string;
  /** The AMI's architecture. */
  readonly architecture: string;
  /** Key pair name. */
  readonly keyName: string | undefined;
  /** Index within its launch. */
  readonly launchIndex: number;
  /** Idempotency token of its launch. */
  readonly clientToken: string | undefined;
  /** Subnet. */
  readonly subnet: SubnetFixture;
  /** Availability Zone. */
  readonly availabilityZone: string;
  /** Primary private IPv4 address. */
  readonly privateIp: string;
  /** Public IPv4 address while it has one. */
  publicIp: string | undefined;
  /** MAC address of the primary interface. */
  readonly macAddress: string;
  /** `eni-` id of the primary interface. */
  readonly networkInterfaceId: string;
  /** `eni-attach-` id. */
  readonly attachmentId: string;
  /** Security groups. */
  readonly securityGroups: readonly SecurityGroupFixture[];
  /** Tags, in the order they were set. */
  readonly tags: Map<string, string>;
  /** Attached volumes, root first. */
  readonly blockDevices: readonly BlockDevice[];
  /** The AMI's root device name. */
  readonly rootDeviceName: string;
  /** EBS optimisation requested. */
  readonly ebsOptimized: boolean;
  /** Detailed monitoring. */
  readonly monitoring: boolean;
  /** Placement group name (empty when none). */
  readonly placementGroup: string;
  /** `default`, `dedicated` or `host`. */
  readonly tenancy: string;
  /** Instance profile, when one was given. */
  readonly iamInstanceProfile: { readonly arn: string; readonly id: string } | undefined;
  /** IMDS settings. */
  readonly metadataOptions: MetadataOptions;
  /** Spot request, for Spot Instances. */
  readonly spot: SpotInfo | undefined;
  /** Launched enabled for hibernation (`HibernationOptions.Configured`). */
  readonly hibernationConfigured: boolean;
  /** User data, base64 as given. */
  readonly userData: string | undefined;
  /** Platform details of the AMI. */
  readonly platformDetails: string;
  /** Hypervisor of the instance type. */
  readonly hypervisor: string;
  /** When Describe and the other calls start to know it (ms). */
  readonly visibleAt: number;
  /** Launch (or last start) time, ms. */
  launchTime: number;
  /** Current state. */
  state: InstanceStateName;
  /** `StateTransitionReason`. */
  stateTransitionReason: string;
  /** `StateReason`, when the state has one. */
  stateReason: StateReason | undefined;
  /** The transition due next, if any. */
  next: { readonly state: InstanceStateName; readonly at: number } | undefined;
  /** When it stops being visible at all (terminated + retention), ms. */
  goneAt: number | undefined;
  /** Reboots so far (RebootInstances, and CreateImage without `NoReboot`). */
  rebootCount: number;
  /** When it last rebooted (ms). */
  lastRebootAt: number | undefined;
}

/** A launch: the instances one RunInstances created. */
export interface Reservation {
  /** `r-` id. */
  readonly reservationId: string;
  /** Its instances, by launch index. */
  readonly instanceIds: readonly string[];
}

/** A view of an instance for tests (`ep.instances()`). */
export interface InstanceSnapshot {
  /** `i-` id. */
  readonly instanceId: string;
  /** Region. */
  readonly region: string;
  /** Current state. */
  readonly state: InstanceStateName;
  /** `r-` id. */
  readonly reservationId: string;
  /** AMI. */
  readonly imageId: string;
  /** Instance type. */
  readonly instanceType: string;
  /** Idempotency token. */
  readonly clientToken: string | undefined;
  /** Key pair. */
  readonly keyName: string | undefined;
  /** Subnet. */
  readonly subnetId: string;
  /** Availability Zone. */
  readonly availabilityZone: string;
  /** Private IPv4 address. */
  readonly privateIpAddress: string;
  /** Public IPv4 address, while it has one (its Elastic IP address when one is associated). */
  readonly publicIpAddress: string | undefined;
  /** The associated Elastic IP address. */
  readonly elasticIp:
    | {
      /** The address. */
      readonly publicIp: string;
      /** `eipalloc-` id. */
      readonly allocationId: string;
      /** `eipassoc-` id. */
      readonly associationId: string;
    }
    | undefined;
  /** Security group ids. */
  readonly securityGroupIds: readonly string[];
  /** Instance tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** Volume tags, by volume id. */
  readonly volumeTags: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** User data as given (base64). */
  readonly userData: string | undefined;
  /** Launch (or last start) time. */
  readonly launchTime: Date;
  /** Whether Describe calls can see it yet. */
  readonly visible: boolean;
  /** `spot` for Spot Instances. */
  readonly instanceLifecycle: "spot" | undefined;
  /** `sir-` id of a Spot Instance's request. */
  readonly spotInstanceRequestId: string | undefined;
  /** `one-time` or `persistent`, for Spot Instances. */
  readonly spotInstanceType: string | undefined;
  /** ARN of the instance profile. */
  readonly iamInstanceProfileArn: string | undefined;
  /** IMDS `HttpTokens`: `required` or `optional`. */
  readonly metadataHttpTokens: string;
  /** Attached volumes, root first. */
  readonly blockDevices: readonly {
    /** Device name. */
    readonly deviceName: string;
    /** `vol-` id. */
    readonly volumeId: string;
    /** Size in GiB. */
    readonly sizeGiB: number;
    /** Volume type. */
    readonly volumeType: string;
    /** Provisioned IOPS. */
    readonly iops: number | undefined;
    /** Snapshot it was created from. */
    readonly snapshotId: string | undefined;
    /** Deleted with the instance. */
    readonly deleteOnTermination: boolean;
  }[];
  /** Reboots so far (RebootInstances, and CreateImage without `NoReboot`). */
  readonly rebootCount: number;
  /** When it last rebooted. */
  readonly lastRebootAt: Date | undefined;
}
