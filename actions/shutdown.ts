/**
 * shutdown <deploy_id> <host> <vmid> [<host>]
 *
 * Terminates the VM's instance; prints nothing. An instance already terminated or unknown to
 * the cloud is success (oned retries). stdin (OpenNebula 5.0+): the action data, read and
 * drained.
 *
 * @module
 */

import { runAction } from "../lib/action.ts";
import { loadHostSettings } from "../lib/config.ts";
import { terminateIfPresent } from "../lib/lifecycle.ts";
import { parseVmArgs } from "../lib/opennebula/args.ts";
import { openProvider } from "../lib/providers.ts";

/** Runs shutdown; returns "". */
export default async function shutdown(argv: readonly string[]): Promise<string> {
  const args = parseVmArgs("shutdown", argv);
  const provider = openProvider(await loadHostSettings(args.host));
  await terminateIfPresent(provider, args.deployId);
  return "";
}

if (import.meta.main) runAction(shutdown);
