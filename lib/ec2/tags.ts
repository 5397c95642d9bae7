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

/**
 * The tags of an instance launched for an OpenNebula VM: ownership tags, a `Name` unless the
 * template sets one, and the template's own tags.
 *
 * @param vmId OpenNebula VM id.
 * @param host OpenNebula host name.
 * @param vmName The VM's name in OpenNebula, when known.
 * @param userTags Tags from the template's `TAGS`.
 * @returns Tags as key/value pairs, ownership tags first.
 */
export function instanceTags(
  vmId: number,
  host: string,
  vmName: string | undefined,
  userTags: Readonly<Record<string, string>>,
): { Key: string; Value: string }[] {
  const tags: Record<string, string> = {
    [VM_ID_TAG]: String(vmId),
    [HOST_TAG]: host,
    [DRIVER_TAG]: DRIVER_NAME,
  };
  if (!("Name" in userTags)) {
    tags.Name = vmName ? `one-${vmId}-${vmName}`.slice(0, 256) : `one-${vmId}`;
  }
  Object.assign(tags, userTags);
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * DescribeInstances filters that select this driver's instances for one OpenNebula host.
 *
 * @param host OpenNebula host name.
 * @returns Filters for the `Filters` parameter.
 */
export function ownedByHostFilters(host: string): { Name: string; Values: string[] }[] {
  return [
    { Name: `tag:${DRIVER_TAG}`, Values: [DRIVER_NAME] },
    { Name: `tag:${HOST_TAG}`, Values: [host] },
  ];
}
