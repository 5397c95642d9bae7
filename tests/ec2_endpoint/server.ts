/**
 * The request pipeline and the test knobs: parse the Query request, verify SigV4, log the
 * call, then latency, injected failures, throttling, permissions and `DryRun`, and finally the
 * action against the region's state.
 *
 * @module
 */

import { ACTIONS } from "./actions/registry.ts";
import { Ec2Error, errorDocument } from "./errors.ts";
import type { InstanceStateName, StateReason } from "./lifecycle.ts";
import type {
  BucketConfig,
  Faults,
  ResolvedOptions,
  TestCredential,
  ThrottleCategory,
} from "./options.ts";
import { boolParam, parseQuery } from "./query.ts";
import type { AddressSnapshot } from "./addresses.ts";
import type { ImageSnapshot } from "./images.ts";
import type { InstanceSnapshot } from "./instance.ts";
import { RegionState } from "./region_state.ts";
import { verifySignature } from "./sigv4.ts";
import { TokenBucket } from "./throttle.ts";
import { responseDocument } from "./xml.ts";

/** One request as the endpoint saw it. */
export interface CallRecord {
  /** `Action` parameter ("" when absent). */
  readonly action: string;
  /** All parameters, flat, as sent. */
  readonly params: Readonly<Record<string, string>>;
  /** Region of the SigV4 scope, when the signature could be read. */
  readonly region: string | undefined;
  /** Access key id of the SigV4 credential, when it could be read. */
  readonly accessKeyId: string | undefined;
  /** HTTP status answered. */
  readonly status: number;
  /** EC2 error code, for failed calls. */
  readonly errorCode?: string;
  /** Whether the call was applied and its connection then dropped (random faults). */
  readonly dropped?: boolean;
  /** The request id answered. */
  readonly requestId: string;
  /** When the request arrived. */
  readonly at: Date;
}

/** An error for {@link EndpointCore.fail} to answer with. */
export interface InjectedError {
  /** EC2 error code. */
  readonly code: string;
  /** Message; a default in AWS's wording for well-known codes. */
  readonly message?: string;
  /** HTTP status; the code's documented one by default. */
  readonly status?: number;
}

const DEFAULT_MESSAGES: Readonly<Record<string, string>> = {
  RequestLimitExceeded: "Request limit exceeded.",
  Unavailable: "The server is overloaded and can't handle the request.",
  InternalError: "An internal error has occurred",
  InsufficientInstanceCapacity:
    "We currently do not have sufficient capacity in the Availability Zone you requested.",
  UnauthorizedOperation: "You are not authorized to perform this operation.",
  AuthFailure: "AWS was not able to validate the provided access credentials",
};

const XML_HEADERS = { "content-type": "text/xml;charset=UTF-8" };

/** The endpoint's state and behaviour, independent of the HTTP server. */
export class EndpointCore {
  readonly #options: ResolvedOptions;
  readonly #regions = new Map<string, RegionState>();
  readonly #calls: CallRecord[] = [];
  readonly #failures = new Map<string, { error: InjectedError; remaining: number }[]>();
  readonly #latency = new Map<string, number>();
  readonly #throttle = new Map<ThrottleCategory, BucketConfig>();
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #faults: Faults;

  /**
   * @param options Resolved options.
   * @param throttle Initial throttling per category.
   */
  constructor(
    options: ResolvedOptions,
    throttle: Partial<Record<ThrottleCategory, BucketConfig>> = {},
    faults: Faults = {},
  ) {
    this.#options = options;
    this.#faults = faults;
    for (const [category, config] of Object.entries(throttle)) {
      if (config) this.#throttle.set(category as ThrottleCategory, config);
    }
  }

  /** The resolved options. */
  get options(): ResolvedOptions {
    return this.#options;
  }

  /** Every call so far, oldest first. */
  get calls(): readonly CallRecord[] {
    return this.#calls;
  }

  /** A region's state, created from the fixtures on first use. */
  region(name: string): RegionState {
    let state = this.#regions.get(name);
    if (!state) {
      state = new RegionState(
        name,
        this.#options.fixtures,
        this.#options.timing,
        this.#options.accountId,
      );
      this.#regions.set(name, state);
    }
    return state;
  }

