/**
 * The EC2 connection settings of a host (region, credentials, endpoint), read from the driver
 * configuration. With none of them, the standard AWS SDK chain applies (environment variables,
 * shared config and credentials files, profiles, `AWS_ENDPOINT_URL_EC2`).
 *
 * @module
 */

import type { SettingReader } from "../provider.ts";
import { addSecret } from "../redact.ts";

/** The connection settings of one EC2 host. */
export interface Ec2Connection {
  /** AWS region; when absent the SDK chain (`AWS_REGION`, profile) decides. */
  readonly region?: string;
  /** Named profile of the shared config/credentials files. */
  readonly profile?: string;
  /** Static access key id (with `secretAccessKey`). */
  readonly accessKeyId?: string;
  /** Static secret access key. */
  readonly secretAccessKey?: string;
  /** Session token for temporary static credentials. */
  readonly sessionToken?: string;
  /** EC2 endpoint URL; when absent the SDK's (`AWS_ENDPOINT_URL_EC2`, then the region's). */
  readonly endpoint?: string;
  /** Whether the SDK may ask the instance metadata service for credentials (off by default). */
  readonly useInstanceMetadata: boolean;
}

/** The string settings, in the order they are read. */
const TEXT_KEYS = [
  "region",
  "profile",
  "accessKeyId",
  "secretAccessKey",
  "sessionToken",
  "endpoint",
] as const;

/** Every EC2 connection setting. */
export const EC2_SETTING_KEYS: readonly string[] = [...TEXT_KEYS, "useInstanceMetadata"];

/** What a region name may look like (EC2's `us-east-1`, private clouds' `RegionOne`). */
export const REGION = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/;

/** The message for a malformed region name. */
export const REGION_PROBLEM =
  "must be a region name: up to 64 letters, digits, '-', '_' or '.' (e.g. us-east-1)";

/** The longest endpoint URL accepted. */
const MAX_ENDPOINT_LENGTH = 2048;

/**
 * Reads and checks a host's EC2 connection settings; registers its secrets for redaction.
 *
 * @param read The configuration's reader for the host.
 * @returns The settings.
 * @throws naming the setting: a key without its secret, a malformed region or endpoint.
 */
export function parseEc2Connection(read: SettingReader): Ec2Connection {
  const connection: { -readonly [K in keyof Ec2Connection]: Ec2Connection[K] } = {
    useInstanceMetadata: read.flag("useInstanceMetadata") ?? false,
  };
  for (const key of TEXT_KEYS) {
    const value = read.text(key);
    if (value !== undefined) connection[key] = value;
  }
  if ((connection.accessKeyId === undefined) !== (connection.secretAccessKey === undefined)) {
    const missing = connection.accessKeyId === undefined ? "accessKeyId" : "secretAccessKey";
    const given = missing === "accessKeyId" ? "secretAccessKey" : "accessKeyId";
    throw read.fail(missing, `must be given together with "${given}"`);
  }
  if (connection.region !== undefined && !REGION.test(connection.region)) {
    throw read.fail("region", REGION_PROBLEM);
  }
  if (connection.endpoint !== undefined) {
    const problem = endpointProblem(connection.endpoint);
    if (problem !== undefined) throw read.fail("endpoint", problem);
  }
  addSecret(connection.secretAccessKey);
  addSecret(connection.sessionToken);
  return connection;
}

/**
 * What is wrong with an endpoint URL, never quoting it (it could hold a password).
 *
 * @returns `undefined` for an http(s) URL with a host and no user, password, query or fragment.
 */
function endpointProblem(value: string): string | undefined {
  const expected = "must be an http(s) URL such as https://ec2.us-east-1.amazonaws.com";
  if (value.length > MAX_ENDPOINT_LENGTH) {
    return `${expected}, at most ${MAX_ENDPOINT_LENGTH} characters`;
  }
  // The URL parser would quietly drop tabs and line breaks; refuse every blank and control character.
  // deno-lint-ignore no-control-regex -- control characters are what must be refused
  if (/[\s\x00-\x1F\x7F]/.test(value)) return `${expected}, without blanks`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return expected;
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    return expected;
  }
  if (url.username !== "" || url.password !== "") {
    return "must not contain a user name or password (put credentials in accessKeyId and secretAccessKey)";
  }
  if (url.search !== "" || url.hash !== "") return `${expected}, without a query or fragment`;
  return undefined;
}
