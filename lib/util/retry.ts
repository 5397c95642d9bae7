/**
 * How long a cloud call keeps trying: the action's deadline is the budget, not an attempt
 * count. A call that fails in a way that may pass (throttling, a server error, a lost
 * connection, no answer in time) is asked again after a jittered, doubling pause, for as long
 * as the action has time left; then it fails with the last error. A call that is not safe to
 * send twice is asked again only when its first sending provably did nothing (throttled, or
 * never connected); when its outcome is unknown the error goes to the caller, who looks for what
 * it may have done before sending it again. Each provider says which of its failures are which.
 *
 * @module
 */

import { sleep } from "./sleep.ts";

/**
 * What a failed call says about its request: `throttled` (refused before anything was done),
 * `unsent` (no connection was made), `lost` (it may or may not have been applied, and asking
 * again may well work), or `undefined` (a definite answer, or one asking again would not
 * change).
 */
type FailureKind = "throttled" | "unsent" | "lost" | undefined;

/** Pauses between attempts, in milliseconds, before jitter. */
export const BACKOFF = {
  /** First pause after a server error or a lost connection; it doubles each time. */
  baseMs: 200,
  /** First pause after throttling (EC2 asks for slower requests); it doubles each time. */
  throttledBaseMs: 500,
  /** Longest pause. */
  capMs: 5_000,
} as const;

/** Time kept back at the end of an action for it to report, in milliseconds. */
const REPORT_RESERVE_MS = 2_000;

/** The shortest pause between two attempts, in milliseconds. */
const MIN_PAUSE_MS = 100;

/** No attempt starts with less time than this left, in milliseconds. */
export const MIN_ATTEMPT_MS = 1_000;

/**
 * How long a call keeps trying when no action deadline is known, in ms: not at all. Only the
 * preflight (`doctor`) calls without one, and it reports what the cloud answers now.
 */
const UNTIMED_CALL_BUDGET_MS = 0;

/**
 * When a call's retries must end: the action's deadline less {@link REPORT_RESERVE_MS} and
 * less whatever later steps of the action have reserved ({@link CallWindow.reserving}).
 */
export class CallWindow {
  readonly #deadline: (() => number) | undefined;
  #reserved = 0;

  /**
   * @param deadline When the action's time is up (ms since the epoch); without one, each call
   *   is sent once ({@link UNTIMED_CALL_BUDGET_MS}).
   */
  constructor(deadline?: () => number) {
    this.#deadline = deadline;
  }

  /** Whether an action deadline bounds the calls (otherwise each is sent once, in full time). */
  get timed(): boolean {
    return this.#deadline !== undefined;
  }

  /**
   * The time after which a call that started at `startedAt` starts no further attempt.
   *
   * @param startedAt When the call started (ms since the epoch).
   * @returns ms since the epoch.
   */
  end(startedAt: number): number {
    const deadline = this.#deadline?.() ?? startedAt + UNTIMED_CALL_BUDGET_MS + REPORT_RESERVE_MS;
    return deadline - REPORT_RESERVE_MS - this.#reserved;
  }

  /**
   * Runs `work` with `ms` kept back from every call's window, for the steps that must still
   * run after it (the clean-up of a deploy that failed).
   *
   * @param ms Milliseconds to keep back, in addition to what outer steps keep.
   * @param work The step.
   * @returns What `work` returns.
   */
  async reserving<T>(ms: number, work: () => Promise<T>): Promise<T> {
    this.#reserved += ms;
    try {
      return await work();
    } finally {
      this.#reserved -= ms;
    }
  }
}

/** How one call is retried. */
interface RetryOptions {
  /** The call, for the error (`RunInstances`). */
  readonly call: string;
  /** Sorts a failure (see {@link FailureKind}). */
  readonly classify: (error: unknown) => FailureKind | "unreadable";
  /** When retries end. */
  readonly window: CallWindow;
  /** Whether sending the call twice is harmless (a describe, a stop, a terminate). */
  readonly resendable: boolean;
  /** Aborts the pauses (the action's signal). */
  readonly signal?: AbortSignal | undefined;
  /** Random numbers in [0, 1) for the jitter (tests pass a fixed one). */
  readonly random?: () => number;
}

