/**
 * An exclusive lock on a file, shared by the processes of one user: what lets one of many
 * concurrent monitoring runs ask the cloud while the others wait for its result.
 *
 * @module
 */

/**
 * Takes an exclusive lock on a file (created 0600 when missing), waiting for the process that
 * holds it until the signal aborts. Closing the returned file releases the lock.
 *
 * @param path The lock file.
 * @param signal Ends the wait.
 * @returns The open, locked file.
 * @throws the signal's reason when it aborts first; what opening the file threw.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lockFile } from "./file_lock.ts";
 * const dir = await Deno.makeTempDir();
 * const lock = await lockFile(`${dir}/x.lock`, new AbortController().signal);
 * await assert.rejects(lockFile(`${dir}/x.lock`, AbortSignal.abort(new Error("no time"))), /no time/);
 * lock.close();
 * (await lockFile(`${dir}/x.lock`, new AbortController().signal)).close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function lockFile(path: string, signal: AbortSignal): Promise<Deno.FsFile> {
  const file = await Deno.open(path, { create: true, write: true, mode: 0o600 });
  try {
    if (await file.tryLock(true)) return file;
    signal.throwIfAborted();
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    await Promise.race([file.lock(true), aborted]);
    return file;
  } catch (error) {
    file.close();
    throw error;
  }
}
