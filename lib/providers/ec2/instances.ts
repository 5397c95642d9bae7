/**
 * Flattens an EC2 instance description into the driver's `Instance`, in one place.
 *
 * @module
 */

import type { Instance as Ec2Instance } from "@aws-sdk/client-ec2";
import type { Instance, InstanceState, ListedInstance } from "../../core/provider.ts";
import { instanceTypeSize } from "./instance_types.ts";
import { BUILTIN_VM_ID_TAG, DRIVER_NAME, DRIVER_TAG, HOST_TAG, VM_ID_TAG } from "./tags.ts";

/**
 * Each EC2 state in provider-neutral words: `shutting-down` is `terminating`; the others keep
 * their names. Anything else is `unknown`.
 */
export const STATE_MAP: Readonly<Record<string, InstanceState>> = {
  pending: "pending",
  running: "running",
  stopping: "stopping",
  stopped: "stopped",
  "shutting-down": "terminating",
  terminated: "terminated",
};

/**
 * An instance known only by its id and an EC2 state (as a state-change answer gives it).
 *
 * @param id The instance id.
 * @param nativeState EC2's state name.
 * @returns The instance, with that state as its only fact.
 */
export function instanceIn(id: string, nativeState: string): Instance {
  return {
    id,
    state: STATE_MAP[nativeState] ?? "unknown",
    nativeState,
    facts: { STATE: nativeState },
  };
}

/**
 * Converts an SDK instance into the driver's `Instance`.
 *
 * @param source One element of `Reservations[].Instances` or `RunInstances`' `Instances`.
 * @returns The flattened instance; facts with empty values are left out.
 */
export function toInstance(source: Ec2Instance): Instance {
  const state = source.State?.Name ?? "unknown";
  const facts: Record<string, string> = {};
  const put = (key: string, value: string | undefined | null) => {
    if (value !== undefined && value !== null && value !== "") facts[key] = value;
  };
  put("STATE", state);
  put("INSTANCE_TYPE", source.InstanceType);
  put("IMAGE_ID", source.ImageId);
  put("PUBLIC_IP_ADDRESS", source.PublicIpAddress);
  put("PRIVATE_IP_ADDRESS", source.PrivateIpAddress);
  put("PUBLIC_DNS_NAME", source.PublicDnsName);
  put("PRIVATE_DNS_NAME", source.PrivateDnsName);
  put("AVAILABILITY_ZONE", source.Placement?.AvailabilityZone);
  put("SUBNET_ID", source.SubnetId);
  put("VPC_ID", source.VpcId);
  put(
    "SECURITY_GROUPS",
    source.SecurityGroups?.map((g) => g.GroupId ?? g.GroupName).filter(Boolean).join(","),
  );
  put("KEY_NAME", source.KeyName);
  put("INSTANCE_LIFECYCLE", source.InstanceLifecycle);
  put("LAUNCH_TIME", source.LaunchTime?.toISOString());
  put("STATE_REASON", source.StateReason?.Code);
  const memoryMiB = source.InstanceType
    ? instanceTypeSize(source.InstanceType)?.memoryMiB
    : undefined;
  const owner = vmIdOf(source.Tags?.find((t) => t.Key === VM_ID_TAG)?.Value);
  const marked = source.Tags?.some((t) => t.Key === DRIVER_TAG && t.Value === DRIVER_NAME);
  const host = marked ? source.Tags?.find((t) => t.Key === HOST_TAG)?.Value : undefined;
  return {
    id: source.InstanceId ?? "",
    state: STATE_MAP[state] ?? "unknown",
    nativeState: state,
    ...(owner !== undefined ? { ownerVmId: owner } : {}),
    ...(host !== undefined ? { ownerHost: host } : {}),
    ...(memoryMiB ? { memoryKiB: memoryMiB * 1024 } : {}),
    ...(source.InstanceType ? { size: source.InstanceType } : {}),
    facts,
  };
}

/** A VM id as a tag holds it: digits only, at most 10 of them. */
function vmIdOf(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,10}$/.test(value) ? Number(value) : undefined;
}

/**
 * Converts an SDK instance into a host listing's entry: the instance, plus its name, who
 * launched it (this driver, or for an instance it has not marked, the VM OpenNebula's built-in
 * EC2 driver recorded in `ONE_ID`), its size, and the EC2 section that would launch it again
 * (for importing a wild instance).
 *
 * @param source One element of `Reservations[].Instances`.
 * @returns The entry.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toListedInstance } from "./instances.ts";
 * const listed = toListedInstance({
 *   InstanceId: "i-0123456789abcdef0",
 *   State: { Name: "running" },
 *   InstanceType: "t3.micro",
 *   ImageId: "ami-0abcdef1234567890",
 *   CpuOptions: { CoreCount: 1, ThreadsPerCore: 2 },
 *   Tags: [{ Key: "Name", Value: "build-box" }],
 * });
 * assert.equal(listed.name, "build-box");
 * assert.equal(listed.launchedByDriver, false);
 * assert.equal(listed.vcpus, 2);
 * assert.deepEqual(listed.sectionAttributes, { AMI: "ami-0abcdef1234567890", INSTANCETYPE: "t3.micro" });
 * ```
 */
export function toListedInstance(source: Ec2Instance): ListedInstance {
  const tag = (key: string) => source.Tags?.find((t) => t.Key === key)?.Value;
  const launchedByDriver = tag(DRIVER_TAG) === DRIVER_NAME;
  const recordedVmId = launchedByDriver ? undefined : vmIdOf(tag(BUILTIN_VM_ID_TAG));
  const name = tag("Name");
  const cores = source.CpuOptions?.CoreCount;
  const threads = source.CpuOptions?.ThreadsPerCore ?? 1;
  const section: Record<string, string> = {};
  if (source.ImageId) section.AMI = source.ImageId;
  if (source.InstanceType) section.INSTANCETYPE = source.InstanceType;
  return {
    ...toInstance(source),
    launchedByDriver,
    ...(name ? { name } : {}),
    ...(cores ? { vcpus: cores * threads } : {}),
    ...(source.LaunchTime ? { launchedAt: Math.floor(source.LaunchTime.getTime() / 1000) } : {}),
    ...(recordedVmId !== undefined ? { recordedVmId } : {}),
    sectionAttributes: section,
  };
}
