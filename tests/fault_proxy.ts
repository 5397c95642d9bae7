/**
 * A fault-injecting proxy in front of an EC2 Query API endpoint that has no faults of its own
 * (moto, for the soak): it listens on 127.0.0.1, reads each request whole, takes `Action=` from
 * the form body, and draws one fault per call, each rate a share of all calls:
 * - throttled: `503 RequestLimitExceeded` in EC2's XML error shape, not forwarded;
 * - server error: `500 InternalError`, not forwarded;
 * - dropped: forwarded (so applied), then the connection is closed before any byte of the
 *   answer.
 *
 * It also keeps each instance that a RunInstances answer names out of sight for a while after
 * its launch, in one of two forms (chosen per instance, e.g. from its launch tags):
 * - `"not-found"`, as EC2 does: a call naming the instance by id (`InstanceId.N`,
 *   `ResourceId.N`) is answered `InvalidInstanceID.NotFound` without being forwarded, and
 *   DescribeInstances listings leave it out;
 * - `"left-out"`, as a filtering proxy does: DescribeInstances answers leave it out, asked by
 *   id too, without an error; other calls reach it.
 *
 * Every call is logged with what was done to it, and with the SDK's invocation id and attempt
 * number (`amz-sdk-invocation-id`, `amz-sdk-request`), so that a request resent beneath the SDK
 * (the same invocation and attempt seen twice) shows.
 *
 * @module
 */

import { errors } from "./ec2_endpoint/errors.ts";
import type { InvisibleForm } from "./ec2_endpoint/options.ts";
import { errorDocument } from "./ec2_endpoint/xml.ts";
import { CLOSE_BEFORE_ANSWER, type RawOutcome, serveRaw } from "./raw_http.ts";

/** What to put in front of which endpoint. */
export interface FaultProxyOptions {
  /** The endpoint forwarded to, `http://127.0.0.1:PORT`. */
  readonly target: string;
  /** Share of calls answered `RequestLimitExceeded` (HTTP 503) without forwarding them. */
  readonly throttleRate?: number;
  /** Share of calls answered `InternalError` (HTTP 500) without forwarding them. */
  readonly serverErrorRate?: number;
  /** Share of calls forwarded, then closed before any byte of the answer. */
  readonly dropAfterApplyRate?: number;
  /** Random numbers in [0, 1); `Math.random` by default. */
  readonly random?: () => number;
  /** How long a new instance stays out of sight, in ms (0, the default: never). */
  readonly visibilityDelayMs?: number;
  /**
   * How a new instance is kept out of sight, for all or per instance from the tags of its
   * launch (`TagSpecification` of `ResourceType=instance`); `"not-found"` by default.
   */
  readonly invisibleAs?:
    | InvisibleForm
    | ((tags: ReadonlyMap<string, string>) => InvisibleForm);
}

/** One call as the proxy saw it. */
export interface ProxiedCall {
  /** `Action` parameter ("" when absent). */
  readonly action: string;
  /** When it arrived (ms since the epoch). */
  readonly at: number;
  /** What the proxy did instead of, or after, forwarding it. */
  readonly fault?: "throttled" | "server-error" | "dropped";
  /** HTTP status of the answer (the target's, when forwarded; also for a dropped call). */
  readonly status: number;
  /** Instances out of sight it named, answered `InvalidInstanceID.NotFound`. */
  readonly notFound?: readonly string[];
  /** Instances out of sight left out of its DescribeInstances answer. */
  readonly leftOut?: readonly string[];
  /** The SDK's `amz-sdk-invocation-id` header, when sent. */
  readonly invocationId?: string;
  /** The SDK's `amz-sdk-request` header (`attempt=N; max=M`), when sent. */
  readonly attempt?: string;
}

/** An instance a RunInstances answer named. */
export interface LaunchedInstance {
  /** Instance id. */
  readonly instanceId: string;
  /** Tags of its launch. */
  readonly tags: ReadonlyMap<string, string>;
  /** How it is kept out of sight. */
  readonly form: InvisibleForm;
  /** Until when (ms since the epoch). */
  readonly hiddenUntil: number;
}

