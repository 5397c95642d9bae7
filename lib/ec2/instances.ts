/**
 * Flattens an EC2 instance description into the driver's `Instance`, in one place.
 *
 * @module
 */

import type { Instance as Ec2Instance } from "@aws-sdk/client-ec2";
import type { Instance, VmState } from "../provider.ts";
import { instanceTypeSize } from "./instance_types.ts";
import { VM_ID_TAG } from "./tags.ts";

/**
 * How each EC2 state reads to OpenNebula (`STATE=` of a poll):
 * - `pending`, `running`: `a`, the VM is active (booting counts as active, as for a local hypervisor);
 * - `stopping`, `stopped`: `p`, the instance and its disks still exist and can start again;
 *   `d` would make OpenNebula 3.2 drop the VM;
 * - `shutting-down`, `terminated`: `d`, the instance is gone for good;
 * - anything else: `-`, unknown, so OpenNebula changes nothing.
 */
export const STATE_MAP: Readonly<Record<string, VmState>> = {
  pending: "a",
  running: "a",
  stopping: "p",
  stopped: "p",
  "shutting-down": "d",
  terminated: "d",
};

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
  const size = source.InstanceType ? instanceTypeSize(source.InstanceType) : undefined;
  const owner = source.Tags?.find((t) => t.Key === VM_ID_TAG)?.Value;
  return {
    id: source.InstanceId ?? "",
    state,
    vmState: STATE_MAP[state] ?? "-",
    ...(owner !== undefined && /^\d{1,10}$/.test(owner) ? { ownerVmId: Number(owner) } : {}),
    ...(size ? { memoryKiB: size.memoryMiB * 1024 } : {}),
    facts,
  };
}
