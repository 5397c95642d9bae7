/**
 * shutdown and cancel: both end a VM's run on its host. Why they were sent is the VM's LCM
 * state: for a power-off or an undeploy the instance is stopped and kept, otherwise it is
 * terminated. cancel is the hard variant (a forced stop). OpenNebula 5.0+ sends the state in
 * the action data on stdin. 3.2–4.x send nothing, and from 3.8 they send the same actions to
 * terminate, power off and undeploy: then the state is asked of oned over XML-RPC, and when it
 * cannot be learned the action fails and leaves the instance alone rather than guess. A VM
 * whose deploy never returned an id (`onevm recover --delete`) has the instances launched for
 * it found by their tags and terminated.
 *
 * @module
 */

import type { ActionRun } from "./action.ts";
import { readActionData } from "../opennebula/action_data.ts";
import { parseEndArgs } from "../opennebula/args.ts";
import { InvalidInputError } from "../util/errors.ts";
import type { PowerOffReason, Provider } from "../core/provider.ts";
import { powerOffReason } from "../opennebula/lcm.ts";
import { openHost } from "./host.ts";

/**
 * Runs shutdown or cancel.
 *
 * @param action `shutdown` or `cancel`.
 * @param argv `<deploy_id> <host> <vmid> [<host>]`.
 * @param hard Whether a power-off skips the guest's orderly shutdown.
 * @param run The action's run.
 * @returns "" (nothing to print).
 */
export async function endVm(
  action: string,
  argv: readonly string[],
  hard: boolean,
  run: ActionRun,
): Promise<string> {
  const args = parseEndArgs(action, argv);
  const data = await readActionData();
  const { provider } = await openHost(args.host, `${action} of VM ${args.vmId}`, run);
  const reason = data
    ? powerOffReason(data.lcmState)
    : await (await import("../opennebula/oned_lcm.ts")).powerOffReasonByOned(
      action,
      args.vmId,
      args.deployId || "(no deploy id)",
    );
  if (!args.deployId) return await endUnnamed(provider, action, args.vmId, args.host, reason);
  if (reason) await provider.powerOff(args.deployId, { hard, reason });
  else await provider.terminate(args.deployId);
  return "";
}

/**
 * Ends a VM whose deploy never returned an id (it failed or was killed after the launch): the
 * instances the driver launched for it on this host are found by their tags and terminated.
 */
async function endUnnamed(
  provider: Provider,
  action: string,
  vmId: number,
  host: string,
  reason: PowerOffReason | undefined,
): Promise<string> {
  if (reason) {
    throw new InvalidInputError(
      `Cannot ${action} VM ${vmId}: OpenNebula has no deploy id for it, so there is no instance to power off or undeploy`,
    );
  }
  for (const instance of await provider.findLaunched(vmId, host)) {
    await provider.terminate(instance.id);
  }
  return "";
}
