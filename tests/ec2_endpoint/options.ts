/**
 * The endpoint's options: timing of state transitions, random faults, fixtures and the clock,
 * with defaults suited to fast tests (and {@link REALISTIC_TIMING} for demos).
 *
 * @module
 */

import { DEFAULT_FIXTURES, type Fixtures } from "./fixtures.ts";

/** The only access key the endpoint accepts. */
export const TEST_CREDENTIALS = {
  accessKeyId: "AKIAONEHYBRIDEXAMPLE",
  secretAccessKey: "oneHybrid/TestSecretKey/K7MDENG/EXAMPLE1",
} as const;

/** Durations of the lifecycle, in ms. */
export interface Timing {
  /** pending → running. */
  readonly pendingMs: number;
  /** stopping → stopped. */
  readonly stoppingMs: number;
  /** shutting-down → terminated. */
  readonly shuttingDownMs: number;
  /** How long a terminated instance stays visible before it vanishes. */
  readonly terminatedRetentionMs: number;
  /** How long a new instance is unknown to every call but the replay of its launch. */
  readonly visibilityDelayMs: number;
  /** CreateImage's pending → available. */
  readonly imageMs: number;
}

/** Defaults of {@link Timing}: quick transitions, a minute of retention, no delay. */
export const DEFAULT_TIMING: Timing = {
  pendingMs: 300,
  stoppingMs: 300,
  shuttingDownMs: 300,
  terminatedRetentionMs: 60_000,
  visibilityDelayMs: 0,
  imageMs: 500,
};

/**
 * Delays for a demo that should feel like EC2: real-world durations shortened to seconds
 * (a launch, stop or termination ~3 s, an AMI ~5 s), and no visibility delay.
 */
export const REALISTIC_TIMING: Timing = {
  ...DEFAULT_TIMING,
  pendingMs: 3_000,
  stoppingMs: 3_000,
  shuttingDownMs: 3_000,
  imageMs: 5_000,
};

/**
 * How an instance that is not visible yet (`Timing.visibilityDelayMs`) is kept out of answers:
 * - `"not-found"`, as EC2 does: every call naming it fails `InvalidInstanceID.NotFound`, and
 *   listings leave it out;
 * - `"left-out"`, as a filtering proxy or some EC2-compatible clouds do: DescribeInstances
 *   leaves it out of its answer without an error, asked by id too, and the other calls see it.
 */
export type InvisibleForm = "not-found" | "left-out";

/**
 * Random faults, one draw per call from `random` (a seeded generator makes a run repeatable),
 * each rate a share of all calls (their sum at most 1): throttling and server errors before
 * the call is applied, and connections closed after it was handled (the client never learns
 * that it was applied).
 */
export interface Faults {
  /** Share of calls answered `RequestLimitExceeded` (HTTP 503) before they are applied. */
  readonly throttleRate?: number;
  /** Share of calls answered `InternalError` (HTTP 500) before they are applied. */
  readonly serverErrorRate?: number;
  /**
   * Share of calls handled (applied, when valid) whose connection is then closed before any
   * byte of the answer: a client can tell nothing but that the connection closed.
   */
  readonly dropAfterApplyRate?: number;
  /**
   * Share of calls handled whose answer is cut: the head, announcing the whole length, and
   * half the body are written, then the connection closes.
   */
  readonly cutAnswerRate?: number;
  /** Random numbers in [0, 1); `Math.random` by default. */
  readonly random?: () => number;
  /**
   * How an instance not visible yet is kept out of answers, for all instances or chosen per
   * instance from the tags of its launch; `"not-found"` by default.
   */
  readonly invisibleAs?:
    | InvisibleForm
    | ((tags: ReadonlyMap<string, string>) => InvisibleForm);
}

/** Options of `startEc2Endpoint`. */
export interface EndpointOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** Lifecycle durations (each defaults from {@link DEFAULT_TIMING}). */
  readonly timing?: Partial<Timing>;
  /** Fixture resources (each list defaults from the built-in fixtures). */
  readonly fixtures?: Partial<Fixtures>;
  /** Random faults (none by default). */
  readonly faults?: Faults;
  /** Clock in ms since the epoch; default `Date.now`. */
  readonly clock?: () => number;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  /** Port. */
  readonly port: number;
  /** Lifecycle durations. */
  readonly timing: Timing;
  /** Fixtures. */
  readonly fixtures: Fixtures;
  /** Random faults. */
  readonly faults: Faults;
  /** Clock. */
  readonly clock: () => number;
}

/**
 * Applies the defaults.
 *
 * @param options What the caller gave.
 * @returns Complete options.
 */
export function resolveOptions(options: EndpointOptions = {}): ResolvedOptions {
  return {
    port: options.port ?? 0,
    timing: { ...DEFAULT_TIMING, ...options.timing },
    fixtures: { ...DEFAULT_FIXTURES, ...options.fixtures },
    faults: options.faults ?? {},
    clock: options.clock ?? Date.now,
  };
}
