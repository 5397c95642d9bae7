/**
 * cancel <deploy_id> <host> <vmid> [<host>]
 *
 * Terminates the VM's instance at once; prints nothing. An instance already terminated or
 * unknown to the cloud is success (oned retries).
 *
 * @module
 */

import { runAction } from "../lib/action.ts";
import { loadHostSettings } from "../lib/config.ts";
import { terminateIfPresent } from "../lib/lifecycle.ts";
import { parseVmArgs } from "../lib/opennebula/args.ts";
import { openProvider } from "../lib/providers.ts";

/** Runs cancel; returns "". */
export default async function cancel(argv: readonly string[]): Promise<string> {
  const args = parseVmArgs("cancel", argv);
  const provider = openProvider(await loadHostSettings(args.host));
  await terminateIfPresent(provider, args.deployId);
  return "";
}

if (import.meta.main) runAction(cancel);
