/**
 * Request throttling: a token bucket per category (describe, mutate) and region, as EC2
 * limits request rates per account and Region.
 *
 * @module
 */

import type { BucketConfig } from "./options.ts";

/** A token bucket. */
export class TokenBucket {
  readonly #config: BucketConfig;
  #tokens: number;
  #updatedAt: number;

  /**
   * @param config Capacity and refill rate.
   * @param now The current time (ms); the bucket starts full.
   */
  constructor(config: BucketConfig, now: number) {
    this.#config = config;
    this.#tokens = config.capacity;
    this.#updatedAt = now;
  }

  /**
   * Takes one token if there is one.
   *
   * @param now The current time (ms).
   * @returns true when the call may proceed.
   */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.#updatedAt) / 1000;
    this.#tokens = Math.min(
      this.#config.capacity,
      this.#tokens + elapsed * this.#config.refillPerSecond,
    );
    this.#updatedAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
