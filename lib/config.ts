/**
 * Driver configuration: which region, credentials and endpoint serve each OpenNebula host, and
 * per-host defaults. With no configuration file at all, the standard AWS SDK chain applies
 * (environment variables, shared config and credentials files, profiles,
 * `AWS_ENDPOINT_URL_EC2`), so one account and region work out of the box; the file lets one
 * front-end serve several accounts and regions, one OpenNebula host each.
 *
 * The file is JSON, at `/etc/one/hybrid_driver.json` unless `HYBRID_DRIVER_CONFIG` names
 * another path. Settings under `defaults` apply to every host; `hosts.<name>` overrides them.
 * When `hosts` is present, only the hosts it lists are served. Secrets are never printed.
 *
 * @module
 */

import { readBoundedText } from "./bounded_read.ts";
import { templateKeyProblem } from "./ec2/template_keys.ts";
import { InvalidInputError } from "./errors.ts";
import { fileErrorReason } from "./file_errors.ts";
import { JsonSyntaxError, parseJson } from "./json.ts";
import { addSecret } from "./redact.ts";
import { closestName } from "./suggest.ts";

/** Where the configuration file is looked for when `HYBRID_DRIVER_CONFIG` is unset. */
export const DEFAULT_CONFIG_PATH = "/etc/one/hybrid_driver.json";
/** Environment variable that names another configuration file. */
export const CONFIG_PATH_VARIABLE = "HYBRID_DRIVER_CONFIG";
/** The largest configuration file read, in bytes (a file for hundreds of hosts is under 100 KB). */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/**
 * The numeric settings: the least and most accepted, and the default, all in seconds. The
 * most keeps every wait well inside what a timer can hold and what oned's `-w` allows.
 */
export const NUMERIC_SETTINGS = {
  actionTimeoutSeconds: { min: 15, max: 86_400, default: 300 },
  stateWaitSeconds: { min: 1, max: 86_390, default: 240 },
  statePollSeconds: { min: 0.05, max: 60, default: 2 },
  notFoundGraceSeconds: { min: 1, max: 86_400, default: 600 },
  notFoundRetrySeconds: { min: 0.1, max: 3_600, default: 15 },
} as const;

/**
 * Region names: letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit,
 * at most 64 characters. AWS names (`us-east-1`) and those of EC2-compatible clouds
 * (`RegionOne`) fit; blanks, slashes and anything that would change an endpoint's host do not.
 */
/** What a region name may look like (EC2's `us-east-1`, private clouds' `RegionOne`). */
export const REGION = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/;
/** The longest endpoint URL accepted. */
const MAX_ENDPOINT_LENGTH = 2048;

/** Which usage keys a poll reports: 3.2–4.12 (`USEDMEMORY`) or 4.14+ (`MEMORY`). */
export type MonitoringKeys = "legacy" | "current";

/** The settings that serve one OpenNebula host. */
export interface HostSettings {
  /** OpenNebula host name. */
  readonly host: string;
  /** Where the settings came from: the file's path, or "" when there is no file. */
  readonly source: string;
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
  /** Defaults for deployment-template keys (`INSTANCETYPE`, `KEYPAIR`, ...). */
  readonly template: Readonly<Record<string, string>>;
  /** How long an action may take, in seconds (below oned's `-w`). */
  readonly actionTimeoutSeconds: number;
  /** How long after a VM's deploy a "not found" still means "not visible yet", in seconds. */
  readonly notFoundGraceSeconds: number;
  /** How long an action waits for the cloud to reach its target state, in seconds (below `actionTimeoutSeconds`). */
  readonly stateWaitSeconds: number;
  /** First interval between state checks while waiting, in seconds (it grows up to 5 s). */
  readonly statePollSeconds: number;
  /** How long a terminate keeps retrying an id EC2 does not know yet, in seconds. */
  readonly notFoundRetrySeconds: number;
  /** Usage keys for polls; when absent, chosen from the OpenNebula generation detected. */
  readonly monitoringKeys?: MonitoringKeys;
}

const STRING_KEYS = [
  "region",
  "profile",
  "accessKeyId",
  "secretAccessKey",
  "sessionToken",
  "endpoint",
] as const;
const KNOWN_KEYS = new Set<string>([
  ...STRING_KEYS,
  "useInstanceMetadata",
  "template",
  ...Object.keys(NUMERIC_SETTINGS),
  "monitoringKeys",
]);

