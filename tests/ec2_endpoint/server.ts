/**
 * The request pipeline and the test knobs: parse the Query request, verify its signature, log
 * the call, then injected failures and random faults, and finally the action against the
 * region's state (and, by chance, the connection closed after it was handled, before any byte
 * of the answer or in its middle).
 *
 * @module
 */

import { ACTIONS, type CallNotes } from "./actions.ts";
import { CLOSE_BEFORE_ANSWER, type RawOutcome } from "../raw_http.ts";
import { verifySignature } from "./auth.ts";
import { DEFAULT_MESSAGES, Ec2Error } from "./errors.ts";
import type { ResolvedOptions } from "./options.ts";
import {
  type AddressSnapshot,
  type ImageSnapshot,
  type InstanceSnapshot,
  type InstanceStateName,
  RegionState,
  type StateReason,
} from "./state.ts";
import { errorDocument, responseDocument } from "./xml.ts";

/** One request as the endpoint saw it. */
export interface CallRecord {
  /** `Action` parameter ("" when absent). */
  readonly action: string;
  /** All parameters, flat, as sent. */
  readonly params: Readonly<Record<string, string>>;
  /** Region of the signature's scope, once verified. */
  readonly region: string | undefined;
  /** HTTP status answered. */
  readonly status: number;
  /** EC2 error code, for failed calls. */
  readonly errorCode?: string;
  /**
   * Whether the call was handled (applied, when valid) and its connection then closed before
   * any byte of the answer (random faults).
   */
  readonly dropped?: boolean;
  /** Whether the call was handled and its answer then cut in the middle (random faults). */
  readonly cut?: boolean;
  /** Instances left out of a DescribeInstances answer because they were not visible yet. */
  readonly leftOut?: readonly string[];
  /** The SDK's `amz-sdk-invocation-id` header, when sent (one per call the SDK makes). */
  readonly invocationId?: string;
  /** The SDK's `amz-sdk-request` header (`attempt=N; max=M`), when sent. */
  readonly attempt?: string;
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

const XML_HEADERS = { "content-type": "text/xml;charset=UTF-8" };

/** The endpoint's state and behaviour, independent of the HTTP server. */
export class EndpointCore {
  readonly #options: ResolvedOptions;
  readonly #regions = new Map<string, RegionState>();
  readonly #calls: CallRecord[] = [];
  readonly #failures = new Map<string, { error: InjectedError; remaining: number }[]>();

  /** @param options Resolved options. */
  constructor(options: ResolvedOptions) {
    this.#options = options;
  }

  /** Every call so far, oldest first. */
  get calls(): readonly CallRecord[] {
    return this.#calls;
  }

  /** See `Ec2Endpoint.fail`. */
  fail(action: string, error: InjectedError, times = 1): void {
    const queue = this.#failures.get(action) ?? [];
    queue.push({ error, remaining: times });
    this.#failures.set(action, queue);
  }

  /** See `Ec2Endpoint.reset`. */
  reset(): void {
    this.#calls.length = 0;
    this.#failures.clear();
    this.#regions.clear();
  }

  /** See `Ec2Endpoint.instances`. */
  instances(region?: string): InstanceSnapshot[] {
    const now = this.#options.clock();
    return this.#refreshed(region, now).flatMap((state) =>
      [...state.instances.values()].filter((i) => state.notVanished(i, now)).map((i) =>
        state.instanceView(i, now)
      )
    );
  }

