/**
 * One region of the fixture account: its instances and their lifecycle over time, its AMIs,
 * snapshots and Elastic IP addresses, and the plain views of them tests get.
 *
 * Transitions are not driven by timers: each instance (and image) carries the next state and
 * when it is due, and every read first brings them up to the current time
 * ({@link RegionState.refresh}).
 *
 * @module
 */

import { Ec2Error, errors } from "./errors.ts";
import type { SecurityGroupFixture, SubnetFixture } from "./fixtures.ts";
import type { InvisibleForm, ResolvedOptions } from "./options.ts";

/** The six instance states. */
export type InstanceStateName =
  | "pending"
  | "running"
  | "shutting-down"
  | "terminated"
  | "stopping"
  | "stopped";

/** The low byte of `instanceState.code` for each state. */
export const STATE_CODES: Readonly<Record<InstanceStateName, number>> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

/** The state that follows another after a delay, and which delay of the timing it takes. */
const FOLLOWS: Partial<
  Record<InstanceStateName, [InstanceStateName, keyof ResolvedOptions["timing"]]>
> = {
  pending: ["running", "pendingMs"],
  stopping: ["stopped", "stoppingMs"],
  "shutting-down": ["terminated", "shuttingDownMs"],
};

/** `stateReason` of an instance. */
export interface StateReason {
  /** Reason code (`Client.UserInitiatedShutdown`, `pending`, ...). */
  readonly code: string;
  /** Message. */
  readonly message: string;
}

const USER_SHUTDOWN: StateReason = {
  code: "Client.UserInitiatedShutdown",
  message: "Client.UserInitiatedShutdown: User initiated shutdown",
};

/** An EBS volume of an AMI or an instance. */
export interface Volume {
  /** Device name. */
  readonly deviceName: string;
  /** `vol-` id (instances' volumes only). */
  readonly volumeId?: string;
  /** Snapshot it was (or is to be) created from. */
  readonly snapshotId: string | undefined;
  /** Size in GiB. */
  readonly sizeGiB: number;
  /** Volume type. */
  readonly volumeType: string;
  /** Deleted with the instance. */
  readonly deleteOnTermination: boolean;
}

/** Everything the endpoint knows about one instance. */
export interface InstanceRecord {
  /** `i-` id. */
  readonly id: string;
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
  /** Idempotency token of its launch. */
  readonly clientToken: string | undefined;
  /** Subnet. */
  readonly subnet: SubnetFixture;
  /** Primary private IPv4 address. */
  readonly privateIp: string;
  /** Public IPv4 address from Amazon's pool, while it has one. */
  publicIp: string | undefined;
  /** Security groups. */
  readonly securityGroups: readonly SecurityGroupFixture[];
  /** Tags (CreateTags adds to them). */
  readonly tags: Map<string, string>;
  /** Tags of its volumes. */
  readonly volumeTags: ReadonlyMap<string, string>;
  /** Attached volumes, root first. */
  readonly volumes: readonly Volume[];
  /** The AMI's root device name. */
  readonly rootDeviceName: string;
  /** Instance profile ARN, when one was given. */
  readonly iamInstanceProfileArn: string | undefined;
  /** IMDS `HttpTokens`. */
  readonly httpTokens: string;
  /** Spot request (`sir-` id, `one-time` or `persistent`), for Spot Instances. */
  readonly spot: { readonly requestId: string; readonly type: string } | undefined;
  /** User data, base64 as given. */
  readonly userData: string | undefined;
  /** When Describe and the other calls start to know it (ms). */
  readonly visibleAt: number;
  /** How it is kept out of answers until then. */
  readonly invisibleAs: InvisibleForm;
  /** Launch (or last start) time, ms. */
  launchTime: number;
  /** Current state. */
  state: InstanceStateName;
  /** `StateTransitionReason`. */
  transitionReason: string;
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

/** An AMI. */
export interface ImageRecord {
  /** `ami-` id. */
  readonly imageId: string;
  /** Name. */
  readonly name: string;
  /** Description. */
  readonly description: string | undefined;
  /** `x86_64` or `arm64`. */
  readonly architecture: string;
  /** Owning account. */
  readonly ownerId: string;
  /** Root device name. */
  readonly rootDeviceName: string;
  /** Its volumes, root first. */
  readonly volumes: readonly Volume[];
  /** Whether its instances require IMDSv2 by default. */
  readonly imdsV2: boolean;
  /** The instance CreateImage made it of. */
  readonly sourceInstanceId: string | undefined;
  /** Tags (CreateTags adds to them). */
  readonly tags: Map<string, string>;
  /** `pending` until `availableAt`, then `available`. */
  state: "pending" | "available";
  /** When a pending image becomes available (ms). */
  readonly availableAt: number;
}

/** An Elastic IP address of the account. */
export interface AddressRecord {
  /** `eipalloc-` id. */
  readonly allocationId: string;
  /** The public address. */
  readonly publicIp: string;
  /** Its association with an instance, if any. */
  association: { readonly associationId: string; readonly instanceId: string } | undefined;
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
  /** The associated Elastic IP address: address, `eipalloc-` and `eipassoc-` ids. */
  readonly elasticIp:
    | { readonly publicIp: string; readonly allocationId: string; readonly associationId: string }
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
  /** Whether the API can see it yet. */
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
  readonly blockDevices: readonly Volume[];
  /** Reboots so far (RebootInstances, and CreateImage without `NoReboot`). */
  readonly rebootCount: number;
  /** When it last rebooted. */
  readonly lastRebootAt: Date | undefined;
}

/** A view of an AMI for tests (`ep.images()`). */
export interface ImageSnapshot {
  /** `ami-` id. */
  readonly imageId: string;
  /** Region. */
  readonly region: string;
  /** Name. */
  readonly name: string;
  /** `pending` or `available`. */
  readonly state: "pending" | "available";
  /** The instance CreateImage made it of. */
  readonly sourceInstanceId: string | undefined;
  /** Tags. */
  readonly tags: Readonly<Record<string, string>>;
}

/** A view of an Elastic IP address for tests (`ep.addresses()`). */
export interface AddressSnapshot {
  /** `eipalloc-` id. */
  readonly allocationId: string;
  /** The address. */
  readonly publicIp: string;
  /** Region. */
  readonly region: string;
  /** The instance it is associated with. */
  readonly instanceId: string | undefined;
  /** `eipassoc-` id of the association. */
  readonly associationId: string | undefined;
}

/**
 * A new resource id: the prefix and 17 hex digits.
 *
 * @param prefix `i`, `r`, `ami`, `vol`, `eipassoc`, ...
 * @returns The id.
 */
export function newId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").slice(1)}`;
}

