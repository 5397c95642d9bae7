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

import { InvalidInputError } from "./errors.ts";
import { fileErrorReason } from "./file_errors.ts";
import { addSecret } from "./redact.ts";

/** Where the configuration file is looked for when `HYBRID_DRIVER_CONFIG` is unset. */
export const DEFAULT_CONFIG_PATH = "/etc/one/hybrid_driver.json";
/** Environment variable that names another configuration file. */
export const CONFIG_PATH_VARIABLE = "HYBRID_DRIVER_CONFIG";

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
  "actionTimeoutSeconds",
  "notFoundGraceSeconds",
  "notFoundRetrySeconds",
  "stateWaitSeconds",
  "statePollSeconds",
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
 * @throws {InvalidInputError} when the file is unreadable or invalid, or does not list the host.
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
    text = await Deno.readTextFile(path);
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
 * @throws {InvalidInputError} on invalid JSON, unknown keys, wrong types or an unlisted host.
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * const text = '{"defaults":{"region":"eu-west-1"},"hosts":{"aws-eu":{"profile":"burst"}}}';
 * const settings = parseConfig(text, "/etc/one/hybrid_driver.json", "aws-eu");
 * console.assert(settings.region === "eu-west-1" && settings.profile === "burst");
 * ```
 */
export function parseConfig(text: string, path: string, host: string): HostSettings {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(
      `Invalid JSON in driver configuration ${path}: ${(error as Error).message}`,
    );
  }
  const root = asObject(data, path, "the top level");
  for (const key of Object.keys(root)) {
    if (key !== "defaults" && key !== "hosts") {
      throw new InvalidInputError(
        `Unknown key "${key}" at the top level of ${path} (expected defaults, hosts)`,
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
        throw new InvalidInputError(`Unknown setting "${key}" in ${scope} of ${where}`);
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
  const seconds = (key: string, fallback: number): number => {
    const value = merged[key] ?? fallback;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new InvalidInputError(
        `Setting "${key}" for host ${host} in ${where} must be a positive number`,
      );
    }
    return value;
  };
  const template: Record<string, string> = {};
  for (const [scope, raw] of [["defaults", defaults], [`hosts.${host}`, own]] as const) {
    if (raw.template === undefined) continue;
    for (const [key, value] of Object.entries(asObject(raw.template, where, `${scope}.template`))) {
      if (typeof value !== "string") {
        throw new InvalidInputError(
          `Template default "${key}" in ${scope} of ${where} must be a string`,
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
    actionTimeoutSeconds: seconds("actionTimeoutSeconds", 300),
    stateWaitSeconds: seconds("stateWaitSeconds", 240),
    statePollSeconds: seconds("statePollSeconds", 2),
    notFoundGraceSeconds: seconds("notFoundGraceSeconds", 600),
    notFoundRetrySeconds: seconds("notFoundRetrySeconds", 15),
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
  if (settings.endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(settings.endpoint as string)) {
    throw new InvalidInputError(
      `Setting "endpoint" for host ${host} in ${where} must be an http(s) URL`,
    );
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

function asObject(value: unknown, path: string, where: string): RawSettings {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`Expected an object at ${where} in ${path}`);
  }
  return value as RawSettings;
}
