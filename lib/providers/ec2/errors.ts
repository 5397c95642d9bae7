/**
 * The only place that reads AWS SDK errors. The SDK puts EC2's error code in the exception's
 * `name`; this module sorts codes into the driver's error classes, keeping the code in the
 * message and the SDK error as `cause`. Failures below EC2 (no answer, no connection, an answer
 * that is not EC2's) arrive as `TransportError`s from `transport.ts` and name the call and the
 * endpoint.
 *
 * @module
 */

import { CloudError, CredentialsError, DriverError, NotFoundError } from "../../util/errors.ts";
import { oneLine } from "../../util/output.ts";
import { attemptsNote } from "../../util/retry.ts";

/** Codes meaning the named instance does not exist (or is not visible yet). */
const NOT_FOUND = new Set(["InvalidInstanceID.NotFound"]);
/** Codes meaning the credentials are missing, unknown or not allowed. */
const AUTH = new Set([
  "AuthFailure",
  "UnauthorizedOperation",
  "SignatureDoesNotMatch",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "OptInRequired",
  "RequestExpired",
  "ExpiredToken",
  "CredentialsProviderError",
]);
/** Codes of throttling. */
const THROTTLED = new Set(["RequestLimitExceeded", "Throttling", "ThrottlingException"]);
/** Node-style network error codes. */
const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
]);

/**
 * One HTTP exchange with the endpoint that produced no answer from EC2: no connection, no
 * answer in time, or an answer that is not EC2's answer to the call. Never means "not found".
 * Its `name` and `$metadata.httpStatusCode` are what the SDK's retry strategy reads (timeouts
 * and 5xx are retried); the retry strategy adds `$metadata.attempts`.
 */
export class TransportError extends Error {
  /** The EC2 action, e.g. `DescribeInstances`. */
  readonly call: string;
  /** Where it was sent, e.g. `https://ec2.us-east-1.amazonaws.com`. */
  readonly endpoint: string;
  /** What went wrong, as the end of a sentence ("got no answer within 10 s"). */
  readonly problem: string;
  /** The driver's code for it: `TimeoutError`, a network code (`ECONNREFUSED`) or `NotAnEc2Answer`. */
  readonly code: string;
  /** HTTP status of a non-EC2 answer (read by the SDK's retry strategy) and the attempts made. */
  $metadata: { httpStatusCode?: number; attempts?: number };
  /**
   * Whether the request provably never reached the endpoint (no connection could be made), so
   * that sending it again cannot do anything twice.
   */
  readonly unsent: boolean;
  /** Whether the answer was EC2's, cut short (the connection was lost while reading it). */
  readonly cut: boolean;

  /**
   * @param what The call, the endpoint, the problem and the code.
   * @param options `status` of a non-EC2 answer; `cause` keeps the network error; `unsent`
   *   when no connection was made; `cut` when EC2's answer was cut short.
   */
  constructor(
    what: { call: string; endpoint: string; problem: string; code: string },
    options: { status?: number; cause?: unknown; unsent?: boolean; cut?: boolean } = {},
  ) {
    super(`${what.call} to ${what.endpoint} ${what.problem}`, { cause: options.cause });
    this.name = what.code === "TimeoutError" ? "TimeoutError" : "TransportError";
    this.call = what.call;
    this.endpoint = what.endpoint;
    this.problem = what.problem;
    this.code = what.code;
    this.$metadata = options.status === undefined ? {} : { httpStatusCode: options.status };
    this.unsent = options.unsent ?? false;
    this.cut = options.cut ?? false;
  }
}

/**
 * The host's role could not be assumed: STS refused or could not be reached (`cause` keeps the
 * SDK error), or the web-identity token file could not be read (`problem` says why).
 */
export class RoleError extends Error {
  /** The role that was to be assumed. */
  readonly roleArn: string;
  /** Why, when it is not an SDK error (`cannot read web identity token file ...`). */
  readonly problem: string | undefined;

  /**
   * @param roleArn The role.
   * @param options `problem` in words, or `cause`, the SDK error.
   */
  constructor(roleArn: string, options: { problem?: string; cause?: unknown }) {
    super(`cannot assume role ${roleArn}`, { cause: options.cause });
    this.name = "RoleError";
    this.roleArn = roleArn;
    this.problem = options.problem;
  }
}

/**
 * Reads the EC2 error code of an SDK error.
 *
 * @param error What the SDK threw.
 * @returns The code (e.g. `InvalidAMIID.NotFound`), a network code, or `undefined`.
 */
export function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error instanceof TransportError) return error.code;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && NETWORK.has(code)) return code;
  if (error.name && error.name !== "Error") return error.name;
  return typeof code === "string" ? code : undefined;
}

/**
 * Whether an SDK error says the instance does not exist.
 *
 * @param error What the SDK threw.
 * @returns true for `InvalidInstanceID.NotFound`.
 */
export function isNotFound(error: unknown): boolean {
  return NOT_FOUND.has(errorCode(error) ?? "");
}

/** Server-side codes that say "try again later". */
const SERVER_BUSY = new Set([
  "InternalError",
  "InternalFailure",
  "Unavailable",
  "ServiceUnavailable",
]);

/**
 * Whether a failed call may well succeed if asked again a little later: throttling, EC2's
 * server errors, no answer in time, a dropped or refused connection. The SDK has already
 * retried it; a caller that polls anyway (a wait for a state) keeps polling.
 *
 * @param error What the call threw (an SDK error or the driver's error for it).
 * @returns true for transient failures.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTransient } from "./errors.ts";
 * assert.equal(isTransient(Object.assign(new Error("slow down"), { name: "RequestLimitExceeded" })), true);
 * assert.equal(isTransient(Object.assign(new Error("no"), { name: "AuthFailure" })), false);
 * ```
 */
