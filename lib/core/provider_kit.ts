/**
 * What every provider does the same way around its own calls: waiting for an instance to reach
 * a state, running a deploy's step and cleaning up what it launched when the step fails, and
 * telling whether an instance is gone. A provider brings its calls, how it reads their answers
 * and its messages; the loop, the pauses and the shape of a failure are written here once.
 *
 * @module
 */

import { CloudError, DeadlineError, DriverError, NotFoundError } from "../util/errors.ts";
import { sleep } from "../util/sleep.ts";
import type { HostSettings } from "./config.ts";
import type { Instance } from "./provider.ts";

/** The states an operation waits for. */
export type Goal = "running" | "stopped" | "terminated";

/** Longest pause between two state checks while waiting, in milliseconds. */
const MAX_POLL_INTERVAL_MS = 5_000;

/**
 * Whether an instance is on its way out or gone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isGone } from "./provider_kit.ts";
 * assert.equal(isGone({ id: "i-1", state: "terminating", nativeState: "shutting-down", facts: {} }), true);
 * assert.equal(isGone({ id: "i-1", state: "stopped", nativeState: "stopped", facts: {} }), false);
 * ```
 */
export function isGone(instance: Instance): boolean {
  return instance.state === "terminating" || instance.state === "terminated";
}

/**
 * One wait for an instance to reach a state: the instance, the provider's calls and words.
 * `I` is what the provider's `describe` gives (its own reading of the instance, which `stuck`
 * and `stray` then get).
 */
export interface StateWait<I extends Instance = Instance> {
  /** The instance. */
  readonly id: string;
  /** The state waited for. */
  readonly goal: Goal;
  /** The host's settings: the wait lasts `stateWaitSeconds`, its first pause `statePollSeconds`. */
  readonly settings: Pick<HostSettings, "stateWaitSeconds" | "statePollSeconds">;
  /**
   * When the provider's calls must stop, for a wait that starts at `startedAt` (ms since the
   * epoch): the wait ends then if that is sooner. Without it, `stateWaitSeconds` alone bounds it.
   */
  readonly window?: { end(startedAt: number): number } | undefined;
  /** Ends the pauses when the action's time is up. */
  readonly signal?: AbortSignal | undefined;
  /** Asks the cloud for the instance, once. */
  describe(): Promise<I>;
  /** What the instance is when the cloud no longer knows it while waiting for its termination. */
  ended(): Instance;
  /**
   * For a check that failed (a "not found" while waiting for termination aside): how to name the
   * instance's state in a timeout's message, the wait asking again; `undefined` ends the wait
   * with the error. Without it, every failed check ends the wait.
   */
  unsettled?(error: unknown): string | undefined;
  /**
   * Whether the wait is over for this instance: it is in the goal by default. A provider that
   * waits for an instance to reach a state where it can act on it says so here.
   */
  reached?(instance: Instance): boolean;
  /** States the wait cannot go on from besides a gone instance (when not waiting for its end). */
  stuck?(instance: I): boolean;
  /** The error that ends the wait for an instance gone (or stuck) on the way to the goal. */
  stray(instance: I): Error;
}

/**
 * Asks for the instance until it reaches the goal (or what `reached` accepts), with pauses
 * growing by half each time (from
 * `statePollSeconds`, at most {@link MAX_POLL_INTERVAL_MS}), for at most the host's
 * `stateWaitSeconds` (less when the window ends sooner). Waiting for termination, an instance
 * the cloud does not know is ended; otherwise an instance that goes (or is stuck) fails the wait.
 *
 * @returns The instance in the goal state.
 * @throws {DeadlineError} `Timed out after <s> s waiting for <id> to be <goal>; it is <state>`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { waitForState } from "./provider_kit.ts";
 * const states = ["pending", "running"] as const;
 * let asked = 0;
 * const instance = await waitForState({
 *   id: "vm-1",
 *   goal: "running",
 *   settings: { stateWaitSeconds: 1, statePollSeconds: 0.01 },
 *   describe: () => Promise.resolve({ id: "vm-1", state: states[asked++]!, nativeState: "x", facts: {} }),
 *   ended: () => ({ id: "vm-1", state: "terminated", nativeState: "gone", facts: {} }),
 *   stray: (vm) => new Error(`${vm.id} is gone`),
 * });
 * assert.equal(instance.state, "running");
 * assert.equal(asked, 2);
 * ```
 */
export async function waitForState<I extends Instance>(wait: StateWait<I>): Promise<Instance> {
  const { id, goal, settings } = wait;
  const started = Date.now();
  const deadline = Math.min(
    started + settings.stateWaitSeconds * 1000,
    wait.window?.end(started) ?? Infinity,
  );
  let interval = settings.statePollSeconds * 1000;
  let last = "unknown";
  for (;;) {
    let instance: I | undefined;
    try {
      instance = await wait.describe();
    } catch (error) {
      if (goal === "terminated" && error instanceof NotFoundError) return wait.ended();
      const state = wait.unsettled?.(error);
      if (state === undefined) throw error;
      last = state;
    }
    if (instance !== undefined) {
      if (wait.reached?.(instance) ?? instance.state === goal) return instance;
      last = instance.nativeState;
      if ((goal !== "terminated" && isGone(instance)) || wait.stuck?.(instance)) {
        throw wait.stray(instance);
      }
    }
    if (Date.now() + interval > deadline) {
      const waited = deadline < started + settings.stateWaitSeconds * 1000
        ? Math.round((Date.now() - started) / 1000)
        : settings.stateWaitSeconds;
      throw new DeadlineError(
        `Timed out after ${waited} s waiting for ${id} to be ${goal}; it is ${last}`,
      );
    }
    await sleep(interval, wait.signal);
    interval = Math.min(interval * 1.5, MAX_POLL_INTERVAL_MS);
  }
}

/**
 * An error as a `DriverError`: itself when it is one, else one with its text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { asDriverError } from "./provider_kit.ts";
 * assert.equal(asDriverError(new TypeError("boom")).message, "TypeError: boom");
 * ```
 */
export function asDriverError(error: unknown): DriverError {
  return error instanceof DriverError ? error : new DriverError(String(error), { cause: error });
}

/**
 * A failure with what its clean-up did appended (`<message>; <outcome>`), as the same kind of
 * error (a `CloudError` keeps its code), the failure as its cause.
 */
function withOutcome(failure: DriverError, outcome: string): DriverError {
  const message = `${failure.message}; ${outcome}`;
  if (failure instanceof CloudError) {
    return new CloudError(failure.code, message, { cause: failure });
  }
  if (failure instanceof DeadlineError) return new DeadlineError(message, { cause: failure });
  return new DriverError(message, { cause: failure });
}

/**
 * Runs one step of a deploy (a launch, a boot) so that a failed deploy leaves nothing behind:
 * when the step fails, what the deploy launched is cleaned up before the failure is reported,
 * with what became of it.
 *
 * @param step The step.
 * @param failureOf The step's error in the driver's words (`Cannot boot <id>: ...`).
 * @param cleanUp Ends what the deploy launched, given the failure; says what became of it, or
 *   `undefined` when there was nothing to clean up (the failure is then thrown as it is).
 * @returns What the step returns.
 * @throws the failure, the clean-up's outcome appended ({@link withOutcome}).
 */
export async function runOrCleanUp<T>(
  step: () => Promise<T>,
  failureOf: (error: unknown) => DriverError,
  cleanUp: (failure: DriverError) => Promise<string | undefined>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const failure = failureOf(error);
    const outcome = await cleanUp(failure);
    throw outcome === undefined ? failure : withOutcome(failure, outcome);
  }
}
