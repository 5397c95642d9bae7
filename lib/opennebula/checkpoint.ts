/**
 * The checkpoint file save and checkpoint write and restore reads. OpenNebula names the path;
 * its content is the driver's own: a small JSON document that lets restore find the VM's
 * instance again, even under OpenNebula 3.2, whose restore is not given the deploy id.
 *
 * ```json
 * {"format":"one-hybrid-checkpoint","version":1,"kind":"save","deployId":"i-0123456789abcdef0",
 *  "host":"aws-us-east-1","vmId":42,"location":"region us-east-1","state":"stopped",
 *  "imageId":"ami-...","writtenAt":"2026-11-25T21:00:00.000Z"}
 * ```
 *
 * `kind` is `save` (the instance was stopped) or `checkpoint` (an image was taken of the
 * running instance; `imageId` names it). `state` is the instance's state when written.
 *
 * @module
 */

import { writeTextAtomically } from "../util/atomic_write.ts";
import { readBoundedText } from "../util/bounded_read.ts";
import { InvalidInputError } from "../util/errors.ts";
import { fileErrorReason } from "../util/file_errors.ts";
import { parseJson } from "../util/json.ts";

/** Value of the `format` field. */
const CHECKPOINT_FORMAT = "one-hybrid-checkpoint";

/** The largest checkpoint file read, in bytes (the driver writes about 300). */
const MAX_CHECKPOINT_FILE_BYTES = 1024 * 1024;

/** What a checkpoint file records. */
export interface Checkpoint {
  /** `save` or `checkpoint`. */
  readonly kind: "save" | "checkpoint";
  /** The instance's deploy id. */
  readonly deployId: string;
  /** OpenNebula host name. */
  readonly host: string;
  /** OpenNebula VM id. */
  readonly vmId: number;
  /** Where the instance lives, in words. */
  readonly location: string;
  /** The instance's state when the file was written. */
  readonly state: string;
  /** Image taken of the instance (checkpoint only). */
  readonly imageId?: string;
}

/**
 * Writes a checkpoint file atomically (a temporary file renamed over it), creating its
 * directory when needed.
 *
 * @param path The checkpoint file's path.
 * @param checkpoint What to record.
 * @throws {InvalidInputError} when the file cannot be written.
 */
export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const text = JSON.stringify({
    format: CHECKPOINT_FORMAT,
    version: 1,
    ...checkpoint,
    writtenAt: new Date().toISOString(),
  });
  try {
    await writeTextAtomically(path, `${text}\n`, { mode: 0o640 });
  } catch (error) {
    throw new InvalidInputError(`Cannot write checkpoint file ${path}: ${fileErrorReason(error)}`);
  }
}

/**
 * Reads and checks a checkpoint file.
 *
 * @param path The checkpoint file's path.
 * @returns What it records.
 * @throws {InvalidInputError} when the file is missing, unreadable, larger than
 * {@link MAX_CHECKPOINT_FILE_BYTES}, does not end in time (then its `cause` is an
 * `InputLimitError`), or is not a driver checkpoint.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
 * const path = await Deno.makeTempFile();
 * await writeCheckpoint(path, {
 *   kind: "save", deployId: "i-0123456789abcdef0", host: "aws", vmId: 7, location: "region us-east-1", state: "stopped",
 * });
 * assert.equal((await readCheckpoint(path)).deployId, "i-0123456789abcdef0");
 * await Deno.remove(path);
 * ```
 */
export async function readCheckpoint(path: string): Promise<Checkpoint> {
  let text: string;
  try {
    text = await readBoundedText(path, MAX_CHECKPOINT_FILE_BYTES);
  } catch (error) {
    throw new InvalidInputError(`Cannot read checkpoint file ${path}: ${fileErrorReason(error)}`, {
      cause: error,
    });
  }
  let data: Record<string, unknown>;
  try {
    data = parseJson(text) as Record<string, unknown>;
  } catch {
    throw new InvalidInputError(
      `Checkpoint file ${path} was not written by this driver (not JSON)`,
    );
  }
  if (typeof data !== "object" || data === null || data.format !== CHECKPOINT_FORMAT) {
    throw new InvalidInputError(
      `Checkpoint file ${path} was not written by this driver (format is not ${CHECKPOINT_FORMAT})`,
    );
  }
  const text_ = (key: string) =>
    typeof data[key] === "string" && data[key] !== "" ? data[key] as string : undefined;
  const deployId = text_("deployId");
  const kind = data.kind === "save" || data.kind === "checkpoint" ? data.kind : undefined;
  if (!deployId || !kind || typeof data.vmId !== "number") {
    throw new InvalidInputError(
      `Checkpoint file ${path} is incomplete: it needs kind, deployId and vmId`,
    );
  }
  const imageId = text_("imageId");
  return {
    kind,
    deployId,
    host: text_("host") ?? "",
    vmId: data.vmId,
    location: text_("location") ?? "",
    state: text_("state") ?? "",
    ...(imageId ? { imageId } : {}),
  };
}
