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
 * A host's OpenNebula template may give the settings its kind names (`REGION_NAME`,
 * `EC2_ACCESS`, `EC2_SECRET` for EC2, as OpenNebula's own driver read them): the file wins, the
 * template fills what the file leaves undecided, and the environment (the AWS SDK chain) what
 * neither sets (`template_settings.ts`).
 *
 * @module
 */

import { readBoundedFile } from "../util/bounded_read.ts";
import { capacityProblem, type CapacitySpec, TOTAL_KEYS } from "./capacity.ts";
import { InvalidInputError } from "../util/errors.ts";
import { fileErrorReason } from "../util/file_errors.ts";
import { JsonSyntaxError, parseJson } from "../util/json.ts";
import type { ProviderKind, ProviderKinds, SettingReader } from "./provider.ts";
import {
  type SettingOrigin,
  type TemplateLayer,
  templateLayer,
  type TemplateOutcome,
  type TemplateSource,
} from "./template_settings.ts";
import { closestName, keyInMessage } from "../util/suggest.ts";

/** Where the configuration file is looked for when `HYBRID_DRIVER_CONFIG` is unset. */
const DEFAULT_CONFIG_PATH = "/etc/one/hybrid_driver.json";

/**
 * The configuration file read when `HYBRID_DRIVER_CONFIG` is unset: beside oned.conf, so
 * `$ONE_LOCATION/etc/hybrid_driver.json` for a self-contained OpenNebula (`ONE_LOCATION` set,
 * as its drivers inherit it from oned), else {@link DEFAULT_CONFIG_PATH}.
 *
 * @param env Where to read `ONE_LOCATION`.
 * @returns The path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultConfigPath } from "./config.ts";
 * assert.equal(defaultConfigPath({ get: () => undefined }), "/etc/one/hybrid_driver.json");
 * assert.equal(defaultConfigPath({ get: () => "/opt/one/" }), "/opt/one/etc/hybrid_driver.json");
 * ```
 */
export function defaultConfigPath(env: { get(name: string): string | undefined }): string {
  const location = env.get("ONE_LOCATION")?.replace(/\/+$/, "");
  return location ? `${location}/etc/hybrid_driver.json` : DEFAULT_CONFIG_PATH;
}
/** Environment variable that names another configuration file. */
const CONFIG_PATH_VARIABLE = "HYBRID_DRIVER_CONFIG";
/** The largest configuration file read, in bytes (a file for hundreds of hosts is under 100 KB). */
const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/**
 * The numeric settings: the least and most accepted, and the default, all in seconds. The
 * most keeps every wait well inside what a timer can hold and what oned's `-w` allows.
 */
const NUMERIC_SETTINGS = {
  actionTimeoutSeconds: { min: 15, max: 86_400, default: 300 },
  stateWaitSeconds: { min: 1, max: 86_390, default: 240 },
  statePollSeconds: { min: 0.05, max: 60, default: 2 },
  notFoundGraceSeconds: { min: 1, max: 86_400, default: 600 },
  notFoundRetrySeconds: { min: 0.1, max: 3_600, default: 15 },
  /**
   * How long one listing of an account serves its VMs' polls (0: every poll asks alone). 20 s
   * covers one monitoring cycle's polls (oned starts them all within a few seconds) and stays
   * well under the shortest interval between cycles (`MONITORING_INTERVAL`, 60 s by default
   * since OpenNebula 4.0; `VM_POLLING_INTERVAL` of 3.2 is 600 s), so each cycle lists afresh.
   */
  pollWindowSeconds: { min: 0, max: 300, default: 20 },
} as const;

/** Which usage keys a poll reports: 3.2–4.12 (`USEDMEMORY`) or 4.14+ (`MEMORY`). */
export type MonitoringKeys = "legacy" | "current";

