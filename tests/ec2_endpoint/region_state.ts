/**
 * One region of the fixture account: its resources, its instances and their lifecycle.
 *
 * Transitions are not driven by timers: each instance carries the next state and when it is
 * due, and every read first brings instances up to the current time ({@link RegionState.refresh}).
 *
 * @module
 */

import type {
  Fixtures,
  ImageFixture,
  InstanceTypeFixture,
  SubnetFixture,
  VpcFixture,
} from "./fixtures.ts";
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
  /** Tags of fixture resources (AMIs, groups, subnets, VPCs), by id. */
  readonly resourceTags = new Map<string, Map<string, string>>();
  readonly #subnets = new Map<string, SubnetInfo>();
  readonly #usedIps = new Set<string>();
  #seq = 0;
  #publicCounter = 0;

  /**
   * @param region Region name (from the SigV4 scope).
   * @param fixtures The account's resources.
   * @param timing Lifecycle durations.
   */
  constructor(region: string, fixtures: Fixtures, timing: Timing) {
    this.region = region;
    this.fixtures = fixtures;
    this.timing = timing;
    for (const subnet of fixtures.subnets) {
      this.#subnets.set(subnet.subnetId, {
        fixture: subnet,
        cidr: parseCidr(subnet.cidrBlock),
        nextOffset: 10,
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

  /** An AMI by id. */
  image(imageId: string): ImageFixture | undefined {
    return this.fixtures.images.find((i) => i.imageId === imageId);
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

  /** A fresh public IPv4 address. */
  #allocatePublicIp(): string {
    const n = this.#publicCounter++;
    return formatIpv4(54 * 2 ** 24 + 160 * 2 ** 16 + 256 + (n % 60_000));
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
        if (instance.subnet.mapPublicIpOnLaunch && instance.publicIp === undefined) {
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
    } else {
      this.#usedIps.add(instance.privateIp);
    }
  }

  /**
   * Brings every instance up to a time: due transitions happen, in order.
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
    return now >= instance.visibleAt && (instance.goneAt === undefined || now < instance.goneAt);
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
    return {
      instanceId: instance.id,
      region: this.region,
      state: instance.state,
      reservationId: instance.reservationId,
      imageId: instance.imageId,
      instanceType: instance.instanceType,
      clientToken: instance.clientToken,
      keyName: instance.keyName,
      subnetId: instance.subnet.subnetId,
      availabilityZone: instance.availabilityZone,
      privateIpAddress: instance.privateIp,
      publicIpAddress: instance.publicIp,
      securityGroupIds: instance.securityGroups.map((g) => g.groupId),
      tags: Object.fromEntries(instance.tags),
      volumeTags: Object.fromEntries(
        instance.blockDevices.map((d) => [d.volumeId, Object.fromEntries(d.tags)]),
      ),
      userData: instance.userData,
      launchTime: new Date(instance.launchTime),
      visible: this.isVisible(instance, now),
    };
  }

  /**
   * Finds the tag map of a taggable resource of this region.
   *
   * @param resourceId An instance, volume, AMI, group, subnet or VPC id.
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
    const known = this.image(resourceId) ?? this.subnet(resourceId) ?? this.vpc(resourceId) ??
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
