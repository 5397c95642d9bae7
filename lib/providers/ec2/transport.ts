/**
 * The HTTP exchange under the SDK. Each attempt gets one deadline covering connection, headers
 * and body, after which the request is aborted; the answer is read whole (up to a size cap) and
 * checked to be EC2's own answer to the call before the SDK parses it. Anything else (a silent
 * endpoint, an empty or unrelated answer, an HTML error page, a cut document) becomes a
 * `TransportError` naming the call and the endpoint, so that no such answer is ever read as
 * "no instance" or "done".
 *
 * @module
 */

import { collectCapped } from "../../util/bounded_read.ts";
import { TransportError } from "./errors.ts";
import { oneLine } from "../../util/output.ts";

/** Largest answer read; EC2's answers to the driver's calls are a few kilobytes. */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** The parts of the SDK's HTTP request this module reads. */
export interface RequestLike {
  /** `http:` or `https:`. */
  readonly protocol: string;
  /** Host name or address. */
  readonly hostname: string;
  /** Port, when not the protocol's default. */
  readonly port?: number | undefined;
  /** Path, `/` for EC2's usual endpoints. */
  readonly path: string;
  /** The form-encoded query, `Action=...&Version=...` (a JSON document for CloudWatch). */
  readonly body?: unknown;
  /** Headers, names in any case (CloudWatch's action is in `x-amz-target`). */
  readonly headers?: Record<string, string | undefined>;
}

/** The parts of the SDK's HTTP response this module reads and replaces. */
export interface ResponseLike {
  /** HTTP status. */
  readonly statusCode: number;
  /** Headers, names in any case. */
  readonly headers: Record<string, string | undefined>;
  /** A stream from the network; replaced by the bytes read. */
  body?: unknown;
}

/** An SDK request handler (`@smithy/types` `HttpHandler`), as far as this module uses it. */
export interface HandlerLike {
  /** Sends one request. */
  handle(
    request: RequestLike,
    options?: { abortSignal?: unknown; requestTimeout?: number },
  ): Promise<{ response: ResponseLike }>;
  /** Changes one setting of the handler (the SDK passes its logger this way). */
  updateHttpClientConfig?(key: never, value: never): void;
  /** The handler's settings. */
  httpHandlerConfigs?(): unknown;
  /** Releases sockets. */
  destroy?(): void;
  /** Protocol of the handler (`http/1.1`). */
  readonly metadata?: unknown;
}

/**
 * Reads the EC2 action from a query-protocol request body.
 *
 * @param body The request body.
 * @returns The action (`DescribeInstances`), or `undefined` when the body names none.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { actionOf } from "./transport.ts";
 * assert.equal(actionOf("Action=RunInstances&Version=2016-11-15&MinCount=1"), "RunInstances");
 * assert.equal(actionOf(undefined), undefined);
 * ```
 */
export function actionOf(body: unknown): string | undefined {
  if (typeof body !== "string") return undefined;
  return /^Action=([A-Za-z0-9]+)(?:&|$)/.exec(body)?.[1];
}

/**
 * The endpoint a request goes to, for messages: scheme, host, port and any path but `/`.
 *
 * @param request The request.
 * @returns e.g. `https://ec2.eu-west-1.amazonaws.com` or `http://127.0.0.1:8080/ec2`.
 */
export function endpointOf(request: RequestLike): string {
  const path = request.path === "/" ? "" : request.path.replace(/\/$/, "");
  return `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ""}${path}`;
}

/** How {@link answerProblem} names an answer cut short. */
const INCOMPLETE = "an incomplete";

const PROLOG = /^\uFEFF?\s*(?:<\?xml[^>]*\?>\s*)?/;

/**
/**
 * How a service's answers are told from anything else an endpoint may send, for
 * {@link CheckedHandler}: EC2's ({@link EC2_ANSWERS}), or CloudWatch's
 * ({@link CLOUDWATCH_ANSWERS}).
 */
