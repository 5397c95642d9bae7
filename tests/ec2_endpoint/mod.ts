/**
 * A local EC2-compatible endpoint for the demo and the integration tests: it speaks the EC2
 * Query API (form-encoded POST, version 2016-11-15, XML answers) as `@aws-sdk/client-ec2`
 * sends it, checks SigV4 for real, and models instances over time (with Spot, IAM instance
 * profiles, IMDS options and EBS block device mappings), AMIs made by CreateImage, Elastic IP
 * addresses, idempotency tokens, eventual consistency, throttling and EC2's error codes.
 *
 * ```ts ignore
 * const ep = await startEc2Endpoint({ timing: { pendingMs: 50 } }); // or { timing: REALISTIC_TIMING }
 * const client = new EC2Client({ endpoint: ep.url, region: "us-east-1", credentials: TEST_CREDENTIALS });
 * // ...
 * await ep.close();
 * ```
 *
 * @module
 */

import type { InstanceStateName, StateReason } from "./lifecycle.ts";
import {
  type BucketConfig,
  type EndpointOptions,
  resolveOptions,
  type TestCredential,
  type ThrottleCategory,
} from "./options.ts";
import type { AddressSnapshot } from "./addresses.ts";
import type { ImageSnapshot } from "./images.ts";
import type { InstanceSnapshot } from "./instance.ts";
import { type CallRecord, EndpointCore, type InjectedError } from "./server.ts";

export * from "./fixtures.ts";
export { STATE_CODES } from "./lifecycle.ts";
export type { InstanceStateName, StateReason } from "./lifecycle.ts";
export { DEFAULT_TIMING, REALISTIC_TIMING, TEST_CREDENTIALS } from "./options.ts";
export type {
  BucketConfig,
  EndpointOptions,
  Faults,
  TestCredential,
  ThrottleCategory,
  Timing,
} from "./options.ts";
export type { InstanceSnapshot } from "./instance.ts";
export type { ImageSnapshot, ImageStateName } from "./images.ts";
export type { AddressSnapshot } from "./addresses.ts";
export type { VolumeSpec } from "./ebs.ts";
export type { CallRecord, InjectedError } from "./server.ts";

/** A running endpoint and its test knobs. */
export interface Ec2Endpoint extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`, for the SDK's `endpoint`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The fixture account's id. */
  readonly accountId: string;
  /** The access keys it accepts. */
  readonly credentials: readonly TestCredential[];
  /** Every call so far, oldest first (cleared by {@link Ec2Endpoint.reset}). */
  readonly calls: readonly CallRecord[];
  /**
   * How many calls were made.
   *
   * @param action Only calls of this action; all when absent.
   */
  countCalls(action?: string): number;
  /**
   * Makes the next `times` calls of an action (or `"*"`, any action) fail with an error,
   * before any state changes. Failures queue in the order given.
   *
   * @param action Action name or `"*"`.
   * @param error Code, and optionally message and HTTP status.
   * @param times How many calls fail (default 1).
   */
  fail(action: string, error: InjectedError, times?: number): void;
  /**
   * Delays every call of an action (or `"*"`) before it is handled; 0 removes the delay.
   *
   * @param action Action name or `"*"`.
   * @param ms Delay.
   */
  setLatency(action: string, ms: number): void;
  /**
   * Turns throttling of a category on (a fresh, full bucket per region) or off.
   *
   * @param category `describe` (Describe*) or `mutate` (the others).
   * @param config The bucket, or undefined to stop throttling.
   */
  setThrottle(category: ThrottleCategory, config: BucketConfig | undefined): void;
  /**
   * The instances that have not vanished, brought up to now (including those not visible
   * to the API yet).
   *
   * @param region One region; all regions when absent.
   */
  instances(region?: string): InstanceSnapshot[];
  /**
   * The AMIs the endpoint knows (fixtures and CreateImage's, deregistered ones until
   * forgotten), brought up to now.
   *
   * @param region One region; all regions when absent.
   */
  images(region?: string): ImageSnapshot[];
  /**
   * The Elastic IP addresses allocated to the account, with their associations.
   *
   * @param region One region; all regions when absent.
   */
  addresses(region?: string): AddressSnapshot[];
  /**
   * Forces an instance into a state (e.g. terminated from outside), with what the state
   * brings (follow-up transition, addresses, retention).
   *
   * @param instanceId The instance.
   * @param state The state.
   * @param reason `StateReason` to show instead of the user-initiated one.
   * @returns The instance after the change.
   * @throws {Error} When no region has the instance.
   */
  setInstanceState(
    instanceId: string,
    state: InstanceStateName,
    reason?: StateReason,
  ): InstanceSnapshot;
  /** Forgets calls, pending failures, latencies, throttle buckets and all regions' state. */
  reset(): void;
  /** Stops listening (waits for requests in progress). */
  close(): Promise<void>;
}

/**
 * Starts an endpoint on 127.0.0.1.
 *
 * @param options Port, credentials, timing, fixtures, throttling, capacity, clock.
 * @returns The running endpoint.
 */
export function startEc2Endpoint(options: EndpointOptions = {}): Promise<Ec2Endpoint> {
  const resolved = resolveOptions(options);
  const core = new EndpointCore(resolved, options.throttle, options.faults);
  return new Promise((resolve) => {
    const server = Deno.serve(
      {
        hostname: "127.0.0.1",
        port: resolved.port,
        onListen: ({ port }) => {
          let closing: Promise<void> | undefined;
          const close = () => (closing ??= server.shutdown());
          resolve({
            url: `http://127.0.0.1:${port}`,
            port,
            accountId: resolved.accountId,
            credentials: resolved.credentials,
            get calls() {
              return core.calls;
            },
            countCalls: (action) =>
              action === undefined
                ? core.calls.length
                : core.calls.filter((c) => c.action === action).length,
            fail: (action, error, times) => core.fail(action, error, times),
            setLatency: (action, ms) => core.setLatency(action, ms),
            setThrottle: (category, config) => core.setThrottle(category, config),
            instances: (region) => core.instances(region),
            images: (region) => core.images(region),
            addresses: (region) => core.addresses(region),
            setInstanceState: (id, state, reason) => core.setInstanceState(id, state, reason),
            reset: () => core.reset(),
            close,
            [Symbol.asyncDispose]: close,
          });
        },
      },
      (request) => core.handle(request),
    );
  });
}