/** A running proxy. */
export interface FaultProxy extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`, for the driver's `endpoint`. */
  readonly url: string;
  /** Every call so far, oldest first. */
  readonly calls: readonly ProxiedCall[];
  /** Every instance a RunInstances answer named, in launch order. */
  readonly launched: readonly LaunchedInstance[];
  /** Stops listening and waits for the calls in progress. */
  close(): Promise<void>;
}

const XML_HEADERS = { "content-type": "text/xml;charset=UTF-8" };
/** Request headers not forwarded: the connection's own, which `fetch` sets again. */
const HOP_HEADERS = new Set([
  "host",
  "content-length",
  "connection",
  "transfer-encoding",
  "expect",
]);

/**
 * Starts a proxy on 127.0.0.1.
 *
 * @param options Target, fault rates and how new instances are kept out of sight.
 * @returns The running proxy.
 */
export function startFaultProxy(options: FaultProxyOptions): FaultProxy {
  const calls: ProxiedCall[] = [];
  const launched = new Map<string, LaunchedInstance>();
  const target = options.target.replace(/\/$/, "");
  const random = options.random ?? Math.random;
  const formOf = (tags: ReadonlyMap<string, string>): InvisibleForm =>
    typeof options.invisibleAs === "function"
      ? options.invisibleAs(tags)
      : options.invisibleAs ?? "not-found";
  const outOfSight = (id: string, now: number) => {
    const instance = launched.get(id);
    return instance && now < instance.hiddenUntil ? instance.form : undefined;
  };
  const draw = (): ProxiedCall["fault"] => {
    const u = random();
    let bound = options.throttleRate ?? 0;
    if (u < bound) return "throttled";
    if (u < (bound += options.serverErrorRate ?? 0)) return "server-error";
    if (u < (bound += options.dropAfterApplyRate ?? 0)) return "dropped";
    return undefined;
  };

  const handle = async (request: Request): Promise<RawOutcome> => {
    const at = Date.now();
    const body = await request.text();
    const url = new URL(request.url);
    const params = new URLSearchParams(url.search);
    for (const [key, value] of new URLSearchParams(body)) params.append(key, value);
    const action = params.get("Action") ?? "";
    const sdk = {
      ...optional("invocationId", request.headers.get("amz-sdk-invocation-id")),
      ...optional("attempt", request.headers.get("amz-sdk-request")),
    };
    const log = (call: Omit<ProxiedCall, "action" | "at">) =>
      calls.push({ action, at, ...sdk, ...call });
    const fault = draw();
    if (fault === "throttled") {
      log({ fault, status: 503 });
      return ec2Error("RequestLimitExceeded", "Request limit exceeded.", 503);
    }
    if (fault === "server-error") {
      log({ fault, status: 500 });
      return ec2Error("InternalError", "An internal error has occurred", 500);
    }
    const notFound = namedInstances(params).filter((id) => outOfSight(id, at) === "not-found");
    if (notFound.length > 0) {
      log({ status: 400, notFound });
      const error = errors.instancesNotFound(notFound);
      return ec2Error(error.code, error.message, error.status);
    }
    const headers = new Headers();
    for (const [name, value] of request.headers) {
      if (!HOP_HEADERS.has(name)) headers.set(name, value);
    }
    const answer = await fetch(`${target}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      ...(request.method === "GET" || request.method === "HEAD" ? {} : { body }),
    });
    let text = await answer.text();
    let leftOut: string[] = [];
    if (answer.ok && action === "RunInstances") {
      const tags = launchTags(params);
      const hiddenUntil = Date.now() + (options.visibilityDelayMs ?? 0);
      for (const item of instanceItems(text)) {
        launched.set(item.id, { instanceId: item.id, tags, form: formOf(tags), hiddenUntil });
      }
    } else if (answer.ok && action === "DescribeInstances") {
      ({ xml: text, leftOut } = leaveOut(text, (id) => outOfSight(id, Date.now()) !== undefined));
    }
    log({
      status: answer.status,
      ...(fault ? { fault } : {}),
      ...(leftOut.length > 0 ? { leftOut } : {}),
    });
    if (fault === "dropped") return CLOSE_BEFORE_ANSWER;
    return new Response(text, {
      status: answer.status,
      headers: {
        "content-type": answer.headers.get("content-type") ?? XML_HEADERS["content-type"],
      },
    });
  };

  const server = serveRaw(handle);
  return {
    url: server.url,
    calls,
    get launched() {
      return [...launched.values()];
    },
    close: () => server.close(),
    [Symbol.asyncDispose]: () => server.close(),
  };
}

function optional<K extends string>(key: K, value: string | null): { [P in K]?: string } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: string };
}

