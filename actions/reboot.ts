/**
 * reboot <deploy_id> <host> <vmid> [<host>]
 *
 * Reboots the instance in place (EC2 RebootInstances: an orderly restart of the guest, same
 * instance, same addresses); prints nothing. A stopped or terminated instance fails with
 * EC2's `IncorrectInstanceState`.
 *
 * @module
 */

import { type ActionRun, runAction } from "../lib/runtime/action.ts";
import { parseVmArgs } from "../lib/opennebula/args.ts";
import { openHost } from "../lib/runtime/host.ts";

/** Runs reboot; returns "". */
export default async function reboot(argv: readonly string[], run: ActionRun): Promise<string> {
  const args = parseVmArgs("reboot", argv);
  const { provider } = await openHost(args.host, `reboot of VM ${args.vmId}`, run);
  await provider.reboot(args.deployId);
  return "";
}

if (import.meta.main) runAction(reboot);