/** The settings that serve one OpenNebula host. */
export interface HostSettings {
  /** OpenNebula host name. */
  readonly host: string;
  /** Where the settings came from: the file's path, or "" when there is no file. */
  readonly source: string;
  /** The kind of provider that serves the host (`provider`, `ec2` by default). */
  readonly provider: string;
  /** The provider's connection settings, as its kind read them (for EC2, `Ec2Connection`). */
  readonly connection: unknown;
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
  /** How long a terminate keeps retrying an id the cloud does not know yet, in seconds. */
  readonly notFoundRetrySeconds: number;
  /** How long one listing of the host's account serves polls, in seconds (0: not shared). */
  readonly pollWindowSeconds: number;
  /** Where polls share listings, when not the default runtime directory (an absolute path). */
  readonly pollStateDir?: string;
  /** Usage keys for polls; when absent, chosen from the OpenNebula generation detected. */
  readonly monitoringKeys?: MonitoringKeys;
  /** What the host may run (`capacity`: instances per size and/or totals), when configured. */
  readonly capacity?: CapacitySpec;
  /**
   * Where each setting the file or the host's template gave came from, by setting; the others
   * are the environment's or their defaults (absent from settings made by hand).
   */
  readonly origins?: Readonly<Record<string, SettingOrigin>>;
  /** What the host's OpenNebula template gave, when it was asked for. */
  readonly hostTemplate?: TemplateOutcome;
}

/**
 * Where a host's settings are to be fixed, for a message: its OpenNebula template when it gave
 * them (naming the attributes and the command that edits it), else the configuration file.
 *
 * @param settings The host's settings.
 * @param keys The settings the message is about.
 * @returns The place, in words (`/etc/one/hybrid_driver.json`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { settingPlace } from "./config.ts";
 * const settings = {
 *   host: "aws",
 *   source: "/etc/one/hybrid_driver.json",
 *   origins: { accessKeyId: { from: "template" as const, attribute: "EC2_ACCESS" } },
 * };
 * assert.equal(
 *   settingPlace(settings, ["accessKeyId"]),
 *   "its OpenNebula template (EC2_ACCESS; onehost update aws)",
 * );
 * assert.equal(settingPlace(settings, ["region"]), "/etc/one/hybrid_driver.json");
 * ```
 */
export function settingPlace(
  settings: Pick<HostSettings, "host" | "source" | "origins">,
  keys: readonly string[],
): string {
  const attributes = keys.flatMap((key) => {
    const origin = settings.origins?.[key];
    return origin?.from === "template" ? [origin.attribute] : [];
  });
  if (attributes.length === 0) return settings.source || "the driver configuration";
  return `its OpenNebula template (${attributes.join(", ")}; onehost update ${settings.host})`;
}

/** Settings every provider has. */
const COMMON_KEYS = [
  "provider",
  "template",
  ...Object.keys(NUMERIC_SETTINGS),
  "monitoringKeys",
  "capacity",
  "pollStateDir",
  "hostTemplate",
];

type RawSettings = Record<string, unknown>;

/**
 * Loads the settings for one OpenNebula host: the configuration file's, and, given a source,
 * its OpenNebula template's where the file leaves them undecided.
 *
 * @param kinds The kinds of provider a host may name.
 * @param host OpenNebula host name.
 * @param env Where to read `HYBRID_DRIVER_CONFIG` (defaults to the process environment).
 * @param defaultPath The file read when the variable is unset; its absence means "no file".
 * @param template Where the host's template comes from; without one it is not read.
 * @returns The host's settings, with defaults applied.
 * @throws {InvalidInputError} when the file is unreadable, larger than
 * {@link MAX_CONFIG_FILE_BYTES}, does not end in time, is invalid, holds secrets while other
 * users may read it, or does not list the host, or when a template's setting is invalid.
 * @throws what the template source throws when the template cannot be read.
 */
export async function loadHostSettings(
  kinds: ProviderKinds,
  host: string,
  env: { get(name: string): string | undefined } = Deno.env,
  defaultPath: string = defaultConfigPath(env),
  template?: TemplateSource,
): Promise<HostSettings> {
  const file = await readConfigFile(env, defaultPath);
  const { defaults, own } = file === undefined
    ? { defaults: {}, own: {} }
    : hostSections(kinds, file.text, file.path, host, file.mode);
  const merged = { ...defaults, ...own };
  const kind = Object.hasOwn(kinds.byName, String(merged.provider ?? kinds.defaultName))
    ? kinds.byName[String(merged.provider ?? kinds.defaultName)]
    : undefined;
  // `hostTemplate: false` spares the call for a host whose settings the template never gives.
  const layer = template && kind && (merged.hostTemplate ?? true) === true
    ? await templateLayer(kind, merged, template)
    : undefined;
  return settingsFor(kinds, host, file?.path ?? "", defaults, own, layer);
}

