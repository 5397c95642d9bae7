/**
 * One region of the fixture account: its resources, its instances and their lifecycle, its
 * images, snapshots and Elastic IP addresses.
 *
 * Transitions are not driven by timers: each instance (and image) carries the next state and
 * when it is due, and every read first brings them up to the current time
 * ({@link RegionState.refresh}).
 *
 * @module
 */

import { type AddressRecord, type AddressSnapshot, addressSnapshot } from "./addresses.ts";
import type { SnapshotRecord } from "./ebs.ts";
import {
  ACCOUNT_ID,
  type Fixtures,
  type InstanceProfileFixture,
  type InstanceTypeFixture,
  type SubnetFixture,
  type VpcFixture,
} from "./fixtures.ts";
import { newId } from "./ids.ts";
import { imageView, instanceView } from "./views.ts";
import {
  imageFromFixture,
  type ImageRecord,
  type ImageSnapshot,
  isListed,
  rootSnapshotId,
} from "./images.ts";
import type { InstanceRecord, InstanceSnapshot, Reservation } from "./instance.ts";
import { errors } from "./errors.ts";
import {
  FOLLOWS,
  type InstanceStateName,
  PENDING_REASON,
  type StateReason,
  transitionReason,
  USER_SHUTDOWN_REASON,
} from "./lifecycle.ts";
import { type Cidr, formatIpv4, isAssignable, parseCidr } from "./net.ts";
import type { Timing } from "./options.ts";

/** A region's subnet with its parsed block. */
interface SubnetInfo {
  readonly fixture: SubnetFixture;
  readonly cidr: Cidr;
  nextOffset: number;
}

/** Per-region state of the fixture account. */
export class RegionState {
  /** Region name. */
  readonly region: string;
  /** Fixtures. */
  readonly fixtures: Fixtures;
  /** Lifecycle durations. */
  readonly timing: Timing;
  /** Instances by id, in launch order. */
  readonly instances = new Map<string, InstanceRecord>();
  /** Launches by reservation id. */
  readonly reservations = new Map<string, Reservation>();
  /** Idempotency tokens: what each launched, and a fingerprint of its parameters. */
  readonly tokens = new Map<string, { fingerprint: string; reservationId: string }>();
  /** Tags of fixture resources (groups, subnets, VPCs), by id. */
  readonly resourceTags = new Map<string, Map<string, string>>();
  /** AMIs by id: the fixtures', then CreateImage's in creation order. */
  readonly images = new Map<string, ImageRecord>();
  /** EBS snapshots by id. */
  readonly snapshots = new Map<string, SnapshotRecord>();
  /** Elastic IP addresses by allocation id, in allocation order. */
  readonly addresses = new Map<string, AddressRecord>();
  /** Association ids that existed once (DisassociateAddress is idempotent). */
  readonly pastAssociations = new Set<string>();
  /** Public addresses released by ReleaseAddress (AllocateAddress may recover them). */
  readonly releasedAddresses = new Set<string>();
  /** The account. */
  readonly accountId: string;
  readonly #subnets = new Map<string, SubnetInfo>();
  readonly #usedIps = new Set<string>();
  #seq = 0;
  #publicCounter = 0;
  #elasticCounter = 0;