  /** See `Ec2Endpoint.images`. */
  images(region?: string): ImageSnapshot[] {
    return this.#refreshed(region, this.#options.clock()).flatMap((state) =>
      [...state.images.values()].map((i) => state.imageView(i))
    );
  }

  /** See `Ec2Endpoint.addresses`. */
  addresses(region?: string): AddressSnapshot[] {
    return this.#refreshed(region, this.#options.clock()).flatMap((state) =>
      [...state.addresses.values()].map((a) => state.addressView(a))
    );
  }

  /** See `Ec2Endpoint.setInstanceState`. */
  setInstanceState(id: string, state: InstanceStateName, reason?: StateReason): InstanceSnapshot {
    const now = this.#options.clock();
    for (const region of this.#refreshed(undefined, now)) {
      const instance = region.instances.get(id);
      if (!instance) continue;
      region.enter(instance, state, now, reason);
      return region.instanceView(instance, now);
    }
    throw new Error(`No instance ${id} in any region`);
  }

  /** The regions in use (or the one named, if in use), brought up to now. */
  #refreshed(region: string | undefined, now: number): RegionState[] {
    const states = [...this.#regions.values()].filter((s) => (region ?? s.region) === s.region);
    for (const state of states) state.refresh(now);
    return states;
  }

  /**
   * Answers one HTTP request.
   *
   * @param request The request.
   * @returns The response (EC2's XML, success or error), or, by chance (random faults), the
   * connection closed before or in the middle of the answer.
   */
  async handle(request: Request): Promise<RawOutcome> {
    const requestId = crypto.randomUUID();
    const at = this.#options.clock();
    let action = "";
    let params: Record<string, string> = {};
    let region: string | undefined;
    let status = 200;
    let errorCode: string | undefined;
    let text: string;
    let fault: Fault | undefined;
    const notes: CallNotes = { leftOut: [] };
    try {
      const body = new Uint8Array(await request.arrayBuffer());
      const url = new URL(request.url);
      params = Object.fromEntries(url.searchParams);
      if (request.method === "POST") {
        Object.assign(
          params,
          Object.fromEntries(new URLSearchParams(new TextDecoder().decode(body))),
        );
      }
      action = params["Action"] ?? "";
      region =
        (await verifySignature({ method: request.method, url, headers: request.headers, body }))
          .region;
      text = responseDocument(
        action,
        requestId,
        this.#dispatch(action, params, region, notes, (drawn) => fault = drawn),
      );
    } catch (error) {
      const failure = error instanceof Ec2Error ? error : internalError(error);
      status = failure.status;
      errorCode = failure.code;
      text = errorDocument(failure.code, failure.message, requestId);
    }
    const closed = fault === "drop" || fault === "cut";
    this.#calls.push({
      action,
      params,
      region,
      status,
      ...(errorCode === undefined ? {} : { errorCode }),
      requestId,
      at: new Date(at),
      ...(fault === "drop" ? { dropped: true } : {}),
      ...(fault === "cut" ? { cut: true } : {}),
      ...(notes.leftOut.length > 0 ? { leftOut: notes.leftOut } : {}),
      ...sdkHeaders(request.headers),
    });
    const response = new Response(text, {
      status,
      headers: { ...XML_HEADERS, "x-amzn-requestid": requestId },
    });
    if (!closed) return response;
    // The call was handled; the client gets no byte of the answer, or only its first half.
    return fault === "drop" ? CLOSE_BEFORE_ANSWER : { close: "mid-answer", response };
  }

  #dispatch(
    action: string,
    params: Record<string, string>,
    regionName: string,
    notes: CallNotes,
    drawn: (fault: Fault) => void,
  ) {
    const handler = ACTIONS.get(action);
    if (!handler) {
      throw new Ec2Error(
        "InvalidAction",
        `The action ${action} is not valid for this web service.`,
      );
    }
    for (const key of [action, "*"]) {
      const next = this.#failures.get(key)?.[0];
      if (!next) continue;
      if (--next.remaining <= 0) this.#failures.get(key)!.shift();
      const { code, status } = next.error;
      const message = next.error.message ?? DEFAULT_MESSAGES[code] ??
        `${code} (injected by the test endpoint)`;
      throw new Ec2Error(code, message, status);
    }
    const fault = this.#draw();
    if (fault === "throttle") throw new Ec2Error("RequestLimitExceeded");
    if (fault === "server-error") throw new Ec2Error("InternalError");
    // Drawn before the call is applied, so that it is closed whatever the call's outcome.
    if (fault) drawn(fault);
    const now = this.#options.clock();
    let region = this.#regions.get(regionName);
    if (!region) this.#regions.set(regionName, region = new RegionState(regionName, this.#options));
    region.refresh(now);
    return handler(region, params, now, notes);
  }

  /** One draw for a call: which fault, if any (each rate a share of all calls). */
  #draw(): Fault | undefined {
    const { throttleRate = 0, serverErrorRate = 0, dropAfterApplyRate = 0, cutAnswerRate = 0 } =
      this.#options.faults;
    if (throttleRate + serverErrorRate + dropAfterApplyRate + cutAnswerRate <= 0) return undefined;
    const draw = (this.#options.faults.random ?? Math.random)();
    let bound = 0;
    for (
      const [fault, rate] of [
        ["throttle", throttleRate],
        ["server-error", serverErrorRate],
        ["drop", dropAfterApplyRate],
        ["cut", cutAnswerRate],
      ] as const
    ) {
      if (draw < (bound += rate)) return fault;
    }
    return undefined;
  }
}

/** A random fault of one call. */
type Fault = "throttle" | "server-error" | "drop" | "cut";

/** The SDK's headers that tell its calls and attempts apart, when sent. */
function sdkHeaders(headers: Headers): { invocationId?: string; attempt?: string } {
  const invocationId = headers.get("amz-sdk-invocation-id");
  const attempt = headers.get("amz-sdk-request");
  return {
    ...(invocationId === null ? {} : { invocationId }),
    ...(attempt === null ? {} : { attempt }),
  };
}

function internalError(error: unknown): Ec2Error {
  console.error("ec2_endpoint: internal error:", error);
  return new Ec2Error("InternalError");
}