/**
 * The OpenNebula hosts the configuration lists under `hosts`, for a tool that checks them all.
 *
 * @param env Where to read `HYBRID_DRIVER_CONFIG` (defaults to the process environment).
 * @param defaultPath The file read when the variable is unset; its absence means "no file".
 * @returns The names, in the file's order, and the file; `hosts` is undefined when there is no
 * file or it has no `hosts` section (then it serves any host name).
 * @throws {InvalidInputError} when the file is unreadable or not a valid configuration's JSON,
 * with {@link loadHostSettings}' messages.
 */
export async function configuredHosts(
  env: { get(name: string): string | undefined } = Deno.env,
  defaultPath: string = defaultConfigPath(env),
): Promise<{ hosts: string[] | undefined; path: string }> {
  const file = await readConfigFile(env, defaultPath);
  const path = file?.path ?? (env.get(CONFIG_PATH_VARIABLE) || defaultPath);
  if (file === undefined) return { hosts: undefined, path };
  const { hosts } = configSections(file.text, file.path);
  return { hosts: hosts === undefined ? undefined : Object.keys(hosts), path };
}

/** The configuration file's text and mode; undefined when the default file does not exist. */
async function readConfigFile(
  env: { get(name: string): string | undefined },
  defaultPath: string,
): Promise<{ path: string; text: string; mode: number | null } | undefined> {
  const named = env.get(CONFIG_PATH_VARIABLE);
  const path = named || defaultPath;
  try {
    return { path, ...await readBoundedFile(path, MAX_CONFIG_FILE_BYTES) };
  } catch (error) {
    if (!named && error instanceof Deno.errors.NotFound) return undefined;
    const reason = fileErrorReason(error);
    throw new InvalidInputError(`Cannot read driver configuration ${path}: ${reason}`);
  }
}

/**
 * Parses a configuration file's text and picks one host's settings.
 *
 * @param kinds The kinds of provider a host may name.
 * @param text The JSON text.
 * @param path The file's path, for messages.
 * @param host OpenNebula host name.
 * @param mode The file's permission bits, when known: a file that holds a secret (in any host
 * or the defaults) must grant nothing to group or others.
 * @returns The host's settings.
 * @throws {InvalidInputError} on invalid JSON (by line and column, never quoting the text,
 * which may hold a secret), secrets in a file others may read (with the `chmod` that fixes it),
 * unknown keys (template keys included), wrong types, numbers out of range, a malformed region
 * or endpoint, or an unlisted host.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./config.ts";
 * import { PROVIDER_KINDS } from "../providers/mod.ts";
 * const text = '{"defaults":{"region":"eu-west-1"},"hosts":{"aws-eu":{"profile":"burst"}}}';
 * const settings = parseConfig(PROVIDER_KINDS, text, "/etc/one/hybrid_driver.json", "aws-eu");
 * assert.equal(settings.provider, "ec2");
 * assert.deepEqual(settings.connection, {
 *   useInstanceMetadata: false,
 *   region: "eu-west-1",
 *   profile: "burst",
 * });
 * ```
 */
export function parseConfig(
  kinds: ProviderKinds,
  text: string,
  path: string,
  host: string,
  mode: number | null = null,
): HostSettings {
  const { defaults, own } = hostSections(kinds, text, path, host, mode);
  return settingsFor(kinds, host, path, defaults, own);
}

/**
 * The file's `defaults` and the host's own section, the file checked as {@link parseConfig}
 * says.
 */
function hostSections(
  kinds: ProviderKinds,
  text: string,
  path: string,
  host: string,
  mode: number | null,
): { defaults: RawSettings; own: RawSettings } {
  const { defaults, hosts } = configSections(text, path);
  if (mode !== null && (mode & 0o077) !== 0 && holdsSecrets(kinds, defaults, hosts)) {
    const octal = mode.toString(8).padStart(4, "0");
    throw new InvalidInputError(
      `Driver configuration ${path} holds secrets and is readable by other users (mode ${octal}); run: chmod 600 ${path}`,
    );
  }
  let hostSettings: RawSettings = {};
  if (hosts !== undefined) {
    const entry = hosts[host];
    if (entry === undefined) {
      const known = Object.keys(hosts).join(", ") || "none";
      throw new InvalidInputError(
        `Host "${host}" is not configured in ${path} (configured hosts: ${known})`,
      );
    }
    hostSettings = asObject(entry, path, `hosts.${host}`);
  }
  return { defaults, own: hostSettings };
}