  /** See {@link Ec2Endpoint.fail}. */
  fail(action: string, error: InjectedError, times = 1): void {
    const queue = this.#failures.get(action) ?? [];
    queue.push({ error, remaining: times });
    this.#failures.set(action, queue);
  }

  /** See {@link Ec2Endpoint.setLatency}. */
  setLatency(action: string, ms: number): void {
    if (ms > 0) this.#latency.set(action, ms);
    else this.#latency.delete(action);
  }

  /** See {@link Ec2Endpoint.setThrottle}. */
  setThrottle(category: ThrottleCategory, config: BucketConfig | undefined): void {
    if (config) this.#throttle.set(category, config);
    else this.#throttle.delete(category);
    for (const key of [...this.#buckets.keys()]) {
      if (key.endsWith(`|${category}`)) this.#buckets.delete(key);
    }
  }

  /** See {@link Ec2Endpoint.reset}. */
  reset(): void {
    this.#calls.length = 0;
    this.#failures.clear();
    this.#latency.clear();
    this.#buckets.clear();
    this.#regions.clear();
  }

  /** See {@link Ec2Endpoint.instances}. */
  instances(region?: string): InstanceSnapshot[] {
    const now = this.#options.clock();
    return this.#refreshed(region, now).flatMap((state) =>
      [...state.instances.values()]
        .filter((i) => state.notVanished(i, now))
        .map((i) => state.snapshot(i, now))
    );
  }

