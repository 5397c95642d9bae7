/**
 * Reading EC2 Query API parameters. Lists are flattened with 1-based indexes: `InstanceId.1`,
 * `Filter.1.Name` / `Filter.1.Value.1`, `TagSpecification.1.Tag.1.Key`; structures use dots
 * (`Placement.AvailabilityZone`).
 *
 * @module
 */

import { Ec2Error, errors } from "./errors.ts";

/** The request's parameters, flat, as sent. */
export type Params = Readonly<Record<string, string>>;

/** One `Filter.N` of a Describe call. */
export interface Filter {
  /** Filter name, e.g. `instance-state-name` or `tag:Name`. */
  readonly name: string;
  /** Accepted values (any of them matches). */
  readonly values: readonly string[];
}

/** One tag. */
export interface Tag {
  /** Key. */
  readonly key: string;
  /** Value (may be empty). */
  readonly value: string;
}

/**
 * Parses a form-encoded body or query string into flat parameters.
 *
 * @param text `Action=...&Version=...` text (`+` is a space, percent escapes decoded).
 * @returns The parameters; a repeated name keeps its last value.
 * @throws {Ec2Error} `MalformedQueryString` when an escape is invalid.
 */
export function parseQuery(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  if (text === "") return params;
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? "" : pair.slice(eq + 1);
    try {
      params[decodeURIComponent(rawKey.replaceAll("+", " "))] = decodeURIComponent(
        rawValue.replaceAll("+", " "),
      );
    } catch {
      throw new Ec2Error("MalformedQueryString", `Invalid percent-encoding in '${pair}'`);
    }
  }
  return params;
}

/**
 * The parameters under a prefix, with the prefix removed: `sub(p, "Placement")` turns
 * `Placement.AvailabilityZone` into `AvailabilityZone`.
 *
 * @param params All parameters.
 * @param prefix Structure name, without the trailing dot.
 * @returns The member parameters.
 */
export function sub(params: Params, prefix: string): Params {
  const head = `${prefix}.`;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (key.startsWith(head)) out[key.slice(head.length)] = value;
  }
  return out;
}

/**
 * The members of a flattened list of structures, ordered by index: `structList(p, "Filter")`
 * gives one record per `Filter.N` (with `Name`, `Value.1`, ...).
 *
 * @param params All parameters.
 * @param prefix List name.
 * @returns The records, in index order.
 * @throws {Ec2Error} `InvalidParameterValue` for an index that is not a positive integer.
 */
export function structList(params: Params, prefix: string): Params[] {
  const byIndex = new Map<number, Record<string, string>>();
  const head = `${prefix}.`;
  for (const [key, value] of Object.entries(params)) {
    if (!key.startsWith(head)) continue;
    const rest = key.slice(head.length);
    const dot = rest.indexOf(".");
    const index = parseIndex(key, dot < 0 ? rest : rest.slice(0, dot));
    const entry = byIndex.get(index) ?? {};
    entry[dot < 0 ? "" : rest.slice(dot + 1)] = value;
    byIndex.set(index, entry);
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
}

/**
 * The values of a flattened list of strings, ordered by index: `InstanceId.1`, `InstanceId.2`.
 *
 * @param params All parameters.
 * @param prefix List name.
 * @returns The values, in index order.
 */
export function stringList(params: Params, prefix: string): string[] {
  return structList(params, prefix).flatMap((entry) => entry[""] !== undefined ? [entry[""]] : []);
}

function parseIndex(key: string, text: string): number {
  if (!/^[1-9][0-9]{0,5}$/.test(text)) {
    throw new Ec2Error("InvalidParameterValue", `Invalid list index in parameter '${key}'`);
  }
  return Number(text);
}

/**
 * The `Filter.N` parameters.
 *
 * @param params All parameters.
 * @returns The filters in index order.
 * @throws {Ec2Error} `MissingParameter` when a filter has no name.
 */
export function filtersOf(params: Params): Filter[] {
  return structList(params, "Filter").map((entry, i) => {
    const name = entry["Name"];
    if (name === undefined || name === "") throw errors.missingParameter(`Filter.${i + 1}.Name`);
    return { name, values: stringList(entry, "Value") };
  });
}

/**
 * A list of tags (`Tag.N.Key` / `Tag.N.Value`) under a prefix.
 *
 * @param params Parameters holding `Tag.N...` (already narrowed with {@link sub} if nested).
 * @param where How to name the list in errors (e.g. `TagSpecification.1.Tag`).
 * @returns The tags in index order; a missing value is empty.
 * @throws {Ec2Error} `MissingParameter` for a tag without a key.
 */
export function tagsOf(params: Params, where = "Tag"): Tag[] {
  return structList(params, "Tag").map((entry, i) => {
    const key = entry["Key"];
    if (key === undefined) throw errors.missingParameter(`${where}.${i + 1}.Key`);
    return { key, value: entry["Value"] ?? "" };
  });
}

/**
 * A boolean parameter (`true`/`false`, any case).
 *
 * @param params All parameters.
 * @param name Parameter name.
 * @returns The value, or undefined when absent.
 * @throws {Ec2Error} `InvalidParameterValue` for anything else.
 */
export function boolParam(params: Params, name: string): boolean | undefined {
  const text = params[name];
  if (text === undefined) return undefined;
  const lower = text.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  throw errors.invalidValue(name, text, "Expected a boolean (true or false).");
}

/**
 * An integer parameter.
 *
 * @param params All parameters.
 * @param name Parameter name.
 * @returns The value, or undefined when absent.
 * @throws {Ec2Error} `InvalidParameterValue` when it is not a decimal integer.
 */
export function intParam(params: Params, name: string): number | undefined {
  const text = params[name];
  if (text === undefined) return undefined;
  if (!/^-?[0-9]{1,15}$/.test(text.trim())) {
    throw errors.invalidValue(name, text, "Expected an integer.");
  }
  return Number(text.trim());
}
