/**
 * What the endpoint records about an instance, and the view of it tests get.
 *
 * @module
 */

import type { SecurityGroupFixture, SubnetFixture } from "./fixtures.ts";
import type { InstanceStateName, StateReason } from "./lifecycle.ts";

/** An EBS volume attached to an instance. */
export interface BlockDevice {
  /** Device name (`/dev/xvda`). */
  readonly deviceName: string;
  /** `vol-` id. */
  readonly volumeId: string;
  /** Deleted with the instance. */
  readonly deleteOnTermination: boolean;
  /** Size in GiB. */
  readonly sizeGiB: number;
  /** Volume type (`gp3`). */
  readonly volumeType: string;
  /** Tags (from `TagSpecification` of type `volume`, or CreateTags). */
  readonly tags: Map<string, string>;
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
  readonly spot: { readonly requestId: string; readonly type: string } | undefined;
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
  /** Public IPv4 address, while it has one. */
  readonly publicIpAddress: string | undefined;
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
}
