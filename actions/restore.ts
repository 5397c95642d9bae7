/**
 * restore <checkpoint_file> <host> <vmid> [<host>]                (OpenNebula 3.2)
 * restore <checkpoint_file> <host> <deploy_id> <vmid> [<host>]    (4.x and later)
 *
 * Resumes a saved VM: starts the stopped instance and returns when it runs; prints nothing.
 * The instance comes from the deploy id when OpenNebula passes one, else from the checkpoint
 * file save wrote. When both are there they must agree; the file must have been written for
 * this VM, and the instance must not be tagged as another VM's. Restored on another host of the
 * same location (OpenNebula 7.x's cold migration is a save, then a restore on the new host), the
 * instance's host mark follows the VM.
 *
 * @module
 */

import { type ActionRun, runAction } from "../lib/runtime/action.ts";
import { InvalidInputError } from "../lib/util/errors.ts";
import { InputLimitError } from "../lib/util/file_errors.ts";
import { checkOwner, followHost } from "../lib/core/lifecycle.ts";
import { parseRestoreArgs } from "../lib/opennebula/args.ts";
import { type Checkpoint, readCheckpoint } from "../lib/opennebula/checkpoint.ts";
import { openHost } from "../lib/runtime/host.ts";

/** Runs restore; returns "". */
export default async function restore(argv: readonly string[], run: ActionRun): Promise<string> {
  const args = parseRestoreArgs(argv);
  let checkpoint: Checkpoint | undefined;
  try {
    checkpoint = await readCheckpoint(args.checkpointFile);
  } catch (error) {
    // With the deploy id given (4.x+), a missing or foreign file does not matter; a huge or
    // endless one is not a checkpoint at all and is reported.
    if (!args.deployId || (error as Error).cause instanceof InputLimitError) throw error;
  }
  const deployId = args.deployId ?? checkpoint!.deployId;
  if (checkpoint && checkpoint.deployId !== deployId) {
    throw new InvalidInputError(
      `Cannot restore VM ${args.vmId}: checkpoint file ${args.checkpointFile} names ${checkpoint.deployId} but OpenNebula restores ${deployId}`,
    );
  }
  if (checkpoint && checkpoint.vmId !== args.vmId) {
    throw new InvalidInputError(
      `Cannot restore VM ${args.vmId}: checkpoint file ${args.checkpointFile} was written for VM ${checkpoint.vmId}`,
    );
  }
  const { provider } = await openHost(args.host, `restore of VM ${args.vmId}`, run);
  const instance = await provider.describe(deployId);
  checkOwner(instance, args.vmId, `restore VM ${args.vmId}`);
  await followHost(provider, instance, args.host, args.vmId);
  await provider.resume(deployId);
  return "";
}

if (import.meta.main) runAction(restore);
