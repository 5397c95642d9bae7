/**
 * shutdown <deploy_id> <host> <vmid> [<host>]
 *
 * Ends the VM's run; prints nothing. The VM's LCM state says why: power-off (18) and undeploy
 * (29) stop the instance and keep it; anything else terminates it. The state comes from the
 * action data on stdin (OpenNebula 5.0+), or else from oned over XML-RPC (3.2–4.x), and the
 * action fails, touching nothing, when oned cannot tell. Returns when the instance is stopped
 * or terminated. An instance already terminated or unknown to the cloud counts as terminated.
 *
 * @module
 */

import { type ActionRun, runAction } from "../lib/runtime/action.ts";
import { endVm } from "../lib/runtime/end_vm.ts";

/** Runs shutdown; returns "". */
export default function shutdown(argv: readonly string[], run: ActionRun): Promise<string> {
  return endVm("shutdown", argv, false, run);
}

if (import.meta.main) runAction(shutdown);