export function isTransient(error: unknown): boolean {
  const code = error instanceof CloudError ? error.code : errorCode(error) ?? "";
  return THROTTLED.has(code) || SERVER_BUSY.has(code) || NETWORK.has(code) ||
    code === "TimeoutError";
}

/**
 * What a failed call says about its request, for retries: `throttled` (EC2 refused it before
 * doing anything), `unsent` (no connection was made), `lost` (a server error, a lost
 * connection, no answer in time, a cut answer: it may or may not have been applied, and asking
 * again may well work), `unreadable` (an answer that is not EC2's, such as a portal's page: it
 * may or may not have been applied, and asking again would most likely get the same), or
 * `undefined` (a definite answer, such as a bad parameter or a refused credential).
 *
 * @param error What the call threw.
 * @returns The kind of failure.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { failureKind } from "./errors.ts";
 * assert.equal(failureKind(Object.assign(new Error("slow down"), { name: "RequestLimitExceeded" })), "throttled");
 * assert.equal(failureKind(Object.assign(new Error("oops"), { name: "InternalError" })), "lost");
 * assert.equal(failureKind(Object.assign(new Error("no"), { name: "InvalidAMIID.NotFound" })), undefined);
 * ```
 */
export function failureKind(
  error: unknown,
): "throttled" | "unsent" | "lost" | "unreadable" | undefined {
  if (error instanceof TransportError) {
    if (error.unsent) return "unsent";
    const status = error.$metadata.httpStatusCode ?? 0;
    return error.code === "NotAnEc2Answer" && status < 500 && !error.cut ? "unreadable" : "lost";
  }
  const code = errorCode(error) ?? "";
  if (THROTTLED.has(code)) return "throttled";
  if (UNSENT.has(code)) return "unsent";
  // Any other code is EC2's definite answer (an answer that is not EC2's error document is a
  // TransportError): InsufficientInstanceCapacity, though sent with HTTP 500, launched nothing.
  if (SERVER_BUSY.has(code) || NETWORK.has(code) || code === "TimeoutError") return "lost";
  return undefined;
}

/** Network codes meaning no connection was made: the request never left. */
const UNSENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * Converts an SDK error into the driver's vocabulary.
 *
 * @param error What the SDK threw.
 * @param doing What the driver was attempting, as a sentence start ("Cannot launch instance").
 * @param context Where: host and region, for messages about credentials and the network.
 * @returns A `DriverError` whose message names the EC2 code.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toDriverError } from "./errors.ts";
 * const sdkError = Object.assign(new Error("The image id '[ami-1]' does not exist"), {
 *   name: "InvalidAMIID.NotFound",
 * });
 * const error = toDriverError(sdkError, "Cannot launch instance", { host: "aws", region: "us-east-1" });
 * assert.equal(
 *   error.message,
 *   "Cannot launch instance: InvalidAMIID.NotFound: The image id '[ami-1]' does not exist",
 * );
 * ```
 */
export function toDriverError(
  error: unknown,
  doing: string,
  context: { host: string; region?: string | undefined },
): DriverError {
  if (error instanceof DriverError) return error;
  if (error instanceof TransportError) {
    return new CloudError(error.code, `${doing}: ${error.message}${attemptsNote(error, true)}`, {
      cause: error,
    });
  }
  const where = context.region
    ? `host ${context.host}, region ${context.region}`
    : `host ${context.host}`;
  if (error instanceof RoleError) {
    const cause = error.cause;
    const code = errorCode(cause) ?? "AssumeRoleFailed";
    const why = error.problem ??
      `${code}: ${oneLine(cause instanceof Error ? cause.message : String(cause))}`;
    return new CredentialsError(
      code,
      `${doing}: cannot assume role ${error.roleArn} for ${where}: ${why}`,
      { cause: error },
    );
  }
  const code = errorCode(error) ?? "UnknownError";
  const raw = oneLine(error instanceof Error ? error.message : String(error));
  if (code === "CredentialsProviderError" || /could not load credentials/i.test(raw)) {
    return new CredentialsError(
      code,
      `${doing}: no AWS credentials for ${where} (looked in the driver configuration, environment variables and shared config/credentials files)`,
      { cause: error },
    );
  }
  if (/region is missing/i.test(raw)) {
    return new DriverError(
      `${doing}: no AWS region for ${where}; set "region" in the driver configuration or AWS_REGION`,
      { cause: error },
    );
  }
  if (AUTH.has(code)) {
    return new CredentialsError(code, `${doing}: ${code}: ${raw} (${where})`, { cause: error });
  }
  if (NOT_FOUND.has(code)) return new NotFoundError(`${doing}: ${code}: ${raw}`, { cause: error });
  if (NETWORK.has(code) || code === "TimeoutError" || code === "AbortError") {
    return new CloudError(
      code,
      `${doing}: cannot reach the EC2 endpoint for ${where}: ${code}: ${raw}${
        attemptsNote(error, false)
      }`,
      { cause: error },
    );
  }
  if (/Deserialization error/i.test(raw)) {
    // The SDK could not parse an answer; its message is about its own internals.
    const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata
      ?.httpStatusCode;
    return new CloudError(
      "UnreadableAnswer",
      `${doing}: the answer from the EC2 endpoint for ${where} could not be read${
        typeof status === "number" ? ` (HTTP ${status})` : ""
      }`,
      { cause: error },
    );
  }
  return new CloudError(code, `${doing}: ${code}: ${raw}${attemptsNote(error, false)}`, {
    cause: error,
  });
}
