/**
 * save <deploy_id> <checkpoint_file> <host> <vmid> [<host>]
 *
 * Suspends the VM to the cloud: stops the instance (keeping it and its disks) and writes the
 * checkpoint file that lets restore find it (see `lib/opennebula/checkpoint.ts`); prints
 * nothing. The file is written before the instance is stopped, so a save that fails half-way
 * can still be restored. Returns when the instance is stopped.
 *
 * @module
 */

import { type ActionRun, runAction } from "../lib/runtime/action.ts";
import { parseSaveArgs } from "../lib/opennebula/args.ts";
import { writeCheckpoint } from "../lib/opennebula/checkpoint.ts";
import { openHost } from "../lib/runtime/host.ts";

/** Runs save; returns "". */
export default async function save(argv: readonly string[], run: ActionRun): Promise<string> {
  const args = parseSaveArgs("save", argv);
  const { provider } = await openHost(args.host, `save of VM ${args.vmId}`, run);
  const record = {
    kind: "save" as const,
    deployId: args.deployId,
    host: args.host,
    vmId: args.vmId,
    location: provider.locationLabel,
  };
  const before = await provider.describe(args.deployId);
  await writeCheckpoint(args.checkpointFile, { ...record, state: before.nativeState });
  const stopped = await provider.powerOff(args.deployId, { hard: false, reason: "suspend" });
  await writeCheckpoint(args.checkpointFile, { ...record, state: stopped.nativeState });
  return "";
}

if (import.meta.main) runAction(save);
