/**
 * A small XML-RPC client: encodes a `methodCall`, POSTs it with `fetch`, reads the
 * `methodResponse` (a value or a fault). Bounded: every call has a time limit and a cap on the
 * answer's size, and every way it can fail becomes one operator-readable line naming the server.
 * It knows nothing of OpenNebula; `one_rpc.ts` adds OpenNebula's answer conventions on top.
 *
 * Our own small codec rather than an npm XML-RPC client: the most used one (`xmlrpc`, 1.3.x)
 * brings `sax`, `xmlbuilder` and Node's callback-style `http` client into every one of the
 * hundreds of processes oned starts a minute, and we would still have to wrap it for what an
 * action needs: a time limit the action's deadline can end, a cap on the answer's size,
 * refused redirects and one-line messages naming the server. The driver sends four value types
 * and reads the standard ones; this file is under 400 lines, uses the XML reader the driver
 * already has, and is tested against servers shaped like oned.
 *
 * @module
 */

import { CloudError, InvalidInputError } from "../util/errors.ts";
import { child, parseXml, type XmlElement } from "../util/xml.ts";
import { collectCapped } from "../util/bounded_read.ts";

/** A parameter the client can send: `<string>`, `<int>` (32-bit), `<boolean>` or `<double>`. */
export type XmlRpcParam = string | number | boolean;

/** A value a server can answer. `<base64>` becomes bytes, `<dateTime.iso8601>` its text. */
export type XmlRpcValue =
  | string
  | number
  | boolean
  | null
  | Uint8Array
  | XmlRpcValue[]
  | { [member: string]: XmlRpcValue };

/** What a `methodResponse` holds: one value, or a fault. */
type XmlRpcResponse =
  | { readonly ok: true; readonly value: XmlRpcValue }
  | { readonly ok: false; readonly faultCode: number; readonly faultString: string };

/**
 * A call failed: the server could not be reached, did not answer in time, answered with an
 * HTTP error, too much, something that is not XML-RPC, or a fault. `code` says which.
 */
export class XmlRpcError extends CloudError {}

/** The server answered with an XML-RPC fault (code `Fault`): its code and string, as sent. */
export class XmlRpcFault extends XmlRpcError {
  /** The fault's code (xmlrpc-c's: `-506` no such method, `-505` timeout, ...). */
  readonly faultCode: number;
  /** The fault's text. */
  readonly faultString: string;

  /**
   * @param faultCode The fault's code.
   * @param faultString The fault's text.
   * @param message One-line description naming the server, the method and the fault.
   */
  constructor(faultCode: number, faultString: string, message: string) {
    super("Fault", message);
    this.faultCode = faultCode;
    this.faultString = faultString;
  }
}

/** Default time limit of one call. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Default cap on the size of one answer. */
const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
// deno-lint-ignore no-control-regex -- control characters cannot be sent in XML 1.0
const NOT_XML = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;

function escapeText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/\r/g, "&#13;");
}

function encodeParam(param: XmlRpcParam, index: number): string {
  if (typeof param === "boolean") return `<boolean>${param ? 1 : 0}</boolean>`;
  if (typeof param === "number") {
    if (!Number.isFinite(param)) {
      throw new RangeError(`XML-RPC parameter ${index} is not a finite number: ${param}`);
    }
    if (!Number.isInteger(param)) return `<double>${param}</double>`;
    if (param < INT_MIN || param > INT_MAX) {
      throw new RangeError(`XML-RPC parameter ${index} does not fit a 32-bit int: ${param}`);
    }
    return `<int>${param}</int>`;
  }
  if (NOT_XML.test(param)) {
    throw new RangeError(`XML-RPC parameter ${index} contains a character XML cannot carry`);
  }
  return `<string>${escapeText(param)}</string>`;
}

/**
 * Encodes a call as an XML-RPC `methodCall` document.
 *
 * @param method The method name (e.g. `one.vm.info`).
 * @param params Its parameters, in order.
 * @returns The document.
 * @throws {RangeError} for a number that is not finite or an integer beyond 32 bits, or a
 * string with a character XML cannot carry.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeMethodCall } from "./xmlrpc.ts";
 *
 * assert.equal(
 *   encodeMethodCall("one.vm.info", ["oneadmin:pw<&>", 42, true]),
 *   '<?xml version="1.0"?><methodCall><methodName>one.vm.info</methodName><params>' +
 *     "<param><value><string>oneadmin:pw&lt;&amp;&gt;</string></value></param>" +
 *     "<param><value><int>42</int></value></param>" +
 *     "<param><value><boolean>1</boolean></value></param></params></methodCall>",
 * );
 * ```
 */
export function encodeMethodCall(method: string, params: readonly XmlRpcParam[]): string {
  if (!/^[A-Za-z0-9_.:/]+$/.test(method)) {
    throw new RangeError(`Invalid XML-RPC method name: ${JSON.stringify(method)}`);
  }
  const encoded = params.map((p, i) => `<param><value>${encodeParam(p, i)}</value></param>`);
  return `<?xml version="1.0"?><methodCall><methodName>${method}</methodName>` +
    `<params>${encoded.join("")}</params></methodCall>`;
}

