/**
 * AWS Signature Version 4, as EC2 checks it: the `Authorization` header's credential scope,
 * signed headers and signature are recomputed from the request and the secret of the access
 * key (canonical request, string to sign, HMAC-SHA256 key chain).
 *
 * @module
 */

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { Ec2Error, errors } from "./errors.ts";

/** The only algorithm EC2 accepts in the header. */
export const ALGORITHM = "AWS4-HMAC-SHA256";

/** What a verified request was signed with. */
export interface VerifiedSignature {
  /** The access key id of the credential. */
  readonly accessKeyId: string;
  /** The region of the credential scope; it selects the region's state. */
  readonly region: string;
}

/** The parts of a request the signature covers. */
export interface SignableRequest {
  /** HTTP method. */
  readonly method: string;
  /** The full request URL (path and query are signed). */
  readonly url: URL;
  /** The request headers. */
  readonly headers: Headers;
  /** The exact body bytes. */
  readonly body: Uint8Array;
}

/** How to verify. */
export interface VerifyOptions {
  /** Secret of an access key id, undefined when the key is unknown. */
  readonly secretFor: (accessKeyId: string) => string | undefined;
  /** The service name the scope must carry. */
  readonly service: string;
  /** Now, in ms since the epoch. */
  readonly now: number;
  /** How far the request time may be from now (AWS: 15 minutes). */
  readonly maxSkewMs: number;
}

/**
 * Hex SHA-256 of some bytes or text.
 *
 * @param data The input.
 * @returns Lowercase hex digest.
 */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Uint8Array | string, data: string): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}

/**
 * URI-encodes per RFC 3986 as SigV4 requires (everything but `A-Za-z0-9-._~`).
 *
 * @param text Text to encode.
 * @returns The encoded text.
 */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The signing key: HMAC chain over date, region, service and `aws4_request`.
 *
 * @param secret Secret access key.
 * @param date `YYYYMMDD` of the scope.
 * @param region Region of the scope.
 * @param service Service of the scope.
 * @returns The derived key.
 */
export function signingKey(
  secret: string,
  date: string,
  region: string,
  service: string,
): Uint8Array {
  const kDate = hmac(`AWS4${secret}`, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, "aws4_request");
}

/**
 * The canonical request for a set of signed headers. The path is encoded segment by segment
 * over its already-escaped form (non-S3 services sign it twice-encoded); the query is sorted
 * by encoded name, then value; header values are trimmed with inner runs of spaces collapsed.
 *
 * @param request The request.
 * @param signedHeaders Lowercase header names, as listed in `SignedHeaders`.
 * @returns The canonical request text.
 */
