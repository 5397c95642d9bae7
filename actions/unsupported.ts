/**
 * The actions `one_vmm_sh` can call in OpenNebula 5.x/6.x that EC2 cannot do the OpenNebula
 * way. Each exists in `dist/` so that oned gets a clear failure, never a success for something
 * that was not done (OpenNebula's own EC2 scripts exited 0 here).
 *
 * @module
 */

import { UnsupportedError } from "../lib/errors.ts";
import type { Action } from "../lib/action.ts";

/** Why each action cannot be done on EC2. */
export const UNSUPPORTED_REASONS: Readonly<Record<string, string>> = {
  attach_disk: "EC2 instances use EBS volumes, not OpenNebula datastore images",
  detach_disk: "EC2 instances use EBS volumes, not OpenNebula datastore images",
  attach_nic: "EC2 network interfaces belong to VPC subnets, not OpenNebula virtual networks",
  detach_nic: "EC2 network interfaces belong to VPC subnets, not OpenNebula virtual networks",
  snapshot_create: "use checkpoint, which records the instance as an EC2 image",
  snapshot_revert: "an EC2 instance cannot be reverted in place to an image",
  snapshot_delete: "VM snapshots are not kept by this driver",
  resize_disk: "EC2 instances use EBS volumes, not OpenNebula datastore images",
  resize: "change the instance type by redeploying the VM with another INSTANCETYPE",
  prereconfigure:
    "the context CD-ROM of OpenNebula does not exist on EC2 (context goes in user data)",
  reconfigure: "the context CD-ROM of OpenNebula does not exist on EC2 (context goes in user data)",
  update_sg: "OpenNebula security groups are not EC2 security groups (use SECURITYGROUPIDS)",
  migrate_local: "there is nothing local to migrate on EC2",
};

/**
 * The action for a name EC2 cannot do: it always fails with a message that says why.
 *
 * @param name The action's name.
 * @returns An action that throws `UnsupportedError`.
 */
export function unsupported(name: string): Action {
  const reason = UNSUPPORTED_REASONS[name] ?? "this provider cannot do it";
  return () =>
    Promise.reject(
      new UnsupportedError(`Action ${name} is not supported by the EC2 driver: ${reason}`),
    );
}
