/**
 * Short, operator-readable reasons for file-system errors, and the limits on what the driver
 * reads.
 *
 * @module
 */

/** A file or stream broke one of the driver's input limits (size or time). */
export class InputLimitError extends Error {
  /** Why, in a few words (`larger than the 4 MiB limit`). */
  readonly reason: string;

  /**
   * @param reason Why, in a few words, starting in lower case.
   */
  constructor(reason: string) {
    super(reason);
    this.name = "InputLimitError";
    this.reason = reason;
  }
}

/**
 * Says in a few words why a file operation failed.
 *
 * @param error What the file operation threw.
 * @returns e.g. `no such file`, `permission denied`, or the error's own message.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileErrorReason } from "./file_errors.ts";
 * assert.equal(fileErrorReason(new Deno.errors.NotFound("x")), "no such file");
 * ```
 */
export function fileErrorReason(error: unknown): string {
  if (error instanceof InputLimitError) return error.reason;
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  // The runtime refuses device and system paths (/dev/fd, /proc, /sys) even with --allow-read.
  if (error instanceof Deno.errors.NotCapable) {
    return "the driver may not open device or system files";
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Writes a byte count the way limits are stated: `4 MiB`, `64 KiB`, `100 bytes`.
 *
 * @param bytes A byte count.
 * @returns The count in the largest binary unit that divides it.
 */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
