/**
 * cancel <deploy_id> <host> <vmid> [<host>]
 *
 * The hard variant of shutdown; prints nothing. Power-off --hard (18) and undeploy --hard (29)
 * force-stop the instance and keep it; anything else terminates it (the LCM state is learned as
 * for shutdown). Returns when the instance is stopped or terminated.
 *
 * @module
 */

import { type ActionRun, runAction } from "../lib/runtime/action.ts";
import { endVm } from "../lib/runtime/end_vm.ts";

/** Runs cancel; returns "". */
export default function cancel(argv: readonly string[], run: ActionRun): Promise<string> {
  return endVm("cancel", argv, true, run);
}

if (import.meta.main) runAction(cancel);