  /**
   * @param region Region name (from the SigV4 scope).
   * @param fixtures The account's resources.
   * @param timing Lifecycle durations.
   * @param accountId The account (owner of its snapshots).
   */
  constructor(region: string, fixtures: Fixtures, timing: Timing, accountId = ACCOUNT_ID) {
    this.region = region;
    this.fixtures = fixtures;
    this.timing = timing;
    this.accountId = accountId;
    for (const subnet of fixtures.subnets) {
      this.#subnets.set(subnet.subnetId, {
        fixture: subnet,
        cidr: parseCidr(subnet.cidrBlock),
        nextOffset: 10,
      });
    }
    for (const fixture of fixtures.images) {
      this.images.set(fixture.imageId, imageFromFixture(fixture));
      const snapshotId = rootSnapshotId(fixture);
      this.snapshots.set(snapshotId, {
        snapshotId,
        sizeGiB: fixture.rootVolumeSizeGiB,
        description: `Root volume of ${fixture.name}`,
        ownerId: fixture.ownerId,
        tags: new Map(),
      });
    }
    for (const snapshot of fixtures.snapshots) {
      this.snapshots.set(snapshot.snapshotId, {
        snapshotId: snapshot.snapshotId,
        sizeGiB: snapshot.volumeSizeGiB,
        description: snapshot.description,
        ownerId: accountId,
        tags: new Map(),
      });
    }
    for (const address of fixtures.addresses) {
      this.addresses.set(address.allocationId, {
        allocationId: address.allocationId,
        publicIp: address.publicIp,
        tags: new Map(Object.entries(address.tags ?? {})),
        association: undefined,
      });
    }
  }

  /** The next launch sequence number. */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** The Availability Zone name of a subnet in this region. */
  zoneOf(subnet: SubnetFixture): string {
    return `${this.region}${subnet.zone}`;
  }

  /**
   * An AMI by id, whatever its state.
   *
   * @param imageId The id.
   * @returns The image, unless it was never known or is forgotten.
   */
  image(imageId: string): ImageRecord | undefined {
    return this.images.get(imageId);
  }

  /**
   * Whether DescribeImages lists an image now.
   *
   * @param image The image.
   * @param now The current time (ms).
   * @returns true for available and pending images, and recently deregistered ones.
   */
  isImageListed(image: ImageRecord, now: number): boolean {
    return isListed(image, now, this.timing.imageMs);
  }

  /**
   * Whether an instance that has not vanished was launched from an image.
   *
   * @param imageId The image.
   * @param now The current time (ms).
   * @returns true when one was.
   */
  imageInUse(imageId: string, now: number): boolean {
    for (const i of this.instances.values()) {
      if (i.imageId === imageId && this.notVanished(i, now)) return true;
    }
    return false;
  }

  /** An instance profile by name. */
  instanceProfile(name: string): InstanceProfileFixture | undefined {
    return this.fixtures.instanceProfiles.find((p) => p.name === name);
  }

  /** The ARN of an instance profile of the account. */
  instanceProfileArn(profile: InstanceProfileFixture): string {
    const partition = this.region.startsWith("cn-")
      ? "aws-cn"
      : this.region.startsWith("us-gov-")
      ? "aws-us-gov"
      : "aws";
    return `arn:${partition}:iam::${this.accountId}:instance-profile${profile.path}${profile.name}`;
  }

  /** An instance type by name. */
  instanceType(name: string): InstanceTypeFixture | undefined {
    return this.fixtures.instanceTypes.find((t) => t.instanceType === name);
  }

  /** A subnet by id. */
  subnet(subnetId: string): SubnetFixture | undefined {
    return this.#subnets.get(subnetId)?.fixture;
  }

  /** The subnet's parsed block. */
  subnetCidr(subnetId: string): Cidr | undefined {
    return this.#subnets.get(subnetId)?.cidr;
  }

  /** A VPC by id. */
  vpc(vpcId: string): VpcFixture | undefined {
    return this.fixtures.vpcs.find((v) => v.vpcId === vpcId);
  }

  /** The default subnet for a zone (or the first default subnet). */
  defaultSubnet(zone?: string): SubnetFixture | undefined {
    return this.fixtures.subnets.find((s) =>
      s.defaultForAz && (zone === undefined || this.zoneOf(s) === zone)
    );
  }

  /** Whether an address is taken by a non-terminated instance. */
  ipInUse(address: string): boolean {
    return this.#usedIps.has(address);
  }

  /**
   * Reserves a private address in a subnet: the requested one, or the next free one.
   *
   * @param subnetId The subnet.
   * @param requested A specific address (already checked to be assignable and free).
   * @returns The address.
   * @throws {Ec2Error} `InsufficientFreeAddressesInSubnet` when the subnet is full.
   */
  allocatePrivateIp(subnetId: string, requested?: string): string {
    const info = this.#subnets.get(subnetId)!;
    if (requested !== undefined) {
      this.#usedIps.add(requested);
      return requested;
    }
    for (let tries = 0; tries < info.cidr.size; tries++) {
      const offset = info.nextOffset;
      info.nextOffset = offset + 1 >= info.cidr.size - 1 ? 4 : offset + 1;
      const address = formatIpv4(info.cidr.base + offset);
      if (isAssignable(info.cidr, info.cidr.base + offset) && !this.#usedIps.has(address)) {
        this.#usedIps.add(address);
        return address;
      }
    }
    throw errors.invalidValue("SubnetId", subnetId, "The subnet has no free addresses.");
  }

  /** A fresh public IPv4 address from Amazon's pool, for an instance. */
  #allocatePublicIp(): string {
    const n = this.#publicCounter++;
    return formatIpv4(54 * 2 ** 24 + 160 * 2 ** 16 + 256 + (n % 60_000));
  }

  /** A fresh public IPv4 address from Amazon's pool, for AllocateAddress. */
  allocateElasticIp(): string {
    const n = this.#elasticCounter++;
    return formatIpv4(18 * 2 ** 24 + 204 * 2 ** 16 + 256 + (n % 60_000));
  }

  /** An Elastic IP address by its public address. */
  addressByIp(publicIp: string): AddressRecord | undefined {
    for (const address of this.addresses.values()) {
      if (address.publicIp === publicIp) return address;
    }
    return undefined;
  }

  /** The Elastic IP address associated with an instance, if any. */
  elasticIpOf(instanceId: string): AddressRecord | undefined {
    for (const address of this.addresses.values()) {
      if (address.association?.instanceId === instanceId) return address;
    }
    return undefined;
  }

  /** An instance's public IPv4 address: its Elastic IP address, or the one from the pool. */
  publicIpOf(instance: InstanceRecord): string | undefined {
    return this.elasticIpOf(instance.id)?.publicIp ?? instance.publicIp;
  }

  /**
   * Associates an Elastic IP address with an instance's primary interface: the address leaves
   * any other instance, an address the instance had leaves it, and the instance's pool address
   * is released.
   *
   * @param address The address.
   * @param instance The instance.
   * @param privateIp The private address to map to.
   * @returns The `eipassoc-` id (the same when already associated with this instance).
   */
  associate(address: AddressRecord, instance: InstanceRecord, privateIp: string): string {
    const current = address.association;
    if (current?.instanceId === instance.id && current.privateIp === privateIp) {
      return current.associationId;
    }
    if (current) this.disassociate(address);
    const previous = this.elasticIpOf(instance.id);
    if (previous) this.disassociate(previous, false);
    instance.publicIp = undefined;
    const associationId = newId("eipassoc");
    address.association = {
      associationId,
      instanceId: instance.id,
      networkInterfaceId: instance.networkInterfaceId,
      privateIp,
    };
    return associationId;
  }

  /**
   * Ends an address's association; a running instance left without a public address gets a
   * new one from the pool if its subnet gives them.
   *
   * @param address The address.
   * @param readdress Whether the instance gets a pool address (not when another Elastic IP
   *   address replaces this one).
   */
  disassociate(address: AddressRecord, readdress = true): void {
    const association = address.association;
    if (!association) return;
    address.association = undefined;
    this.pastAssociations.add(association.associationId);
    const instance = this.instances.get(association.instanceId);
    if (
      readdress && instance?.state === "running" && instance.subnet.mapPublicIpOnLaunch &&
      instance.publicIp === undefined
    ) {
      instance.publicIp = this.#allocatePublicIp();
    }
  }

  /** Private DNS name of an address (`ip-172-31-0-10.ec2.internal`). */
  privateDnsName(address: string): string {
    const host = `ip-${address.replaceAll(".", "-")}`;
    return this.region === "us-east-1"
      ? `${host}.ec2.internal`
      : `${host}.${this.region}.compute.internal`;
  }

  /** Public DNS name of an address (`ec2-54-160-1-0.compute-1.amazonaws.com`). */
  publicDnsName(address: string): string {
    const host = `ec2-${address.replaceAll(".", "-")}`;
    return this.region === "us-east-1"
      ? `${host}.compute-1.amazonaws.com`
      : `${host}.${this.region}.compute.amazonaws.com`;
  }

  /**
   * Puts an instance in a state at a time, with what that state brings: the follow-up
   * transition, reasons, public address on running, release of addresses on stop and
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
    const previous = instance.state;
    const leaving = previous === "stopping" || previous === "shutting-down";
    instance.state = state;
    const follows = FOLLOWS[state];
    const delay = state === "pending"
      ? this.timing.pendingMs
      : state === "stopping"
      ? this.timing.stoppingMs
      : this.timing.shuttingDownMs;
    instance.next = follows ? { state: follows, at: at + delay } : undefined;
    instance.goneAt = undefined;
    const who = reason?.code.startsWith("Server.") ? "Server" : "User";
    switch (state) {
      case "pending":
        instance.launchTime = at;
        instance.stateReason = PENDING_REASON;
        instance.stateTransitionReason = "";
        break;
      case "running":
        instance.stateReason = undefined;
        instance.stateTransitionReason = "";
        if (
          instance.subnet.mapPublicIpOnLaunch && instance.publicIp === undefined &&
          !this.elasticIpOf(instance.id)
        ) {
          instance.publicIp = this.#allocatePublicIp();
        }
        break;
      default:
        // stopping, stopped, shutting-down, terminated: a shutdown, which a stopped or
        // terminated instance reached through stopping/shutting-down keeps the reasons of.
        if (reason || !leaving || !instance.stateReason) {
          instance.stateReason = reason ?? USER_SHUTDOWN_REASON;
          instance.stateTransitionReason = transitionReason(who, at);
        }
        break;
    }
    if (state === "stopped" || state === "terminated") instance.publicIp = undefined;
    if (state === "terminated") {
      this.#usedIps.delete(instance.privateIp);
      instance.goneAt = at + this.timing.terminatedRetentionMs;
      const address = this.elasticIpOf(instance.id);
      if (address) this.disassociate(address, false);
    } else {
      this.#usedIps.add(instance.privateIp);
    }
  }

  /**
   * Makes a due transition of an instance happen no later than a time (a forced stop).
   *
   * @param instance The instance.
   * @param at The latest time (ms).
   */
  hurry(instance: InstanceRecord, at: number): void {
    if (instance.next && instance.next.at > at) instance.next = { ...instance.next, at };
  }

  /**
   * Records a reboot of an instance (it stays running).
   *
   * @param instance The instance.
   * @param at When (ms).
   */
  reboot(instance: InstanceRecord, at: number): void {
    instance.rebootCount++;
    instance.lastRebootAt = at;
  }

  /**
   * Brings every instance and image up to a time: due transitions happen, in order; images
   * deregistered long enough ago that nothing refers to them are forgotten.
   *
   * @param now The current time (ms).
   */
  refresh(now: number): void {
    for (const instance of this.instances.values()) {
      while (instance.next && instance.next.at <= now) {
        const { state, at } = instance.next;
        this.enter(instance, state, at);
      }
    }
    for (const image of [...this.images.values()]) {
      if (
        image.state === "pending" && image.availableAt !== undefined && now >= image.availableAt
      ) {
        image.state = "available";
      }
      if (
        image.state === "deregistered" && !this.isImageListed(image, now) &&
        !this.imageInUse(image.imageId, now)
      ) {
        this.images.delete(image.imageId);
      }
    }
  }

  /**
   * Whether the API can see an instance: launched longer ago than the visibility delay and
   * not vanished after termination.
   *
   * @param instance The instance.
   * @param now The current time (ms).
   * @returns true when visible.
   */
  isVisible(instance: InstanceRecord, now: number): boolean {
    return now >= instance.visibleAt && this.notVanished(instance, now);
  }

  /**
   * Whether an instance has not vanished: it has no vanishing time, or that time is still ahead.
   *
   * @param instance The instance.
   * @param now The current time (ms).
   * @returns true when not vanished.
   */
  notVanished(instance: InstanceRecord, now: number): boolean {
    return instance.goneAt === undefined || now < instance.goneAt;
  }

  /** Instances the API can see, in launch order. */
  visibleInstances(now: number): InstanceRecord[] {
    return [...this.instances.values()].filter((i) => this.isVisible(i, now));
  }

  /**
   * The named instances, each visible.
   *
   * @param ids Instance ids (well-formed).
   * @param now The current time (ms).
   * @returns The instances, in the order named (duplicates once).
   * @throws {Ec2Error} `InvalidInstanceID.NotFound` naming every id not visible.
   */
  requireVisible(ids: readonly string[], now: number): InstanceRecord[] {
    const unique = [...new Set(ids)];
    const missing = unique.filter((id) => {
      const instance = this.instances.get(id);
      return !instance || !this.isVisible(instance, now);
    });
    if (missing.length > 0) throw errors.instancesNotFound(missing);
    return unique.map((id) => this.instances.get(id)!);
  }

  /**
   * Instances holding capacity (neither stopped nor terminated), optionally of one type.
   *
   * @param instanceType Only this type; all when absent.
   * @returns How many.
   */
  liveCount(instanceType?: string): number {
    let count = 0;
    for (const i of this.instances.values()) {
      const holds = i.state !== "terminated" && i.state !== "stopped";
      if (holds && (!instanceType || i.instanceType === instanceType)) count++;
    }
    return count;
  }

  /**
   * A snapshot of an instance for tests.
   *
   * @param instance The instance.
   * @param now The current time (ms).
   * @returns A plain, detached view.
   */
  snapshot(instance: InstanceRecord, now: number): InstanceSnapshot {
    return instanceView(this, instance, now);
  }

  /**
   * A snapshot of an image for tests.
   *
   * @param image The image.
   * @param now The current time (ms).
   * @returns A plain, detached view.
   */
  imageSnapshot(image: ImageRecord, now: number): ImageSnapshot {
    return imageView(this, image, now);
  }

  /**
   * A snapshot of an Elastic IP address for tests.
   *
   * @param address The address.
   * @returns A plain, detached view.
   */
  addressSnapshot(address: AddressRecord): AddressSnapshot {
    return addressSnapshot(address, this.region);
  }

  /**
   * Finds the tag map of a taggable resource of this region.
   *
   * @param resourceId An instance, volume, AMI, snapshot, Elastic IP allocation, group,
   *   subnet or VPC id.
   * @param now The current time (ms).
   * @returns The live tag map, or undefined when no such (visible) resource exists.
   */
  tagsOf(resourceId: string, now: number): Map<string, string> | undefined {
    const instance = this.instances.get(resourceId);
    if (instance) return this.isVisible(instance, now) ? instance.tags : undefined;
    for (const i of this.instances.values()) {
      if (!this.isVisible(i, now)) continue;
      const device = i.blockDevices.find((d) => d.volumeId === resourceId);
      if (device) return device.tags;
    }
    const image = this.images.get(resourceId);
    if (image) return this.isImageListed(image, now) ? image.tags : undefined;
    const other = this.snapshots.get(resourceId) ?? this.addresses.get(resourceId);
    if (other) return other.tags;
    const known = this.subnet(resourceId) ?? this.vpc(resourceId) ??
      this.fixtures.securityGroups.find((g) => g.groupId === resourceId);
    if (!known) return undefined;
    let tags = this.resourceTags.get(resourceId);
    if (!tags) {
      tags = new Map();
      this.resourceTags.set(resourceId, tags);
    }
    return tags;
  }
}