/** The file's `defaults` and `hosts` sections, its JSON and top-level keys checked. */
function configSections(
  text: string,
  path: string,
): { defaults: RawSettings; hosts: RawSettings | undefined } {
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
        `Unknown key ${keyInMessage(key)} at the top level of ${path}${
          didYouMean(key, ["defaults", "hosts"])
        } (expected defaults, hosts)`,
      );
    }
  }
  const defaults = root.defaults === undefined ? {} : asObject(root.defaults, path, "defaults");
  const hosts = root.hosts === undefined ? undefined : asObject(root.hosts, path, "hosts");
  return { defaults, hosts };
}

/**
 * Whether the defaults or any host (not only the one served) set a setting that is a secret
 * for any kind of provider.
 */
function holdsSecrets(
  kinds: ProviderKinds,
  defaults: RawSettings,
  hosts: RawSettings | undefined,
): boolean {
  const secrets = new Set(Object.values(kinds.byName).flatMap((kind) => kind.secretKeys));
  const scopes = [defaults, ...Object.values(hosts ?? {})];
  return scopes.some((scope) =>
    typeof scope === "object" && scope !== null &&
    [...secrets].some((key) => Object.hasOwn(scope, key))
  );
}

/**
 * A host's settings from the file's `defaults` and own section, and what its template gives
 * where the file leaves a setting undecided; a setting's message names where it came from.
 */
function settingsFor(
  kinds: ProviderKinds,
  host: string,
  source: string,
  defaults: RawSettings,
  own: RawSettings,
  layer?: TemplateLayer,
): HostSettings {
  const where = source || "the driver configuration";
  const merged: RawSettings = { ...defaults, ...own, ...layer?.values };
  const origins = originsOf(host, defaults, own, layer);
  const fail = (key: string, problem: string) => {
    const attribute = layer?.asked[key];
    const place = attribute === undefined || origins[key]?.from === "file"
      ? where
      : `its OpenNebula template (${attribute})`;
    return new InvalidInputError(`Setting "${key}" for host ${host} in ${place} ${problem}`);
  };
  const kind = kindOf(kinds, merged.provider, fail);
  const known = new Set([...COMMON_KEYS, ...kind.settingKeys]);
  for (const [scope, raw] of [["defaults", defaults], [`hosts.${host}`, own]] as const) {
    for (const key of Object.keys(raw)) {
      if (!known.has(key)) {
        throw new InvalidInputError(
          `Unknown setting ${keyInMessage(key)} in ${scope} of ${where}${didYouMean(key, known)}`,
        );
      }
    }
  }
  const read: SettingReader = {
    text(key) {
      const value = merged[key];
      if (value === undefined) return undefined;
      if (typeof value !== "string" || value.trim() === "") {
        throw fail(key, "must be a non-empty string");
      }
      return value.trim();
    },
    flag(key) {
      const value = merged[key];
      if (value !== undefined && typeof value !== "boolean") {
        throw fail(key, "must be true or false");
      }
      return value;
    },
    fail,
  };
  const seconds = (key: keyof typeof NUMERIC_SETTINGS): number => {
    const range = NUMERIC_SETTINGS[key];
    const value = merged[key] ?? range.default;
    if (
      typeof value !== "number" || !Number.isFinite(value) || value < range.min ||
      value > range.max
    ) {
      throw fail(key, `must be a number of seconds from ${range.min} to ${range.max}`);
    }
    return value;
  };
  const settings: { -readonly [K in keyof HostSettings]: HostSettings[K] } = {
    host,
    source,
    provider: kind.name,
    connection: kind.parseConnection(read),
    template: templateDefaults(kind, where, defaults, own, host),
    actionTimeoutSeconds: seconds("actionTimeoutSeconds"),
    stateWaitSeconds: seconds("stateWaitSeconds"),
    statePollSeconds: seconds("statePollSeconds"),
    notFoundGraceSeconds: seconds("notFoundGraceSeconds"),
    notFoundRetrySeconds: seconds("notFoundRetrySeconds"),
    pollWindowSeconds: seconds("pollWindowSeconds"),
    origins,
  };
  if (layer !== undefined) {
    const { template, unread, overridden } = layer;
    settings.hostTemplate = {
      ...(template !== undefined ? { template } : {}),
      ...(unread !== undefined ? { unread } : {}),
      overridden,
    };
  }
  const stateDir = read.text("pollStateDir");
  if (stateDir !== undefined) {
    if (!stateDir.startsWith("/")) throw fail("pollStateDir", "must be an absolute path");
    settings.pollStateDir = stateDir;
  }
  read.flag("hostTemplate"); // true or false; loadHostSettings() acts on it
  const keys = merged.monitoringKeys;
  if (keys !== undefined) {
    if (keys !== "legacy" && keys !== "current") {
      throw fail("monitoringKeys", 'must be "legacy" or "current"');
    }
    settings.monitoringKeys = keys;
  }
  if (merged.capacity !== undefined) settings.capacity = capacityOf(merged.capacity, fail);
  if (settings.stateWaitSeconds > settings.actionTimeoutSeconds - 10) {
    throw fail(
      "stateWaitSeconds",
      `must be at least 10 s below "actionTimeoutSeconds" (${settings.actionTimeoutSeconds})`,
    );
  }
  return settings;
}