export interface AnswerCheck {
  /** The service, for messages (`EC2`). */
  readonly service: string;
  /** The action a request asks for (`DescribeInstances`), or undefined when it names none. */
  actionOf(request: RequestLike): string | undefined;
  /**
   * Undefined when an answer is the service's own answer to the action; otherwise the problem,
   * as the end of a sentence (see {@link answerProblem}).
   */
  problem(
    action: string | undefined,
    status: number,
    contentType: string,
    text: string,
  ): string | undefined;
}

/** EC2's Query protocol: the action in the form body, XML answers ({@link answerProblem}). */
export const EC2_ANSWERS: AnswerCheck = {
  service: "EC2",
  actionOf: (request) => actionOf(request.body),
  problem: answerProblem,
};

/**
 * CloudWatch's protocol as the SDK speaks it (AWS JSON 1.0): the action in the `x-amz-target`
 * header (`GraniteServiceVersion20100801.GetMetricData`), JSON answers
 * ({@link jsonAnswerProblem}).
 */
export const CLOUDWATCH_ANSWERS: AnswerCheck = {
  service: "CloudWatch",
  actionOf: (request) =>
    /\.([A-Za-z0-9]+)$/.exec(headerOf(request.headers ?? {}, "x-amz-target") ?? "")?.[1],
  problem: (_action, status, contentType, text) =>
    jsonAnswerProblem("CloudWatch", status, contentType, text),
};

/**
 * Checks that an answer is EC2's own answer to the call: `<{Action}Response ...>` through
 * `</{Action}Response>` for a success status, `<Response><Errors>` through `</Response>` for
 * an error status.
 *
 * @param action The EC2 action asked (`undefined` accepts any `<...Response>` root).
 * @param status The HTTP status.
 * @param contentType The Content-Type header, for the message.
 * @param text The whole body.
 * @returns `undefined` when it is EC2's answer; otherwise the problem, as the end of a sentence.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerProblem } from "./transport.ts";
 * const ok = '<?xml version="1.0"?>\n<RebootInstancesResponse xmlns="x"><return>true</return></RebootInstancesResponse>';
 * assert.equal(answerProblem("RebootInstances", 200, "text/xml", ok), undefined);
 * assert.equal(answerProblem("RebootInstances", 200, "", ""), "got HTTP 200 with an empty body, not an EC2 answer");
 * assert.equal(
 *   answerProblem("RebootInstances", 502, "text/html; charset=utf-8", "<html>Bad gateway</html>"),
 *   "got HTTP 502 (text/html), not an EC2 answer",
 * );
 * const error = '<Response xmlns="x"><Errors><Error><Code>AuthFailure</Code></Error></Errors></Response>';
 * assert.equal(answerProblem("RebootInstances", 401, "text/xml", error), undefined);
 * ```
 */
export function answerProblem(
  action: string | undefined,
  status: number,
  contentType: string,
  text: string,
): string | undefined {
  const document = text.replace(PROLOG, "");
  const root = status < 300
    ? new RegExp(`^<(${action ? `${action}Response` : "[A-Za-z]+Response"})[\\s>]`).exec(document)
      ?.[1]
    : /^<(Response)(?:\s[^>]*)?>\s*<Errors>/.exec(document)?.[1];
  if (root !== undefined && status >= 200) {
    if (new RegExp(`</${root}>\\s*$`).test(document)) return undefined;
    return `got HTTP ${status} with ${INCOMPLETE} ${
      root === "Response" ? "EC2 error" : root
    }, not a whole EC2 answer`;
  }
  if (text.trim() === "") return `got HTTP ${status} with an empty body, not an EC2 answer`;
  const type = oneLine(contentType.split(";")[0] ?? "").slice(0, 60);
  return `got HTTP ${status}${type ? ` (${type})` : ""}, not an EC2 answer`;
}