type RawSettings = Record<string, unknown>;

/**
 * Loads the settings for one OpenNebula host.
 *
 * @param host OpenNebula host name.
 * @param env Where to read `HYBRID_DRIVER_CONFIG` (defaults to the process environment).
 * @param defaultPath The file read when the variable is unset; its absence means "no file".
 * @returns The host's settings, with defaults applied.
 * @throws {InvalidInputError} when the file is unreadable, larger than
 * {@link MAX_CONFIG_FILE_BYTES}, does not end in time, is invalid, or does not list the host.
 */
export async function loadHostSettings(
  host: string,
  env: { get(name: string): string | undefined } = Deno.env,
  defaultPath: string = DEFAULT_CONFIG_PATH,
): Promise<HostSettings> {
  const named = env.get(CONFIG_PATH_VARIABLE);
  const path = named || defaultPath;
  let text: string;
  try {
    text = await readBoundedText(path, MAX_CONFIG_FILE_BYTES);
  } catch (error) {
    if (!named && error instanceof Deno.errors.NotFound) return settingsFor(host, "", {}, {});
    const reason = fileErrorReason(error);
    throw new InvalidInputError(`Cannot read driver configuration ${path}: ${reason}`);
  }
  return parseConfig(text, path, host);
}

/**
 * Parses a configuration file's text and picks one host's settings.
 *
 * @param text The JSON text.
 * @param path The file's path, for messages.
 * @param host OpenNebula host name.
 * @returns The host's settings.
 * @throws {InvalidInputError} on invalid JSON (by line and column, never quoting the text,
 * which may hold a secret), unknown keys (template keys included), wrong types, numbers out of
 * range, a malformed region or endpoint, or an unlisted host.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./config.ts";
 * const text = '{"defaults":{"region":"eu-west-1"},"hosts":{"aws-eu":{"profile":"burst"}}}';
 * const settings = parseConfig(text, "/etc/one/hybrid_driver.json", "aws-eu");
 * assert.equal(settings.region, "eu-west-1");
 * assert.equal(settings.profile, "burst");
 * ```
 */
