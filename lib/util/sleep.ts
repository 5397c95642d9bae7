/**
 * Pauses that end early when the action's time is up.
 *
 * @module
 */

/**
 * Waits `ms` milliseconds, or until `signal` aborts.
 *
 * @param ms How long to wait.
 * @param signal Ends the wait early; the promise then rejects with the signal's reason.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sleep } from "./sleep.ts";
 * const controller = new AbortController();
 * controller.abort(new Error("time is up"));
 * await assert.rejects(sleep(60_000, controller.signal), /time is up/);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