/**
 * Checks that an answer is an AWS JSON 1.0 service's: a JSON object, which for an error status
 * names the error (`__type`, or `code` as some endpoints spell it).
 *
 * @param service The service, for the problem (`CloudWatch`).
 * @param status The HTTP status.
 * @param contentType The Content-Type header, for the message.
 * @param text The whole body.
 * @returns `undefined` when it is the service's answer; otherwise the problem, as the end of a
 * sentence.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonAnswerProblem } from "./transport.ts";
 * assert.equal(jsonAnswerProblem("CloudWatch", 200, "application/x-amz-json-1.0", '{"MetricDataResults":[]}'), undefined);
 * assert.equal(jsonAnswerProblem("CloudWatch", 400, "", '{"__type":"InvalidParameterValue","message":"no"}'), undefined);
 * assert.equal(
 *   jsonAnswerProblem("CloudWatch", 200, "text/html", "<html>Sign in</html>"),
 *   "got HTTP 200 (text/html), not a CloudWatch answer",
 * );
 * assert.equal(
 *   jsonAnswerProblem("CloudWatch", 200, "", '{"MetricDataResults":['),
 *   "got HTTP 200 with an incomplete CloudWatch answer, not a whole one",
 * );
 * ```
 */
export function jsonAnswerProblem(
  service: string,
  status: number,
  contentType: string,
  text: string,
): string | undefined {
  const body = text.trim();
  if (body === "") return `got HTTP ${status} with an empty body, not a ${service} answer`;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    if (body.startsWith("{") && status >= 200) {
      return `got HTTP ${status} with ${INCOMPLETE} ${service} answer, not a whole one`;
    }
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value) && status >= 200) {
    const named = value as { __type?: unknown; code?: unknown };
    if (status < 300 || typeof named.__type === "string" || typeof named.code === "string") {
      return undefined;
    }
  }
  const type = oneLine(contentType.split(";")[0] ?? "").slice(0, 60);
  return `got HTTP ${status}${type ? ` (${type})` : ""}, not a ${service} answer`;
}

/** Words for the network error codes an operator meets. */
const NETWORK_PROBLEMS: Record<string, string> = {
  ECONNREFUSED: "could not connect",
  ECONNRESET: "lost the connection",
  EPIPE: "lost the connection",
  ETIMEDOUT: "could not connect",
  ENOTFOUND: "could not resolve the host name",
  EAI_AGAIN: "could not resolve the host name",
  EHOSTUNREACH: "could not reach the host",
  ENETUNREACH: "could not reach the host",
};

/** Network codes of a connection lost after the request may have been sent. */
const SENT_CODES = new Set(["ECONNRESET", "EPIPE"]);

/**
 * Wraps an SDK request handler so that every attempt is bounded and every answer is the
 * service's (EC2's, unless told otherwise). The SDK's `requestTimeout` option of one send
 * shortens that attempt's deadline (the driver's retries pass what is left of the action's
 * time).
 */
export class CheckedHandler implements HandlerLike {
  readonly #inner: HandlerLike;
  readonly #requestMs: number;
  readonly #connectMs: number;
  readonly #answers: AnswerCheck;

  /**
   * @param inner The SDK's own handler (it must not time requests out itself).
   * @param limits `requestMs`: one attempt, connection to last byte; `connectMs`: the inner
   *   handler's connection timeout, for messages.
   * @param answers How the service's answers are recognised ({@link EC2_ANSWERS} by default).
   */
  constructor(
    inner: HandlerLike,
    limits: { requestMs: number; connectMs: number },
    answers: AnswerCheck = EC2_ANSWERS,
  ) {
    this.#inner = inner;
    this.#requestMs = limits.requestMs;
    this.#connectMs = limits.connectMs;
    this.#answers = answers;
  }

  /** The inner handler's protocol. */
  get metadata(): unknown {
    return this.#inner.metadata;
  }

  /** Passes a setting (e.g. the SDK's logger) to the inner handler. */
  updateHttpClientConfig(key: never, value: never): void {
    this.#inner.updateHttpClientConfig?.(key, value);
  }

  /** The inner handler's settings. */
  httpHandlerConfigs(): unknown {
    return this.#inner.httpHandlerConfigs?.() ?? {};
  }

  /** Releases the inner handler's sockets. */
  destroy(): void {
    this.#inner.destroy?.();
  }

