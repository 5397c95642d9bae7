/**
 * A local EC2-compatible endpoint for the demo and the integration tests. It implements only
 * the calls the driver makes (RunInstances, DescribeInstances, Terminate/Stop/Start/
 * RebootInstances, CreateImage, DescribeImages, AssociateAddress, DescribeAddresses,
 * DescribeInstanceTypes) in the EC2
 * Query API as `@aws-sdk/client-ec2` sends it, checks signatures with the SDK's own signer, and
 * models what moto cannot show: state transitions over time, eventual consistency (new ids not
 * visible yet, as EC2's NotFound or left out of answers), token deduplication
 * (`IdempotentInstanceTerminated`), injected failures and random faults (throttling, server
 * errors, connections closed after the call was applied, before any byte of the answer or in
 * its middle).
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

import { type EndpointOptions, resolveOptions } from "./options.ts";
import { type CallRecord, EndpointCore, type InjectedError } from "./server.ts";
import { serveRaw } from "../raw_http.ts";
import type {
  AddressSnapshot,
  ImageSnapshot,
  InstanceSnapshot,
  InstanceStateName,
  StateReason,
} from "./state.ts";

export * from "./fixtures.ts";
export { DEFAULT_TIMING, REALISTIC_TIMING, TEST_CREDENTIALS } from "./options.ts";
export type { EndpointOptions, Faults, InvisibleForm, Timing } from "./options.ts";
export { STATE_CODES } from "./state.ts";
export type {
  AddressSnapshot,
  ImageSnapshot,
  InstanceSnapshot,
  InstanceStateName,
  StateReason,
  Volume,
} from "./state.ts";
export type { CallRecord, InjectedError } from "./server.ts";

/** A running endpoint and its test knobs. */
export interface Ec2Endpoint extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`, for the SDK's `endpoint`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
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
   * The instances that have not vanished, brought up to now (including those not visible to
   * the API yet).
   *
   * @param region One region; all regions when absent.
   */
  instances(region?: string): InstanceSnapshot[];
  /**
   * The AMIs the endpoint knows (fixtures and CreateImage's), brought up to now.
   *
   * @param region One region; all regions when absent.
   */
  images(region?: string): ImageSnapshot[];
  /**
   * The Elastic IP addresses of the account, with their associations.
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
  /** Forgets calls, pending failures and all regions' state. */
  reset(): void;
  /** Stops listening (waits for requests in progress). */
  close(): Promise<void>;
}

/**
 * Starts an endpoint on 127.0.0.1.
 *
 * @param options Port, timing, fixtures, faults, clock.
 * @returns The running endpoint.
 */
export function startEc2Endpoint(options: EndpointOptions = {}): Promise<Ec2Endpoint> {
  const resolved = resolveOptions(options);
  const core = new EndpointCore(resolved);
  // A server of our own, not Deno.serve: a random fault may close a connection before any byte
  // of the answer, which Deno.serve cannot do.
  const server = serveRaw((request) => core.handle(request), { port: resolved.port });
  return Promise.resolve({
    url: server.url,
    port: server.port,
    get calls() {
      return core.calls;
    },
    countCalls: (action) =>
      core.calls.filter((c) => action === undefined || c.action === action).length,
    fail: (action, error, times) => core.fail(action, error, times),
    instances: (region) => core.instances(region),
    images: (region) => core.images(region),
    addresses: (region) => core.addresses(region),
    setInstanceState: (id, state, reason) => core.setInstanceState(id, state, reason),
    reset: () => core.reset(),
    close: () => server.close(),
    [Symbol.asyncDispose]: () => server.close(),
  });
}