/** The answer is not an XML-RPC `methodResponse`; the message says what is wrong. */
class FormatError extends Error {}

function only(element: XmlElement, what: string): XmlElement {
  const [first, ...rest] = element.children;
  if (first === undefined || rest.length > 0) {
    throw new FormatError(`<${element.name}> must hold exactly one ${what}`);
  }
  return first;
}

function decodeValue(value: XmlElement): XmlRpcValue {
  if (value.name !== "value") throw new FormatError(`expected <value>, found <${value.name}>`);
  if (value.children.length === 0) return value.text; // a value without a type is a string
  const typed = only(value, "type element");
  const text = typed.text.trim();
  switch (typed.name) {
    case "string":
      return typed.text;
    case "int":
    case "i4":
    case "i8": {
      if (!/^[+-]?\d+$/.test(text)) throw new FormatError(`<${typed.name}> is not an integer`);
      return Number(text);
    }
    case "boolean":
      if (text !== "0" && text !== "1") throw new FormatError("<boolean> is neither 0 nor 1");
      return text === "1";
    case "double": {
      const n = Number(text);
      if (text === "" || !Number.isFinite(n)) throw new FormatError("<double> is not a number");
      return n;
    }
    case "nil":
      return null;
    case "dateTime.iso8601":
      return text;
    case "base64":
      try {
        return Uint8Array.from(atob(text.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
      } catch {
        throw new FormatError("<base64> is not base64");
      }
    case "array": {
      const data = child(typed, "data");
      if (!data) throw new FormatError("<array> has no <data>");
      return data.children.map(decodeValue);
    }
    case "struct": {
      const members: { [member: string]: XmlRpcValue } = {};
      for (const member of typed.children) {
        const name = member.name === "member" ? child(member, "name") : undefined;
        const inner = member.name === "member" ? child(member, "value") : undefined;
        if (!name || !inner) throw new FormatError("<struct> member without <name> or <value>");
        Object.defineProperty(members, name.text, {
          value: decodeValue(inner),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return members;
    }
    default:
      throw new FormatError(`unknown value type <${typed.name}>`);
  }
}

/**
 * Reads an XML-RPC `methodResponse` document.
 *
 * @param xml The document.
 * @returns Its value, or its fault's code and string.
 * @throws {Error} when the document is not a well-formed `methodResponse`; the message says
 * what is wrong.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMethodResponse } from "./xmlrpc.ts";
 *
 * const answer = parseMethodResponse(
 *   "<methodResponse><params><param><value><array><data>" +
 *     "<value><boolean>1</boolean></value><value><string>&lt;VM/&gt;</string></value>" +
 *     "<value><i4>0</i4></value></data></array></value></param></params></methodResponse>",
 * );
 * assert.deepEqual(answer, { ok: true, value: [true, "<VM/>", 0] });
 * ```
 */
export function parseMethodResponse(xml: string): XmlRpcResponse {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (error) {
    throw new FormatError(error instanceof Error ? error.message : String(error));
  }
  if (root.name !== "methodResponse") {
    throw new FormatError(`the root element is <${root.name}>, not <methodResponse>`);
  }
  const body = only(root, "<params> or <fault>");
  if (body.name === "params") {
    const param = only(body, "<param>");
    if (param.name !== "param") throw new FormatError(`expected <param>, found <${param.name}>`);
    return { ok: true, value: decodeValue(only(param, "<value>")) };
  }
  if (body.name === "fault") {
    const fault = decodeValue(only(body, "<value>"));
    const code = isStruct(fault) ? fault["faultCode"] : undefined;
    const text = isStruct(fault) ? fault["faultString"] : undefined;
    if (typeof code !== "number" || typeof text !== "string") {
      throw new FormatError("<fault> lacks an int faultCode and a string faultString");
    }
    return { ok: false, faultCode: code, faultString: text };
  }
  throw new FormatError(`expected <params> or <fault>, found <${body.name}>`);
}

function isStruct(value: XmlRpcValue): value is { [member: string]: XmlRpcValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

/** How a client calls its server. */
interface XmlRpcClientOptions {
  /** Who the server is, for messages (`oned`, `the partner cloud`). Default `the XML-RPC server`. */
  readonly label?: string;
  /** Time limit of one call, in milliseconds, answer included. Default {@link DEFAULT_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Cap on the size of one answer, in bytes. Default {@link DEFAULT_MAX_RESPONSE_BYTES}. */
  readonly maxResponseBytes?: number;
  /** Ends every call at once when it aborts (the action's deadline). */
  readonly signal?: AbortSignal;
}

/** Calls the methods of one XML-RPC server. */
export class XmlRpcClient {
  /** The server's URL. */
  readonly url: string;
  /** How messages name the server: `<label> at <url>`. */
  readonly where: string;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #signal: AbortSignal | undefined;

  /**
   * @param url The server's `http://` or `https://` URL.
   * @param options Label, time limit and size cap.
   * @throws {InvalidInputError} when the URL is not an http(s) URL.
   */
  constructor(url: string, options: XmlRpcClientOptions = {}) {
    const label = options.label ?? "the XML-RPC server";
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
      throw new InvalidInputError(
        `The endpoint of ${label} is not an http:// or https:// URL: ${JSON.stringify(url)}`,
      );
    }
    this.url = url;
    this.where = `${label} at ${url}`;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#signal = options.signal;
  }

  /**
   * Calls a method and returns its value.
   *
   * @param method The method name.
   * @param params Its parameters.
   * @returns The value the server answered.
   * @throws {XmlRpcError} with code `Unreachable`, `Timeout`, `Redirect` (never followed),
   * `HttpStatus`, `TooLarge`, `InvalidResponse` or `Fault`, and a one-line message naming the
   * server.
   */
  async call(method: string, params: readonly XmlRpcParam[]): Promise<XmlRpcValue> {
    const body = encodeMethodCall(method, params);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    const outer = this.#signal;
    const stop = () => controller.abort();
    outer?.addEventListener("abort", stop);
    let text: string;
    try {
      if (outer?.aborted) throw outer.reason;
      text = await this.#post(method, body, controller.signal);
    } catch (error) {
      // The action's deadline is reported by the action's frame, with its own message.
      if (outer?.aborted) throw outer.reason;
      if (controller.signal.aborted) {
        throw new XmlRpcError(
          "Timeout",
          `${this.where} did not answer ${method} within ${seconds(this.#timeoutMs)}`,
          { cause: error },
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", stop);
    }
    let response: XmlRpcResponse;
    try {
      response = parseMethodResponse(text);
    } catch (error) {
      if (!(error instanceof FormatError)) throw error;
      throw new XmlRpcError(
        "InvalidResponse",
        `${this.where} answered ${method} with something that is not an XML-RPC response: ${error.message}`,
      );
    }
    if (!response.ok) {
      throw new XmlRpcFault(
        response.faultCode,
        response.faultString,
        `${this.where} answered ${method} with fault ${response.faultCode}: ${response.faultString}`,
      );
    }
    return response.value;
  }

  async #post(method: string, body: string, signal: AbortSignal): Promise<string> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "text/xml", "accept-encoding": "identity" },
        body,
        signal,
        // Never followed: the call carries the session (user and password).
        redirect: "manual",
      });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new XmlRpcError(
        "Unreachable",
        `${this.where} cannot be reached: ${networkReason(error)}`,
        { cause: error },
      );
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw new XmlRpcError(
        "Redirect",
        `${this.where} answered ${method} with HTTP ${response.status}${
          response.statusText ? ` ${response.statusText}` : ""
        }, a redirect${
          redirectTarget(response.headers.get("location"), this.url)
        }, which is not followed: calls carry credentials and go only to the URL configured`,
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new XmlRpcError(
        "HttpStatus",
        `${this.where} answered ${method} with HTTP ${response.status}${
          response.statusText ? ` ${response.statusText}` : ""
        }`,
      );
    }
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > this.#maxBytes) {
      await response.body?.cancel();
      throw this.#tooLarge(method);
    }
    // Leaving the loop early cancels the body.
    const bytes = response.body ? await collectCapped(response.body, this.#maxBytes) : undefined;
    if (response.body && bytes === undefined) throw this.#tooLarge(method);
    return new TextDecoder().decode(bytes);
  }

  #tooLarge(method: string): XmlRpcError {
    return new XmlRpcError(
      "TooLarge",
      `${this.where} answered ${method} with more than ${this.#maxBytes} bytes`,
    );
  }
}

/**
 * ` to <where>` for a redirect's `Location`, resolved against the URL called: its origin and
 * path only (a query could carry a token); "" when there is none or it is not a URL.
 */
function redirectTarget(location: string | null, base: string): string {
  if (!location) return "";
  try {
    const url = new URL(location, base);
    if (url.protocol !== "http:" && url.protocol !== "https:") return "";
    return ` to ${url.origin}${url.pathname}`;
  } catch {
    return "";
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * The useful end of a fetch error: Deno's `fetch failed` has a cause whose message chains the
 * reasons (`error sending request for url (...): client error (Connect): tcp connect error:
 * Connection refused (os error 111)`); the last one is what an operator can act on.
 */
function networkReason(error: unknown): string {
  let innermost = error;
  for (let depth = 0; depth < 8 && innermost instanceof Error && innermost.cause; depth++) {
    innermost = innermost.cause;
  }
  const message = innermost instanceof Error ? innermost.message : String(innermost);
  const parts = message.split(": ").map((p) => p.trim()).filter((p) => p !== "");
  return parts.at(-1) ?? "unknown network error";
}
