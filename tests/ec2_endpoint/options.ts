/**
 * The endpoint's options: credentials, timing of state transitions, throttling, capacity and
 * fixtures, with defaults suited to fast tests (and {@link REALISTIC_TIMING} for demos).
 *
 * @module
 */

import { ACCOUNT_ID, DEFAULT_FIXTURES, type Fixtures } from "./fixtures.ts";
import { parseCidr } from "./net.ts";

/** An access key the endpoint accepts. */
export interface TestCredential {
  /** Access key id. */
  readonly accessKeyId: string;
  /** Secret access key. */
  readonly secretAccessKey: string;
  /**
   * Actions this key may call; others answer `UnauthorizedOperation`. All when absent.
   */
  readonly allowedActions?: readonly string[];
}

/** The default (only) access key of an endpoint started without `credentials`. */
export const TEST_CREDENTIALS = {
  accessKeyId: "AKIAONEHYBRIDEXAMPLE",
  secretAccessKey: "oneHybrid/TestSecretKey/K7MDENG/EXAMPLE1",
} as const satisfies TestCredential;

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
  /** How long a new instance is unknown to every call but the launch's own replay. */
  readonly visibilityDelayMs: number;
  /**
   * CreateImage's pending → available; also how long a deregistered image still shows (as
   * `deregistered`) in DescribeImages.
   */
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
 * (a launch, stop or termination ~3 s, an AMI ~5 s). No visibility delay, so a demo is not
 * at the mercy of a client's eventual-consistency handling.
 */
export const REALISTIC_TIMING: Timing = {
  pendingMs: 3_000,
  stoppingMs: 3_000,
  shuttingDownMs: 3_000,
  terminatedRetentionMs: 60_000,
  visibilityDelayMs: 0,
  imageMs: 5_000,
};

/** API rate categories, each with its own token bucket (as EC2 throttles them). */
export type ThrottleCategory = "describe" | "mutate";

/** A token bucket: `capacity` calls at once, refilled at `refillPerSecond`. */
export interface BucketConfig {
  /** Bucket size (burst). */
  readonly capacity: number;
  /** Tokens added per second. */
  readonly refillPerSecond: number;
}

/** Options of {@link startEc2Endpoint}. */
/**
 * Random faults, each drawn per call from `random` (a seeded generator makes a run repeatable):
 * throttling and server errors before the call is applied, and connections dropped after it was
 * applied (the client never learns that it was).
 */
export interface Faults {
  /** Share of calls answered `RequestLimitExceeded` (HTTP 503) before they are applied. */
  readonly throttleRate?: number;
  /** Share of calls answered `InternalError` (HTTP 500) before they are applied. */
  readonly serverErrorRate?: number;
  /** Share of calls applied whose connection is then dropped before the answer's body. */
  readonly dropAfterApplyRate?: number;
  /** Random numbers in [0, 1); `Math.random` by default. */
  readonly random?: () => number;
}

export interface EndpointOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** Accepted access keys; default {@link TEST_CREDENTIALS}. */
  readonly credentials?: readonly TestCredential[];
  /** Account id shown as owner; default `123456789012`. */
  readonly accountId?: string;
  /** Lifecycle durations (each defaults from {@link DEFAULT_TIMING}). */
  readonly timing?: Partial<Timing>;
  /** Fixture resources (each list defaults from the built-in fixtures). */
  readonly fixtures?: Partial<Fixtures>;
  /** Throttling per category; off when absent. */
  readonly throttle?: Partial<Record<ThrottleCategory, BucketConfig>>;
  /**
   * Capacity per instance type: at most this many instances of the type per region that are
   * neither stopped nor terminated; beyond it RunInstances and StartInstances answer
   * `InsufficientInstanceCapacity`. Unlimited if absent.
   */
  readonly capacity?: Readonly<Record<string, number>>;
  /**
   * Instances per region that may be neither stopped nor terminated (`InstanceLimitExceeded`);
   * default 1000.
   */
  readonly instanceLimit?: number;
  /**
   * Elastic IP addresses per region, fixtures included (`AddressLimitExceeded` beyond);
   * default 5, EC2's default quota.
   */
  readonly elasticIpLimit?: number;
  /** Allowed distance between `X-Amz-Date` and now; default 15 minutes. */
  readonly maxClockSkewMs?: number;
  /** Clock in ms since the epoch; default `Date.now`. */
  readonly clock?: () => number;
  /** Random faults (none by default). */
  readonly faults?: Faults;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  /** Port. */
  readonly port: number;
  /** Access keys. */
  readonly credentials: readonly TestCredential[];
  /** Account id. */
  readonly accountId: string;
  /** Lifecycle durations. */
  readonly timing: Timing;
  /** Fixtures. */
  readonly fixtures: Fixtures;
  /** Capacity per instance type. */
  readonly capacity: Readonly<Record<string, number>>;
  /** Instance limit per region. */
  readonly instanceLimit: number;
  /** Elastic IP addresses per region. */
  readonly elasticIpLimit: number;
  /** Clock skew allowed. */
  readonly maxClockSkewMs: number;
  /** Clock. */
  readonly clock: () => number;
}

/**
 * Applies the defaults.
 *
 * @param options What the caller gave.
 * @returns Complete options.
 * @throws {Error} When a fixture subnet's CIDR block is not a /16-/28 IPv4 block.
 */
export function resolveOptions(options: EndpointOptions = {}): ResolvedOptions {
  const fixtures = { ...DEFAULT_FIXTURES, ...options.fixtures };
  for (const subnet of fixtures.subnets) parseCidr(subnet.cidrBlock);
  return {
    port: options.port ?? 0,
    credentials: options.credentials ?? [TEST_CREDENTIALS],
    accountId: options.accountId ?? ACCOUNT_ID,
    timing: { ...DEFAULT_TIMING, ...options.timing },
    fixtures,
    capacity: options.capacity ?? {},
    instanceLimit: options.instanceLimit ?? 1000,
    elasticIpLimit: options.elasticIpLimit ?? 5,
    maxClockSkewMs: options.maxClockSkewMs ?? 15 * 60_000,
    clock: options.clock ?? Date.now,
  };
}