export function parseConfig(text: string, path: string, host: string): HostSettings {
  let data: unknown;
  try {
    data = parseJson(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    throw new InvalidInputError(
      `Invalid JSON in driver configuration ${path} at line ${error.line}, column ${error.column}: ${error.reason}`,
    );
  }
  const root = asObject(data, path, "the top level");
  for (const key of Object.keys(root)) {
    if (key !== "defaults" && key !== "hosts") {
      throw new InvalidInputError(
        `Unknown key "${show(key)}" at the top level of ${path}${
          didYouMean(key, ["defaults", "hosts"])
        } (expected defaults, hosts)`,
      );
    }
  }
  const defaults = root.defaults === undefined ? {} : asObject(root.defaults, path, "defaults");
  let hostSettings: RawSettings = {};
  if (root.hosts !== undefined) {
    const hosts = asObject(root.hosts, path, "hosts");
    const entry = hosts[host];
    if (entry === undefined) {
      const known = Object.keys(hosts).join(", ") || "none";
      throw new InvalidInputError(
        `Host "${host}" is not configured in ${path} (configured hosts: ${known})`,
      );
    }
    hostSettings = asObject(entry, path, `hosts.${host}`);
  }
  return settingsFor(host, path, defaults, hostSettings);
}

function settingsFor(
  host: string,
  source: string,
  defaults: RawSettings,
  own: RawSettings,
): HostSettings {
  const where = source || "the driver configuration";
  for (const [scope, raw] of [["defaults", defaults], [`hosts.${host}`, own]] as const) {
    for (const key of Object.keys(raw)) {
      if (!KNOWN_KEYS.has(key)) {
        throw new InvalidInputError(
          `Unknown setting "${show(key)}" in ${scope} of ${where}${didYouMean(key, KNOWN_KEYS)}`,
        );
      }
    }
  }
  const merged: RawSettings = { ...defaults, ...own };
  const text = (key: string): string | undefined => {
    const value = merged[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value.trim() === "") {
      throw new InvalidInputError(
        `Setting "${key}" for host ${host} in ${where} must be a non-empty string`,
      );
    }
    return value.trim();
  };
  const seconds = (key: keyof typeof NUMERIC_SETTINGS): number => {
    const range = NUMERIC_SETTINGS[key];
    const value = merged[key] ?? range.default;
    if (
      typeof value !== "number" || !Number.isFinite(value) || value < range.min ||
      value > range.max
    ) {
      throw new InvalidInputError(
        `Setting "${key}" for host ${host} in ${where} must be a number of seconds from ${range.min} to ${range.max}`,
      );
    }
    return value;
  };
  const template: Record<string, string> = {};
  for (const [scope, raw] of [["defaults", defaults], [`hosts.${host}`, own]] as const) {
    if (raw.template === undefined) continue;
    for (const [key, value] of Object.entries(asObject(raw.template, where, `${scope}.template`))) {
      const problem = templateKeyProblem(key.toUpperCase(), "template", false);
      if (problem !== undefined) {
        throw new InvalidInputError(
          `Invalid key "${show(key)}" in ${scope}.template of ${where}: ${problem}`,
        );
      }
      if (typeof value !== "string") {
        throw new InvalidInputError(
          `Template default "${show(key)}" in ${scope} of ${where} must be a string`,
        );
      }
      template[key.toUpperCase()] = value;
    }
  }
  const settings: Record<string, unknown> = {
    host,
    source,
    useInstanceMetadata: merged.useInstanceMetadata === true,
    template,
    actionTimeoutSeconds: seconds("actionTimeoutSeconds"),
    stateWaitSeconds: seconds("stateWaitSeconds"),
    statePollSeconds: seconds("statePollSeconds"),
    notFoundGraceSeconds: seconds("notFoundGraceSeconds"),
    notFoundRetrySeconds: seconds("notFoundRetrySeconds"),
  };
  if (merged.useInstanceMetadata !== undefined && typeof merged.useInstanceMetadata !== "boolean") {
    throw new InvalidInputError(
      `Setting "useInstanceMetadata" for host ${host} in ${where} must be true or false`,
    );
  }
  for (const key of STRING_KEYS) {
    const value = text(key);
    if (value !== undefined) settings[key] = value;
  }
  const keys = merged.monitoringKeys;
  if (keys !== undefined) {
    if (keys !== "legacy" && keys !== "current") {
      throw new InvalidInputError(
        `Setting "monitoringKeys" for host ${host} in ${where} must be "legacy" or "current"`,
      );
    }
    settings.monitoringKeys = keys;
  }
  if ((settings.accessKeyId === undefined) !== (settings.secretAccessKey === undefined)) {
    throw new InvalidInputError(
      `Settings "accessKeyId" and "secretAccessKey" for host ${host} in ${where} must be given together`,
    );
  }
  if (settings.region !== undefined && !REGION.test(settings.region as string)) {
    throw new InvalidInputError(
      `Setting "region" for host ${host} in ${where} must be a region name: up to 64 letters, digits, '-', '_' or '.' (e.g. us-east-1)`,
    );
  }
  if (settings.endpoint !== undefined) {
    const problem = endpointProblem(settings.endpoint as string);
    if (problem !== undefined) {
      throw new InvalidInputError(`Setting "endpoint" for host ${host} in ${where} ${problem}`);
    }
  }
  if ((settings.stateWaitSeconds as number) > (settings.actionTimeoutSeconds as number) - 10) {
    throw new InvalidInputError(
      `Setting "stateWaitSeconds" for host ${host} in ${where} must be at least 10 s below "actionTimeoutSeconds" (${settings.actionTimeoutSeconds})`,
    );
  }
  addSecret(settings.secretAccessKey as string | undefined);
  addSecret(settings.sessionToken as string | undefined);
  return settings as unknown as HostSettings;
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

/** `; did you mean x?` when a known name is close to `name`, else "". */
function didYouMean(name: string, known: Iterable<string>): string {
  const closest = closestName(name, known);
  return closest === undefined ? "" : `; did you mean ${closest}?`;
}

/** A key from the file for a one-line message: control characters replaced, long ones shortened. */
function show(key: string): string {
  // deno-lint-ignore no-control-regex -- control characters are what must go
  const flat = key.replace(/[\x00-\x1F\x7F]/g, "?");
  return flat.length > 64 ? `${flat.slice(0, 61)}...` : flat;
}

function asObject(value: unknown, path: string, where: string): RawSettings {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`Expected an object at ${where} in ${path}`);
  }
  return value as RawSettings;
}