/** Where each setting given came from: the host's own section, `defaults`, or the template. */
function originsOf(
  host: string,
  defaults: RawSettings,
  own: RawSettings,
  layer: TemplateLayer | undefined,
): Record<string, SettingOrigin> {
  const origins: Record<string, SettingOrigin> = {};
  for (const key of Object.keys(defaults)) origins[key] = { from: "file", scope: "defaults" };
  for (const key of Object.keys(own)) {
    delete origins[key]; // listed in the host's own order
    origins[key] = { from: "file", scope: `hosts.${host}` };
  }
  for (const key of Object.keys(layer?.values ?? {})) {
    origins[key] = { from: "template", attribute: layer!.asked[key]! };
  }
  return origins;
}

/**
 * A `capacity` setting: instances per instance type (`"t3.micro": 10`) and/or totals
 * (`vcpus`, `memoryGiB`, `instances`), checked by `capacityProblem()`.
 */
function capacityOf(
  value: unknown,
  fail: (key: string, problem: string) => InvalidInputError,
): CapacitySpec {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail("capacity", 'must be an object, e.g. {"t3.micro": 10, "vcpus": 64}');
  }
  const capacity = value as Record<string, unknown>;
  const problem = capacityProblem(capacity);
  if (problem === undefined) return capacity as CapacitySpec;
  const wrongKey = Object.keys(capacity).find((k) =>
    !k.includes(".") && !(TOTAL_KEYS as readonly string[]).includes(k)
  );
  const hint = wrongKey === undefined ? "" : didYouMean(wrongKey, TOTAL_KEYS);
  throw fail("capacity", `${problem}${hint}`);
}

/** The provider kind a host names (`ec2` when it names none). */
function kindOf(
  kinds: ProviderKinds,
  name: unknown,
  fail: (key: string, problem: string) => InvalidInputError,
): ProviderKind {
  const kind = typeof name === "string" && Object.hasOwn(kinds.byName, name)
    ? kinds.byName[name]
    : name === undefined
    ? kinds.byName[kinds.defaultName]
    : undefined;
  if (kind === undefined) {
    throw fail("provider", `must be one of ${Object.keys(kinds.byName).join(", ")}`);
  }
  return kind;
}

/** The template defaults of `defaults` and then the host's own, keys checked by the provider. */
function templateDefaults(
  kind: ProviderKind,
  where: string,
  defaults: RawSettings,
  own: RawSettings,
  host: string,
): Record<string, string> {
  const template: Record<string, string> = {};
  for (const [scope, raw] of [["defaults", defaults], [`hosts.${host}`, own]] as const) {
    if (raw.template === undefined) continue;
    for (const [key, value] of Object.entries(asObject(raw.template, where, `${scope}.template`))) {
      const problem = kind.templateKeyProblem(key.toUpperCase(), "template", false);
      if (problem !== undefined) {
        throw new InvalidInputError(
          `Invalid key ${keyInMessage(key)} in ${scope}.template of ${where}: ${problem}`,
        );
      }
      if (typeof value !== "string") {
        throw new InvalidInputError(
          `Template default ${keyInMessage(key)} in ${scope} of ${where} must be a string`,
        );
      }
      template[key.toUpperCase()] = value;
    }
  }
  return template;
}

/** `; did you mean x?` when a known name is close to `name`, else "". */
function didYouMean(name: string, known: Iterable<string>): string {
  const closest = closestName(name, known);
  return closest === undefined ? "" : `; did you mean ${closest}?`;
}

function asObject(value: unknown, path: string, where: string): RawSettings {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`Expected an object at ${where} in ${path}`);
  }
  return value as RawSettings;
}
