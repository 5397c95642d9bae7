/**
 * shutdown and cancel: both end a VM's run on its host. Why they were sent comes from the VM's
 * LCM state in the action data (OpenNebula 5.0+): for a power-off or an undeploy the instance is
 * stopped and kept, otherwise it is terminated. cancel is the hard variant (a forced stop).
 * Without action data (3.2–4.x) both terminate, as those versions only send them to end a VM.
 *
 * @module
 */

import { readActionData } from "./opennebula/action_data.ts";
import { parseVmArgs } from "./opennebula/args.ts";
import { keepsInstance } from "./opennebula/lcm.ts";
import { powerOffVm, terminateVm } from "./lifecycle.ts";
import { openHost } from "./providers.ts";

/**
 * Runs shutdown or cancel.
 *
 * @param action `shutdown` or `cancel`.
 * @param argv `<deploy_id> <host> <vmid> [<host>]`.
 * @param hard Whether a power-off skips the guest's orderly shutdown.
 * @returns "" (nothing to print).
 */
export async function endVm(
  action: string,
  argv: readonly string[],
  hard: boolean,
): Promise<string> {
  const args = parseVmArgs(action, argv);
  const data = await readActionData();
  const { provider } = await openHost(args.host, `${action} of VM ${args.vmId}`);
  if (keepsInstance(data?.lcmState)) await powerOffVm(provider, args.deployId, hard);
  else await terminateVm(provider, args.deployId);
  return "";
}
