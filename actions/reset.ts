/**
 * reset <deploy_id> <host> <vmid> [<host>]
 *
 * A hard restart. EC2 has no reset button, so this force-stops the instance (no guest
 * shutdown), waits until it is stopped, starts it again and returns when it runs; prints
 * nothing. The instance and its EBS disks stay; like any EC2 stop/start it may move to other
 * hardware and gets a new public IP unless it has an Elastic IP.
 *
 * @module
 */

import { type ActionRun, runAction } from "../lib/runtime/action.ts";
import { parseVmArgs } from "../lib/opennebula/args.ts";
import { openHost } from "../lib/runtime/host.ts";

/** Runs reset; returns "". */
export default async function reset(argv: readonly string[], run: ActionRun): Promise<string> {
  const args = parseVmArgs("reset", argv);
  const { provider } = await openHost(args.host, `reset of VM ${args.vmId}`, run);
  await provider.reset(args.deployId);
  return "";
}

if (import.meta.main) runAction(reset);
