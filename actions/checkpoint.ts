/**
 * checkpoint <deploy_id> <checkpoint_file> <host> <vmid> [<host>]
 *
 * Records the running VM without stopping it: an EC2 image (AMI) of the instance taken
 * without reboot (CreateImage NoReboot, so file systems are crash-consistent, not quiesced),
 * tagged with the VM id, and a checkpoint file naming it (`kind: checkpoint`, `imageId`).
 * Prints nothing. It returns once EC2 accepted the image; the image becomes available some
 * minutes later. OpenNebula 3.2 sends CHECKPOINT but its driver layer drops it; operators can
 * run it by hand.
 *
 * @module
 */

import { type ActionRun, runAction } from "../lib/runtime/action.ts";
import { parseSaveArgs } from "../lib/opennebula/args.ts";
import { writeCheckpoint } from "../lib/opennebula/checkpoint.ts";
import { openHost } from "../lib/runtime/host.ts";

/** Runs checkpoint; returns "". */
export default async function checkpoint(argv: readonly string[], run: ActionRun): Promise<string> {
  const args = parseSaveArgs("checkpoint", argv);
  const { provider } = await openHost(args.host, `checkpoint of VM ${args.vmId}`, run);
  const instance = await provider.describe(args.deployId);
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const imageId = await provider.snapshot(
    args.deployId,
    `one-${args.vmId}-checkpoint-${stamp}`,
    args.vmId,
  );
  await writeCheckpoint(args.checkpointFile, {
    kind: "checkpoint",
    deployId: args.deployId,
    host: args.host,
    vmId: args.vmId,
    location: provider.locationLabel,
    state: instance.nativeState,
    imageId,
  });
  return "";
}

if (import.meta.main) runAction(checkpoint);