/**
 * Sends a call until it succeeds, fails for good, or its window closes.
 *
 * @param attempt Sends the call once, within the given milliseconds at most.
 * @param options The call, its window and whether it may be sent again blindly.
 * @param requestMs The longest one attempt may take.
 * @returns The answer.
 * @throws the last error, its attempts noted ({@link attemptsNote}).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CallWindow, retrying } from "./retry.ts";
 * let sent = 0;
 * const throttled = Object.assign(new Error("Request limit exceeded."), { name: "RequestLimitExceeded" });
 * const answer = await retrying(async () => {
 *   if (++sent < 3) throw throttled;
 *   return "ok";
 * }, {
 *   call: "DescribeInstances",
 *   classify: (error) => (error as Error).name === "RequestLimitExceeded" ? "throttled" : undefined,
 *   window: new CallWindow(() => Date.now() + 10_000),
 *   resendable: true,
 *   random: () => 0,
 * }, 10_000);
 * assert.equal(answer, "ok");
 * assert.equal(sent, 3);
 * ```
 */
export async function retrying<T>(
  attempt: (timeoutMs: number) => Promise<T>,
  options: RetryOptions,
  requestMs: number,
): Promise<T> {
  const random = options.random ?? Math.random;
  const startedAt = Date.now();
  for (let attempts = 1;; attempts++) {
    const left = options.window.timed ? options.window.end(startedAt) - Date.now() : requestMs;
    try {
      return await attempt(Math.max(MIN_ATTEMPT_MS, Math.min(requestMs, left)));
    } catch (error) {
      const kind = options.classify(error);
      const again = kind === "throttled" || kind === "unsent" ||
        (kind === "lost" && options.resendable);
      const base = kind === "throttled" ? BACKOFF.throttledBaseMs : BACKOFF.baseMs;
      const pause = Math.min(BACKOFF.capMs, base * 2 ** (attempts - 1)) * (0.5 + random() / 2);
      // The last pause is cut short to leave one attempt its time, rather than giving up with
      // time left.
      const room = options.window.end(startedAt) - Date.now() - MIN_ATTEMPT_MS;
      if (!again || options.signal?.aborted || room < MIN_PAUSE_MS) {
        throw noteAttempts(error, options.call, attempts, Date.now() - startedAt);
      }
      await sleep(Math.min(pause, room), options.signal);
    }
  }
}

/** What {@link noteAttempts} recorded of a call's retries. */
interface Attempts {
  readonly call: string;
  readonly attempts: number;
  readonly ms: number;
}

const ATTEMPTS = new WeakMap<object, Attempts>();

/**
 * Records on a call's last error how many attempts were made, for its message (and in an SDK
 * error's `$metadata.attempts`).
 *
 * @param error The last error.
 * @param call The call (`RunInstances`, `one.vm.info`).
 * @param attempts Attempts made.
 * @param ms Time they took.
 * @returns The error itself.
 */
export function noteAttempts(error: unknown, call: string, attempts: number, ms: number): unknown {
  if (typeof error === "object" && error !== null) {
    ATTEMPTS.set(error, { call, attempts, ms });
    const metadata = (error as { $metadata?: Record<string, unknown> }).$metadata;
    if (metadata && typeof metadata === "object") metadata.attempts = attempts;
  }
  return error;
}

/**
 * What a failure message adds for a retried call: ` (RunInstances, 4 attempts in 12.5 s)`, or
 * ` (4 attempts in 12.5 s)` when the message already names the call; "" after one attempt.
 *
 * @param error The call's last error.
 * @param named Whether the message already names the call.
 * @returns The note.
 */
export function attemptsNote(error: unknown, named: boolean): string {
  const noted = typeof error === "object" && error !== null ? ATTEMPTS.get(error) : undefined;
  if (noted === undefined || noted.attempts < 2) return "";
  const what = `${noted.attempts} attempts in ${(noted.ms / 1000).toFixed(1)} s`;
  return named ? ` (${what})` : ` (${noted.call}, ${what})`;
}