export function canonicalRequest(request: SignableRequest, signedHeaders: readonly string[]) {
  const path = request.url.pathname === "" ? "/" : request.url.pathname;
  const canonicalPath = path.split("/").map(uriEncode).join("/");
  const query = [...request.url.searchParams]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const headerLines = signedHeaders.map((name) => {
    const value = request.headers.get(name) ?? "";
    return `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
  });
  return [
    request.method.toUpperCase(),
    canonicalPath,
    query,
    headerLines.join(""),
    signedHeaders.join(";"),
    sha256Hex(request.body),
  ].join("\n");
}

/**
 * The string to sign.
 *
 * @param amzDate `YYYYMMDDTHHMMSSZ`.
 * @param scope `date/region/service/aws4_request`.
 * @param canonical The canonical request.
 * @returns The string to sign.
 */
export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

/**
 * Parses `YYYYMMDDTHHMMSSZ`.
 *
 * @param text The `X-Amz-Date` value.
 * @returns ms since the epoch, or undefined when malformed.
 */
export function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, ...number[]];
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Formats a time as `YYYYMMDDTHHMMSSZ`.
 *
 * @param ms ms since the epoch.
 * @returns The `X-Amz-Date` text.
 */
export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly terminator: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

function parseAuthorization(header: string): ParsedAuthorization | undefined {
  if (!header.startsWith(`${ALGORITHM} `)) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) return undefined;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signed = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signed || !signature) return undefined;
  const scope = credential.split("/");
  if (scope.length !== 5 || scope.some((s) => s === "")) return undefined;
  const [accessKeyId, date, region, service, terminator] = scope as [
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    accessKeyId,
    date,
    region,
    service,
    terminator,
    signedHeaders: signed.split(";"),
    signature,
  };
}

/**
 * The credential scope and hex signature of a request over its signed headers.
 *
 * @param request The request.
 * @param signedHeaders Lowercase, sorted names of the signed headers.
 * @param amzDate `X-Amz-Date` (its first 8 characters are the scope's date).
 * @param secret Secret access key.
 * @param region Region of the scope.
 * @param service Service of the scope.
 * @returns The scope and the signature.
 */
function sign(
  request: SignableRequest,
  signedHeaders: readonly string[],
  amzDate: string,
  secret: string,
  region: string,
  service: string,
): { scope: string; signature: string } {
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = stringToSign(amzDate, scope, canonicalRequest(request, signedHeaders));
  const signature = createHmac("sha256", signingKey(secret, date, region, service))
    .update(toSign).digest("hex");
  return { scope, signature };
}

function mismatch(message: string): Ec2Error {
  return new Ec2Error("SignatureDoesNotMatch", message);
}

/**
 * Verifies a request's SigV4 `Authorization` header.
 *
 * @param request The request as received.
 * @param options Key lookup, service, clock and allowed skew.
 * @returns The access key and region the request was signed with.
 * @throws {Ec2Error} `AuthFailure` (no or unparseable header, unknown key, no date),
 *   `RequestExpired` (time off by more than the skew) or `SignatureDoesNotMatch`.
 */
export function verifySignature(
  request: SignableRequest,
  options: VerifyOptions,
): VerifiedSignature {
  const header = request.headers.get("authorization");
  if (!header) throw errors.authFailure();
  const auth = parseAuthorization(header);
  if (!auth) throw errors.authFailure();
  const secret = options.secretFor(auth.accessKeyId);
  if (secret === undefined) throw errors.authFailure();
  const amzDate = request.headers.get("x-amz-date");
  const signedAt = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!amzDate || signedAt === undefined) throw errors.authFailure();
  if (Math.abs(options.now - signedAt) > options.maxSkewMs) {
    throw new Ec2Error(
      "RequestExpired",
      `Request has expired. Timestamp date is ${new Date(signedAt).toISOString()}`,
    );
  }
  if (auth.date !== amzDate.slice(0, 8)) {
    throw mismatch(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${
        amzDate.slice(0, 8)
      }', from '${amzDate}'.`,
    );
  }
  if (auth.service !== options.service) {
    throw mismatch(`Credential should be scoped to correct service: '${options.service}'.`);
  }
  if (auth.terminator !== "aws4_request") {
    throw mismatch("Credential should be scoped with a valid terminator: 'aws4_request'.");
  }
  if (!/^[a-z]{2}(-[a-z0-9]+)+-\d+$/.test(auth.region)) {
    throw mismatch(`Credential should be scoped to a valid region, not '${auth.region}'.`);
  }
  const signedHeaders = auth.signedHeaders;
  const sorted = signedHeaders.every((h, i) =>
    h === h.toLowerCase() && (i === 0 || signedHeaders[i - 1]! < h)
  );
  if (!sorted || !signedHeaders.includes("host")) {
    throw mismatch("'Host' must be a signed header, and signed headers must be sorted lowercase.");
  }
  for (const name of signedHeaders) {
    if (!request.headers.has(name)) throw mismatch(`Signed header '${name}' is missing.`);
  }
  const { signature: expected } = sign(
    request,
    signedHeaders,
    amzDate,
    secret,
    auth.region,
    auth.service,
  );
  const given = auth.signature.toLowerCase();
  const same = given.length === expected.length &&
    timingSafeEqual(new TextEncoder().encode(given), new TextEncoder().encode(expected));
  if (!same) {
    throw mismatch(
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
  }
  return { accessKeyId: auth.accessKeyId, region: auth.region };
}

/** What {@link signRequest} needs. */
export interface SignOptions {
  /** Access key id. */
  readonly accessKeyId: string;
  /** Secret access key. */
  readonly secretAccessKey: string;
  /** Region of the scope. */
  readonly region: string;
  /** Service of the scope (default `ec2`). */
  readonly service?: string;
  /** Signing time in ms (default now). */
  readonly at?: number;
  /** Session token to send (and sign). */
  readonly sessionToken?: string;
}

/**
 * Signs a request the way the SDK does (for raw-`fetch` tests): adds `host`, `x-amz-date`,
 * optionally `x-amz-security-token`, and the `Authorization` header over all of them.
 *
 * @param request Method, URL, headers (modified in place) and body.
 * @param options Credentials, region and time.
 * @returns The same headers, signed.
 */
export function signRequest(request: SignableRequest, options: SignOptions): Headers {
  const service = options.service ?? "ec2";
  const amzDate = formatAmzDate(options.at ?? Date.now());
  const headers = request.headers;
  headers.set("host", request.url.host);
  headers.set("x-amz-date", amzDate);
  if (options.sessionToken) headers.set("x-amz-security-token", options.sessionToken);
  const signed = [...headers.keys()].map((k) => k.toLowerCase()).filter((k) =>
    k !== "authorization"
  ).sort();
  const { scope, signature } = sign(
    request,
    signed,
    amzDate,
    options.secretAccessKey,
    options.region,
    service,
  );
  headers.set(
    "authorization",
    `${ALGORITHM} Credential=${options.accessKeyId}/${scope}, SignedHeaders=${
      signed.join(";")
    }, Signature=${signature}`,
  );
  return headers;
}