  /**
   * Sends one attempt and returns EC2's answer, read whole.
   *
   * @throws {TransportError} when there is no answer in time, no connection, or the answer is
   *   not EC2's answer to the call.
   */
  async handle(
    request: RequestLike,
    options: { abortSignal?: unknown; requestTimeout?: number } = {},
  ): Promise<{ response: ResponseLike }> {
    const action = this.#answers.actionOf(request);
    const what = {
      call: action ?? `${this.#answers.service} request`,
      endpoint: endpointOf(request),
    };
    const { requestTimeout, ...passed } = options;
    const limitMs = Math.min(this.#requestMs, requestTimeout ?? this.#requestMs);
    const deadline = new AbortController();
    const outer = options.abortSignal instanceof AbortSignal ? options.abortSignal : undefined;
    const signal = outer ? AbortSignal.any([deadline.signal, outer]) : deadline.signal;
    let body: unknown;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        deadline.abort();
        (body as { destroy?: () => void } | undefined)?.destroy?.();
        reject(
          new TransportError({
            ...what,
            problem: `got no answer within ${Number((limitMs / 1000).toPrecision(2))} s`,
            code: "TimeoutError",
          }),
        );
      }, limitMs);
    });
    const exchange = (async () => {
      let response: ResponseLike;
      try {
        ({ response } = await this.#inner.handle(request, { ...passed, abortSignal: signal }));
        body = response.body;
      } catch (error) {
        throw this.#networkFailure(what, error, outer);
      }
      let bytes: Uint8Array | undefined;
      try {
        bytes = await readCapped(response.body, MAX_ANSWER_BYTES);
      } catch (error) {
        throw this.#networkFailure(what, error, outer);
      }
      const status = response.statusCode;
      if (bytes === undefined) {
        throw new TransportError({
          ...what,
          problem: `got HTTP ${status} with an answer over ${MAX_ANSWER_BYTES / 1024 / 1024} MiB`,
          code: "NotAnEc2Answer",
        }, { status });
      }
      const problem = this.#answers.problem(
        action,
        status,
        headerOf(response.headers, "content-type") ?? "",
        new TextDecoder().decode(bytes),
      );
      if (problem) {
        throw new TransportError({ ...what, problem, code: "NotAnEc2Answer" }, {
          status,
          cut: problem.includes(INCOMPLETE),
        });
      }
      response.body = bytes;
      return { response };
    })();
    exchange.catch(() => {}); // After a timeout, its abort error is of no interest.
    try {
      return await Promise.race([exchange, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A network error of the inner handler, in words; an abort from outside stays as it is. */
  #networkFailure(
    what: { call: string; endpoint: string },
    error: unknown,
    outer: AbortSignal | undefined,
  ): unknown {
    if (outer?.aborted) return error;
    const { name, code, message } = error instanceof Error
      ? error as Error & { code?: unknown }
      : { name: "Error", code: undefined, message: String(error) };
    if (typeof code === "string" && NETWORK_PROBLEMS[code]) {
      return new TransportError({ ...what, problem: `${NETWORK_PROBLEMS[code]}: ${code}`, code }, {
        cause: error,
        unsent: !SENT_CODES.has(code),
      });
    }
    if (name === "TimeoutError") {
      return new TransportError({
        ...what,
        problem: `could not connect within ${this.#connectMs / 1000} s`,
        code: "TimeoutError",
      }, { cause: error, unsent: true });
    }
    const label = typeof code === "string" ? code : name;
    return new TransportError(
      { ...what, problem: `failed: ${label}: ${oneLine(message)}`, code: label },
      { cause: error },
    );
  }
}

/** A header's value, whatever the case of its name. */
function headerOf(headers: Record<string, string | undefined>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

/**
 * Reads a response body whole.
 *
 * @returns The bytes, or `undefined` when there are more than `limit` (the stream is destroyed).
 */
async function readCapped(body: unknown, limit: number): Promise<Uint8Array | undefined> {
  if (body === undefined || body === null) return new Uint8Array();
  if (body instanceof Uint8Array) return body.length > limit ? undefined : body;
  if (typeof body === "string") return readCapped(new TextEncoder().encode(body), limit);
  const stream = body as AsyncIterable<Uint8Array | string> & { destroy?: () => void };
  return await collectCapped(stream, limit, () => stream.destroy?.());
}