/** Whether a string is an id of the prefix (8 or 17 hex digits). */
export function isId(id: string, prefix: string): boolean {
  return new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`).test(id);
}

const ipv4 = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join(".");

/** Per-region state of the fixture account. */
export class RegionState {
  /** Region name. */
  readonly region: string;
  /** The endpoint's options (fixtures, timing). */
  readonly options: ResolvedOptions;
  /** Instances by id, in launch order. */
  readonly instances = new Map<string, InstanceRecord>();
  /** Idempotency tokens: a fingerprint of the launch's parameters and its instances. */
  readonly tokens = new Map<string, { fingerprint: string; instanceIds: readonly string[] }>();
  /** AMIs by id: the fixtures', then CreateImage's. */
  readonly images = new Map<string, ImageRecord>();
  /** Sizes of the EBS snapshots by id. */
  readonly snapshots = new Map<string, number>();
  /** Elastic IP addresses by allocation id. */
  readonly addresses = new Map<string, AddressRecord>();
  readonly #usedIps = new Set<string>();
  #nextHost = 10;
  #publicCounter = 0;

  /**
   * @param region Region name (from the SigV4 scope).
   * @param options The endpoint's options.
   */
  constructor(region: string, options: ResolvedOptions) {
    this.region = region;
    this.options = options;
    const { fixtures } = options;
    for (const f of fixtures.images) {
      const snapshotId = `snap-${f.imageId.slice(4)}`;
      this.snapshots.set(snapshotId, f.rootVolumeSizeGiB);
      this.images.set(f.imageId, {
        ...f,
        description: undefined,
        volumes: [{
          deviceName: f.rootDeviceName,
          snapshotId,
          sizeGiB: f.rootVolumeSizeGiB,
          volumeType: "gp3",
          deleteOnTermination: true,
        }],
        imdsV2: f.imdsV2 ?? false,
        sourceInstanceId: undefined,
        tags: new Map(),
        state: "available",
        availableAt: 0,
      });
    }
    for (const s of fixtures.snapshots) this.snapshots.set(s.snapshotId, s.sizeGiB);
    for (const a of fixtures.addresses) {
      this.addresses.set(a.allocationId, { ...a, association: undefined });
    }
  }

  /** The Availability Zone of a subnet in this region. */
  zoneOf(subnet: SubnetFixture): string {
    return `${this.region}${subnet.zone}`;
  }

  /**
   * Reserves a private address in a subnet: the one requested, or the next free one.
   *
   * @param subnet The subnet.
   * @param requested A specific address.
   * @returns The address.
   * @throws {Ec2Error} `InvalidParameterValue` for an address outside the subnet;
   *   `InvalidIPAddress.InUse` for one taken.
   */
  allocatePrivateIp(subnet: SubnetFixture, requested?: string): string {
    const [base, bits] = subnet.cidrBlock.split("/");
    const start = base!.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
    const size = 2 ** (32 - Number(bits));
    if (requested !== undefined) {
      const n = requested.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(requested) || n < start + 4 || n >= start + size - 1) {
        throw errors.invalid("PrivateIpAddress", requested, "It is not in the subnet's range.");
      }
      if (this.#usedIps.has(requested)) {
        throw new Ec2Error("InvalidIPAddress.InUse", `Address ${requested} is in use.`);
      }
      this.#usedIps.add(requested);
      return requested;
    }
    for (let tries = 0; tries < size; tries++) {
      const address = ipv4(start + this.#nextHost);
      this.#nextHost = this.#nextHost + 1 >= size - 1 ? 4 : this.#nextHost + 1;
      if (!this.#usedIps.has(address)) {
        this.#usedIps.add(address);
        return address;
      }
    }
    throw errors.invalid("SubnetId", subnet.subnetId, "The subnet has no free addresses.");
  }

  /** The Elastic IP address associated with an instance, if any. */
  elasticIpOf(instanceId: string): AddressRecord | undefined {
    return [...this.addresses.values()].find((a) => a.association?.instanceId === instanceId);
  }

  /** An instance's public IPv4 address: its Elastic IP address, or the one from the pool. */
  publicIpOf(instance: InstanceRecord): string | undefined {
    if (instance.state === "terminated") return undefined;
    return this.elasticIpOf(instance.id)?.publicIp ?? instance.publicIp;
  }

  /**
   * Associates an Elastic IP address with an instance: it leaves any other instance, an
   * address the instance had leaves it, and the instance's pool address is released.
   *
   * @param address The address.
   * @param instance The instance.
   * @returns The `eipassoc-` id (the same when already associated with this instance).
   */
  associate(address: AddressRecord, instance: InstanceRecord): string {
    if (address.association?.instanceId === instance.id) return address.association.associationId;
    const previous = this.elasticIpOf(instance.id);
    if (previous) previous.association = undefined;
    instance.publicIp = undefined;
    address.association = { associationId: newId("eipassoc"), instanceId: instance.id };
    return address.association.associationId;
  }

  /**
   * Puts an instance in a state at a time, with what that state brings: the follow-up
   * transition, reasons, a public address on running, the release of addresses on stop and
   * termination, retention once terminated.
   *
   * @param instance The instance.
   * @param state The new state.
   * @param at When it happened (ms).
   * @param reason A reason to show instead of the user-initiated one.
   */
  enter(
    instance: InstanceRecord,
    state: InstanceStateName,
    at: number,
    reason?: StateReason,
  ): void {
    const leaving = instance.state === "stopping" || instance.state === "shutting-down";
    instance.state = state;
    const follows = FOLLOWS[state];
    instance.next = follows && { state: follows[0], at: at + this.options.timing[follows[1]] };
    instance.goneAt = undefined;
    if (state === "pending") {
      instance.launchTime = at;
      instance.stateReason = { code: "pending", message: "pending" };
      instance.transitionReason = "";
    } else if (state === "running") {
      instance.stateReason = undefined;
      instance.transitionReason = "";
      if (instance.subnet.mapPublicIpOnLaunch && !this.elasticIpOf(instance.id)) {
        instance.publicIp ??= ipv4(0x36a00100 + this.#publicCounter++ % 60_000);
      }
    } else if (reason || !leaving || !instance.stateReason) {
      // A stopped or terminated instance keeps the reasons of its stopping or shutting-down.
      instance.stateReason = reason ?? USER_SHUTDOWN;
      const who = reason?.code.startsWith("Server.") ? "Server" : "User";
      const stamp = new Date(at).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "");
      instance.transitionReason = `${who} initiated (${stamp} GMT)`;
    }
    if (state === "stopped" || state === "terminated") instance.publicIp = undefined;
    if (state === "terminated") {
      this.#usedIps.delete(instance.privateIp);
      instance.goneAt = at + this.options.timing.terminatedRetentionMs;
      const address = this.elasticIpOf(instance.id);
      if (address) address.association = undefined;
    }
  }

  /** Makes a due transition of an instance happen no later than a time (a forced stop). */
  hurry(instance: InstanceRecord, at: number): void {
    if (instance.next && instance.next.at > at) instance.next = { ...instance.next, at };
  }

  /**
   * Makes the transitions due by a time happen, in order, and pending images available.
   *
   * @param now The current time (ms).
   */
  refresh(now: number): void {
    for (const instance of this.instances.values()) {
      while (instance.next && instance.next.at <= now) {
        this.enter(instance, instance.next.state, instance.next.at);
      }
    }
    for (const image of this.images.values()) {
      if (image.state === "pending" && now >= image.availableAt) image.state = "available";
    }
  }

  /** Whether an instance has not vanished after its termination. */
  notVanished(instance: InstanceRecord, now: number): boolean {
    return instance.goneAt === undefined || now < instance.goneAt;
  }

  /** Whether the API can see an instance: past the visibility delay and not vanished. */
  isVisible(instance: InstanceRecord, now: number): boolean {
    return now >= instance.visibleAt && this.notVanished(instance, now);
  }

  /**
   * Whether a call naming an instance finds it: visible, or not visible yet in the
   * `"left-out"` form (which only DescribeInstances' answers leave it out of).
   */
  isKnown(instance: InstanceRecord, now: number): boolean {
    return (now >= instance.visibleAt || instance.invisibleAs === "left-out") &&
      this.notVanished(instance, now);
  }

  /**
   * The named instances, each visible (or only left out of DescribeInstances' answers).
   *
   * @param ids Instance ids.
   * @param now The current time (ms).
   * @returns The instances, in the order named (duplicates once).
   * @throws {Ec2Error} `InvalidInstanceID.Malformed` for an id that is none;
   *   `InvalidInstanceID.NotFound` naming every id not visible.
   */
  requireVisible(ids: readonly string[], now: number): InstanceRecord[] {
    const bad = ids.find((id) => !isId(id, "i"));
    if (bad !== undefined) {
      throw new Ec2Error("InvalidInstanceID.Malformed", `Invalid id: "${bad}" (expecting "i-...")`);
    }
    const unique = [...new Set(ids)];
    const missing = unique.filter((id) => {
      const instance = this.instances.get(id);
      return !instance || !this.isKnown(instance, now);
    });
    if (missing.length > 0) throw errors.instancesNotFound(missing);
    return unique.map((id) => this.instances.get(id)!);
  }

  /** A plain view of an instance for tests. */
  instanceView(i: InstanceRecord, now: number): InstanceSnapshot {
    const elastic = this.elasticIpOf(i.id);
    return {
      instanceId: i.id,
      region: this.region,
      state: i.state,
      reservationId: i.reservationId,
      imageId: i.imageId,
      instanceType: i.instanceType,
      clientToken: i.clientToken,
      keyName: i.keyName,
      subnetId: i.subnet.subnetId,
      availabilityZone: this.zoneOf(i.subnet),
      privateIpAddress: i.privateIp,
      publicIpAddress: this.publicIpOf(i),
      elasticIp: elastic?.association && {
        publicIp: elastic.publicIp,
        allocationId: elastic.allocationId,
        associationId: elastic.association.associationId,
      },
      securityGroupIds: i.securityGroups.map((g) => g.groupId),
      tags: Object.fromEntries(i.tags),
      volumeTags: Object.fromEntries(
        i.volumes.map((v) => [v.volumeId!, Object.fromEntries(i.volumeTags)]),
      ),
      userData: i.userData,
      launchTime: new Date(i.launchTime),
      visible: this.isVisible(i, now),
      instanceLifecycle: i.spot ? "spot" : undefined,
      spotInstanceRequestId: i.spot?.requestId,
      spotInstanceType: i.spot?.type,
      iamInstanceProfileArn: i.iamInstanceProfileArn,
      metadataHttpTokens: i.httpTokens,
      blockDevices: i.volumes.map((v) => ({ ...v })),
      rebootCount: i.rebootCount,
      lastRebootAt: i.lastRebootAt === undefined ? undefined : new Date(i.lastRebootAt),
    };
  }

  /** A plain view of an image for tests. */
  imageView(image: ImageRecord): ImageSnapshot {
    const { imageId, name, state, sourceInstanceId } = image;
    return {
      imageId,
      region: this.region,
      name,
      state,
      sourceInstanceId,
      tags: Object.fromEntries(image.tags),
    };
  }

  /** A plain view of an Elastic IP address for tests. */
  addressView(address: AddressRecord): AddressSnapshot {
    return {
      allocationId: address.allocationId,
      publicIp: address.publicIp,
      region: this.region,
      instanceId: address.association?.instanceId,
      associationId: address.association?.associationId,
    };
  }
}