  /** See {@link Ec2Endpoint.images}. */
  images(region?: string): ImageSnapshot[] {
    const now = this.#options.clock();
    return this.#refreshed(region, now).flatMap((state) =>
      [...state.images.values()].map((i) => state.imageSnapshot(i, now))
    );
  }

  /** See {@link Ec2Endpoint.addresses}. */
  addresses(region?: string): AddressSnapshot[] {
    const now = this.#options.clock();
    return this.#refreshed(region, now).flatMap((state) =>
      [...state.addresses.values()].map((a) => state.addressSnapshot(a))
    );
  }

  /** The regions in use (or the one named, if in use), brought up to now. */
  #refreshed(region: string | undefined, now: number): RegionState[] {
    const states = region === undefined
      ? [...this.#regions.values()]
      : [this.#regions.get(region)].filter((s) => s !== undefined);
    for (const state of states) state.refresh(now);
    return states;
  }

  /** See {@link Ec2Endpoint.setInstanceState}. */
  setInstanceState(
    instanceId: string,
    state: InstanceStateName,
    reason?: StateReason,
  ): InstanceSnapshot {
    const now = this.#options.clock();
    for (const region of this.#regions.values()) {
      const instance = region.instances.get(instanceId);
      if (!instance) continue;
      region.refresh(now);
      region.enter(instance, state, now, reason);
      return region.snapshot(instance, now);
    }
    throw new Error(`No instance ${instanceId} in any region`);
  }

  /**
   * Answers one HTTP request.
   *
   * @param request The request.
   * @returns The response (EC2's XML, success or error).
   */
  async handle(request: Request): Promise<Response> {
    const requestId = crypto.randomUUID();
    const at = this.#options.clock();
    let action = "";
    let params: Record<string, string> = {};
    let region: string | undefined;
    let accessKeyId: string | undefined;
    let status = 200;
    let errorCode: string | undefined;
    let text: string;
    let dropped = false;
    try {
      if (request.method !== "POST" && request.method !== "GET") {
        throw new Ec2Error("MethodNotAllowed", `The HTTP method ${request.method} is not allowed`);
      }
      const body = new Uint8Array(await request.arrayBuffer());
      const url = new URL(request.url);
      const type = request.headers.get("content-type") ?? "application/x-www-form-urlencoded";
      params = parseQuery(url.search.slice(1));
      if (request.method === "POST" && type.startsWith("application/x-www-form-urlencoded")) {
        Object.assign(params, parseQuery(new TextDecoder().decode(body)));
      }
      action = params["Action"] ?? "";
      let credential: TestCredential | undefined;
      const signature = verifySignature(
        { method: request.method, url, headers: request.headers, body },
        {
          secretFor: (id) => {
            credential = this.#options.credentials.find((c) => c.accessKeyId === id);
            return credential?.secretAccessKey;
          },
          service: "ec2",
          now: at,
          maxSkewMs: this.#options.maxClockSkewMs,
        },
      );
      region = signature.region;
      accessKeyId = signature.accessKeyId;
      // A verified signature found its credential.
      text = await this.#dispatch(action, params, signature.region, credential!, requestId);
      dropped = this.#draw(this.#faults.dropAfterApplyRate);
    } catch (error) {
      const failure = error instanceof Ec2Error ? error : internalError(error);
      status = failure.status;
      errorCode = failure.code;
      text = errorDocument(failure.code, failure.message, requestId);
    }
    this.#calls.push({
      action,
      params,
      region,
      accessKeyId,
      status,
      ...(errorCode === undefined ? {} : { errorCode }),
      requestId,
      at: new Date(at),
      ...(dropped ? { dropped } : {}),
    });
    if (dropped) {
      // The call was applied; the client gets the headers and the start of the answer, then the
      // connection closes before the length announced.
      const encoded = new TextEncoder().encode(text);
      const body = new ReadableStream({
        start: (c) => {
          c.enqueue(encoded.subarray(0, Math.floor(encoded.length / 2)));
          c.close();
        },
      });
      return new Response(body, {
        status,
        headers: { ...XML_HEADERS, "content-length": String(encoded.length) },
      });
    }
    return new Response(text, {
      status,
      headers: { ...XML_HEADERS, "x-amzn-requestid": requestId },
    });
  }

  async #dispatch(
    action: string,
    params: Record<string, string>,
    regionName: string,
    credential: TestCredential,
    requestId: string,
  ): Promise<string> {
    if (action === "") {
      throw new Ec2Error("MissingAction", "The request must contain the parameter Action");
    }
    const definition = ACTIONS.get(action);
    if (!definition) {
      throw new Ec2Error(
        "InvalidAction",
        `The action ${action} is not valid for this web service.`,
      );
    }
    if (!params["Version"]) {
      throw new Ec2Error("MissingParameter", "The request must contain the parameter Version");
    }
    const latency = this.#latency.get(action) ?? this.#latency.get("*") ?? 0;
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    this.#injectedFailure(action);
    if (this.#draw(this.#faults.throttleRate)) {
      throw new Ec2Error("RequestLimitExceeded", DEFAULT_MESSAGES["RequestLimitExceeded"]!);
    }
    if (this.#draw(this.#faults.serverErrorRate)) {
      throw new Ec2Error("InternalError", DEFAULT_MESSAGES["InternalError"]!);
    }
    const now = this.#options.clock();
    this.#throttled(regionName, definition.category, now);
    const allowed = credential.allowedActions;
    if (allowed && !allowed.includes(action)) {
      throw new Ec2Error("UnauthorizedOperation", DEFAULT_MESSAGES["UnauthorizedOperation"]!);
    }
    if (boolParam(params, "DryRun")) {
      throw new Ec2Error(
        "DryRunOperation",
        "Request would have succeeded, but DryRun flag is set.",
      );
    }
    const region = this.region(regionName);
    region.refresh(now);
    const body = definition.handler({ region, params, now, options: this.#options });
    return responseDocument(action, requestId, body);
  }

  #draw(rate: number | undefined): boolean {
    return rate !== undefined && rate > 0 && (this.#faults.random ?? Math.random)() < rate;
  }

  #injectedFailure(action: string): void {
    for (const key of [action, "*"]) {
      const queue = this.#failures.get(key);
      const next = queue?.[0];
      if (!queue || !next) continue;
      if (--next.remaining <= 0) queue.shift();
      const { code, status } = next.error;
      const message = next.error.message ?? DEFAULT_MESSAGES[code] ??
        `${code} (injected by the test endpoint)`;
      throw new Ec2Error(code, message, status);
    }
  }

  #throttled(region: string, category: ThrottleCategory, now: number): void {
    const config = this.#throttle.get(category);
    if (!config) return;
    const key = `${region}|${category}`;
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(config, now);
      this.#buckets.set(key, bucket);
    }
    if (!bucket.take(now)) {
      throw new Ec2Error("RequestLimitExceeded", DEFAULT_MESSAGES["RequestLimitExceeded"]!);
    }
  }
}

function internalError(error: unknown): Ec2Error {
  console.error("ec2_endpoint: internal error:", error);
  return new Ec2Error("InternalError", "An internal error has occurred");
}
