/**
 * The check of an endpoint URL given in the configuration, the same for every cloud: each
 * provider supplies its own words.
 *
 * @module
 */

/** The longest endpoint URL accepted. */
const MAX_ENDPOINT_LENGTH = 2048;

/** A provider's words for what is wrong with an endpoint URL. */
interface EndpointWords {
  /** The message for a value that is not an http(s) URL with a host (`must be an http(s) URL such as ...`). */
  readonly expected: string;
  /** The message for a URL holding a user name or password: where the credentials go instead. */
  readonly credentials: string;
  /**
   * Whether a value that is too long or holds blanks is told so (`expected` followed by
   * `, at most 2048 characters` or `, without blanks`); otherwise it gets `expected` alone.
   */
  readonly detailed?: boolean;
}

/**
 * What is wrong with an endpoint URL, never quoting it (it could hold a password).
 *
 * @param value The URL as configured.
 * @param words The provider's messages.
 * @returns `undefined` for an http(s) URL with a host and no user, password, query or fragment,
 *   at most 2048 characters and without blanks or control characters; else the message.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { endpointProblem } from "./url.ts";
 * const words = { expected: "must be an http(s) URL", credentials: "must not hold a password" };
 * assert.equal(endpointProblem("https://cloud.example.org:2633/RPC2", words), undefined);
 * assert.equal(endpointProblem("https://u:p@cloud.example.org/", words), "must not hold a password");
 * assert.equal(endpointProblem("https://cloud.example.org/?a=1", words), "must be an http(s) URL, without a query or fragment");
 * assert.equal(endpointProblem("ftp://cloud.example.org/", words), "must be an http(s) URL");
 * ```
 */
export function endpointProblem(value: string, words: EndpointWords): string | undefined {
  const { expected } = words;
  if (value.length > MAX_ENDPOINT_LENGTH) {
    return words.detailed ? `${expected}, at most ${MAX_ENDPOINT_LENGTH} characters` : expected;
  }
  // The URL parser would quietly drop tabs and line breaks; refuse every blank and control character.
  // deno-lint-ignore no-control-regex -- control characters are what must be refused
  if (/[\s\x00-\x1F\x7F]/.test(value)) {
    return words.detailed ? `${expected}, without blanks` : expected;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return expected;
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    return expected;
  }
  if (url.username !== "" || url.password !== "") return words.credentials;
  if (url.search !== "" || url.hash !== "") return `${expected}, without a query or fragment`;
  return undefined;
}