function ec2Error(code: string, message: string, status: number): Response {
  return new Response(errorDocument(code, message, crypto.randomUUID()), {
    status,
    headers: XML_HEADERS,
  });
}

/** The instance ids a call names: `InstanceId.N` (or `InstanceId`) and `ResourceId.N`. */
function namedInstances(params: URLSearchParams): string[] {
  return [...params].filter(([key, value]) =>
    /^(InstanceId|ResourceId)(\.\d+)?$/.test(key) && value.startsWith("i-")
  ).map(([, value]) => value);
}

/** The tags a RunInstances request gives its instances. */
function launchTags(params: URLSearchParams): ReadonlyMap<string, string> {
  const tags = new Map<string, string>();
  for (const [key, value] of params) {
    const match = /^TagSpecification\.(\d+)\.Tag\.(\d+)\.Key$/.exec(key);
    if (!match || params.get(`TagSpecification.${match[1]}.ResourceType`) !== "instance") continue;
    tags.set(value, params.get(`TagSpecification.${match[1]}.Tag.${match[2]}.Value`) ?? "");
  }
  return tags;
}

/** An instance's `<item>` in an answer, and the reservation `<item>` around it, if any. */
interface InstanceItem {
  readonly id: string;
  readonly start: number;
  readonly end: number;
  readonly reservation?: { readonly start: number; readonly end: number };
}

/**
 * The instances of an EC2 answer: each `<item>` of an `<instancesSet>` with the text of its own
 * `<instanceId>` (not one of a nested element's), and the `<item>` of the `<reservationSet>`
 * around it.
 *
 * @param xml The answer.
 * @returns The items, in document order.
 */
export function instanceItems(xml: string): InstanceItem[] {
  interface Frame {
    readonly name: string;
    readonly start: number;
    readonly kind?: "instance" | "reservation";
    id?: string;
    end?: number;
  }
  const found: { frame: Frame; reservation: Frame | undefined }[] = [];
  const stack: Frame[] = [];
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>/g;
  for (let match = tag.exec(xml); match; match = tag.exec(xml)) {
    const [whole, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) {
      const frame = stack.pop();
      if (frame) frame.end = match.index + whole.length;
      continue;
    }
    const parent = stack.at(-1);
    if (name === "instanceId" && parent?.kind === "instance" && parent.id === undefined) {
      const textEnd = xml.indexOf("<", tag.lastIndex);
      parent.id = xml.slice(tag.lastIndex, textEnd).trim();
    }
    const kind = name !== "item"
      ? undefined
      : parent?.name === "instancesSet"
      ? "instance"
      : parent?.name === "reservationSet"
      ? "reservation"
      : undefined;
    const frame: Frame = { name: name!, start: match.index, ...(kind ? { kind } : {}) };
    stack.push(frame);
    if (kind === "instance") {
      found.push({ frame, reservation: stack.findLast((f) => f.kind === "reservation") });
    }
  }
  return found.filter(({ frame }) => frame.id && frame.end !== undefined).map((
    { frame, reservation },
  ) => ({
    id: frame.id!,
    start: frame.start,
    end: frame.end!,
    ...(reservation?.end !== undefined
      ? { reservation: { start: reservation.start, end: reservation.end } }
      : {}),
  }));
}

/**
 * Leaves instances out of a DescribeInstances answer, and a reservation out whole when none
 * of its instances is left in it (EC2 lists no empty reservation).
 *
 * @param xml The answer.
 * @param hide Whether to leave an instance out.
 * @returns The answer without them, and the ids left out.
 */
export function leaveOut(
  xml: string,
  hide: (instanceId: string) => boolean,
): { xml: string; leftOut: string[] } {
  const items = instanceItems(xml);
  const hidden = items.filter((item) => hide(item.id));
  if (hidden.length === 0) return { xml, leftOut: [] };
  const cuts: { start: number; end: number }[] = [];
  for (const item of hidden) {
    const reservation = item.reservation;
    const emptied = reservation !== undefined &&
      items.every((other) => other.reservation?.start !== reservation.start || hide(other.id));
    cuts.push(emptied ? reservation : item);
  }
  const unique = [...new Map(cuts.map((cut) => [cut.start, cut])).values()]
    .sort((a, b) => a.start - b.start);
  let out = "";
  let from = 0;
  for (const cut of unique) {
    out += xml.slice(from, cut.start);
    from = cut.end;
  }
  return { xml: out + xml.slice(from), leftOut: hidden.map((item) => item.id) };
}
