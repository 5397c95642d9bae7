/**
 * The ownership tags the driver puts on every instance it launches (in the RunInstances call
 * itself), and the filters that find them again. Defined once, used by launch and by lookups.
 *
 * @module
 */

/** Tag key holding the OpenNebula VM id. */
export const VM_ID_TAG = "opennebula:vm-id";
/** Tag key holding the OpenNebula host name the VM was deployed to. */
export const HOST_TAG = "opennebula:host";
/** Tag key marking instances launched by this driver; its value names the driver. */
export const DRIVER_TAG = "opennebula:driver";
/** Value of `DRIVER_TAG`. */
export const DRIVER_NAME = "one-hybrid";
/** Prefix reserved for the driver's own tags; templates may not use it. */
export const RESERVED_TAG_PREFIX = "opennebula:";

/** Tag key holding the idempotency token of the launch that made the instance. */
export const TOKEN_TAG = "opennebula:launch-token";

/**
 * Tag key in which OpenNebula's built-in EC2 driver (4.x–6.10, `ec2_driver.rb`'s deploy)
 * recorded the VM id of each instance it launched, once the instance existed.
 */
export const BUILTIN_VM_ID_TAG = "ONE_ID";

/** Longest tag value EC2 accepts. */
const MAX_TAG_VALUE_LENGTH = 256;

/**
 * The tags of an instance launched for an OpenNebula VM: ownership tags (VM id, host, driver,
 * launch token), a `Name` unless the template sets one, and the template's own tags. Values
 * longer than EC2 accepts (a very long host or VM name) are cut, the same way every time, so
 * lookups compare what EC2 stored.
 *
 * @param vmId OpenNebula VM id.
 * @param host OpenNebula host name.
 * @param vmName The VM's name in OpenNebula, when known.
 * @param userTags Tags from the template's `TAGS`.
 * @param token The launch's idempotency token.
 * @returns Tags as key/value pairs, ownership tags first.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { instanceTags } from "./tags.ts";
 * const tags = instanceTags(7, "h".repeat(300), "web", {}, "one-7-abc");
 * assert.deepEqual(tags.map((t) => t.Key), [
 *   "opennebula:vm-id", "opennebula:host", "opennebula:driver", "opennebula:launch-token", "Name",
 * ]);
 * assert.equal(tags[1]?.Value.length, 256);
 * ```
 */
export function instanceTags(
  vmId: number,
  host: string,
  vmName: string | undefined,
  userTags: Readonly<Record<string, string>>,
  token: string,
): { Key: string; Value: string }[] {
  const tags: Record<string, string> = Object.fromEntries(
    ownershipTags(vmId, host).map((t) => [t.Key, t.Value]),
  );
  tags[TOKEN_TAG] = token;
  if (!("Name" in userTags)) {
    tags.Name = tagValue(vmName ? `one-${vmId}-${vmName}` : `one-${vmId}`);
  }
  Object.assign(tags, userTags);
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * The tags that mark an instance as this driver's, for a VM on a host: VM id, host, driver.
 * A launch adds its token ({@link instanceTags}); an instance another driver launched is
 * adopted with these alone, in one CreateTags, so that no instance is ever marked as this
 * driver's without its VM.
 *
 * @param vmId OpenNebula VM id.
 * @param host OpenNebula host name.
 * @returns Tags as key/value pairs.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ownershipTags } from "./tags.ts";
 * assert.deepEqual(ownershipTags(40, "aws"), [
 *   { Key: "opennebula:vm-id", Value: "40" },
 *   { Key: "opennebula:host", Value: "aws" },
 *   { Key: "opennebula:driver", Value: "one-hybrid" },
 * ]);
 * ```
 */
export function ownershipTags(vmId: number, host: string): { Key: string; Value: string }[] {
  return [
    { Key: VM_ID_TAG, Value: String(vmId) },
    { Key: HOST_TAG, Value: tagValue(host) },
    { Key: DRIVER_TAG, Value: DRIVER_NAME },
  ];
}

/**
 * A value as EC2 stores it as a tag: cut to its 256-character limit.
 *
 * @param value Any text.
 * @returns The text, at most 256 characters.
 */
export function tagValue(value: string): string {
  return value.length > MAX_TAG_VALUE_LENGTH ? value.slice(0, MAX_TAG_VALUE_LENGTH) : value;
}

/** The EC2 states of an instance that still exists (can run again). */
export const LIVE_STATES: readonly string[] = ["pending", "running", "stopping", "stopped"];

/**
 * DescribeInstances filters that select the live instances this driver launched for one
 * OpenNebula VM. Endpoints may ignore filters: callers check the tags again themselves.
 *
 * @param vmId OpenNebula VM id.
 * @returns Filters for the `Filters` parameter.
 */
export function launchedForVmFilters(vmId: number): { Name: string; Values: string[] }[] {
  return [
    { Name: `tag:${VM_ID_TAG}`, Values: [String(vmId)] },
    { Name: `tag:${DRIVER_TAG}`, Values: [DRIVER_NAME] },
    { Name: "instance-state-name", Values: [...LIVE_STATES] },
  ];
}

/**
 * DescribeInstances filters that select the pending and running instances this driver
 * launched for one OpenNebula host: what holds the host's capacity. Endpoints may ignore
 * filters: callers check the tags again themselves.
 *
 * @param host OpenNebula host name.
 * @returns Filters for the `Filters` parameter.
 */
export function heldByHostFilters(host: string): { Name: string; Values: string[] }[] {
  return [
    { Name: `tag:${HOST_TAG}`, Values: [tagValue(host)] },
    { Name: `tag:${DRIVER_TAG}`, Values: [DRIVER_NAME] },
    { Name: "instance-state-name", Values: ["pending", "running"] },
  ];
}
