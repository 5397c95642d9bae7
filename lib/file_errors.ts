/**
 * Short, operator-readable reasons for file-system errors.
 *
 * @module
 */

/**
 * Says in a few words why a file operation failed.
 *
 * @param error What the file operation threw.
 * @returns e.g. `no such file`, `permission denied`, or the error's own message.
 * @example
 * ```ts
 * import { fileErrorReason } from "./file_errors.ts";
 * console.assert(fileErrorReason(new Deno.errors.NotFound("x")) === "no such file");
 * ```
 */
export function fileErrorReason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  return error instanceof Error ? error.message : String(error);
}
