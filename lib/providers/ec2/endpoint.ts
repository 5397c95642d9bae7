/**
 * Which EC2 endpoint a host's calls go to, in words, as the AWS SDK picks it: the host's
 * `endpoint` setting, else `AWS_ENDPOINT_URL_EC2`, else `AWS_ENDPOINT_URL` (neither when
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true), else the region's. For the operator's eyes
 * (`doctor`); the SDK decides on its own.
 *
 * @module
 */

import { printable } from "../../util/output.ts";

/** The environment variables that name an endpoint, in the order the SDK reads them. */
const ENDPOINT_VARIABLES = ["AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL"] as const;

/**
 * Names the endpoint the SDK will ask: a variable's URL is followed by the variable's name, so
 * the operator knows where it came from; its user name, password, query and fragment are left
 * out (a variable, unlike the `endpoint` setting, is not checked before use).
 *
 * @param endpoint The host's `endpoint` setting, if any.
 * @param region The region the calls are made in, if known.
 * @param env Where to read the variables.
 * @returns A URL, possibly with its source in parentheses, or "the SDK's default endpoint".
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { askedEndpoint } from "./endpoint.ts";
 * const env = new Map([["AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:4566"]]);
 * assert.equal(askedEndpoint(undefined, "eu-west-1", env), "http://127.0.0.1:4566 (AWS_ENDPOINT_URL_EC2)");
 * assert.equal(askedEndpoint("https://ec2.lab", "eu-west-1", env), "https://ec2.lab");
 * assert.equal(askedEndpoint(undefined, "eu-west-1", new Map()), "https://ec2.eu-west-1.amazonaws.com");
 * ```
 */
export function askedEndpoint(
  endpoint: string | undefined,
  region: string | undefined,
  env: { get(name: string): string | undefined },
): string {
  if (endpoint !== undefined) return endpoint;
  if (env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.toLowerCase() !== "true") {
    for (const name of ENDPOINT_VARIABLES) {
      const value = env.get(name);
      if (value) return `${shown(value)} (${name})`;
    }
  }
  return region ? `https://ec2.${region}.amazonaws.com` : "the SDK's default endpoint";
}

/** A URL without its credentials, query and fragment; as given when it has none of them. */
function shown(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return printable(value);
  }
  if (url.username === "" && url.password === "" && url.search === "" && url.hash === "") {
    return printable(value);
  }
  url.username =
    url.password =
    url.search =
    url.hash =
      "";
  return url.href;
}
