/**
 * Reading the Query API's flat parameters (`InstanceId.1`, `BlockDeviceMapping.2.Ebs.VolumeSize`,
 * ...) as the SDK serialises them.
 *
 * @module
 */

import { Ec2Error, errors } from "./errors.ts";

/** A request's parameters, flat. */
export type Params = Readonly<Record<string, string>>;

/**
 * The parameters under a prefix, with the prefix removed (`Placement.Tenancy` → `Tenancy`).
 *
 * @param params The parameters.
 * @param prefix The prefix, without its dot.
 * @returns The nested parameters.
 */
export function sub(params: Params, prefix: string): Params {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (key.startsWith(`${prefix}.`)) out[key.slice(prefix.length + 1)] = value;
  }
  return out;
}

/**
 * A list of structures (`Filter.1.Name`, `Filter.1.Value.1`, ...), in index order; a plain
 * value of the list is under the key `""`.
 *
 * @param params The parameters.
 * @param prefix The list's name.
 * @returns Each item's parameters.
 */
export function items(params: Params, prefix: string): Params[] {
  const byIndex = new Map<number, Record<string, string>>();
  for (const [key, value] of Object.entries(sub(params, prefix))) {
    const [index, ...rest] = key.split(".");
    const entry = byIndex.get(Number(index)) ?? {};
    entry[rest.join(".")] = value;
    byIndex.set(Number(index), entry);
  }
  return [...byIndex].sort((a, b) => a[0] - b[0]).map(([, entry]) => entry);
}

/**
 * A list of values (`InstanceId.1`, `InstanceId.2`, ...), in index order.
 *
 * @param params The parameters.
 * @param prefix The list's name.
 * @returns The values.
 */
export function values(params: Params, prefix: string): string[] {
  return items(params, prefix).flatMap((item) => item[""] === undefined ? [] : [item[""]]);
}

/**
 * A boolean parameter.
 *
 * @param params The parameters.
 * @param name Its name.
 * @returns Its value, undefined when absent.
 * @throws {Ec2Error} `InvalidParameterValue` for anything but true or false.
 */
export function bool(params: Params, name: string): boolean | undefined {
  const text = params[name]?.toLowerCase();
  if (text === undefined || text === "true" || text === "false") {
    return text === undefined ? undefined : text === "true";
  }
  throw errors.invalid(name, params[name]!, "Expected a boolean (true or false).");
}

/**
 * The tags of each resource type a request's `TagSpecification`s name.
 *
 * @param params The parameters.
 * @param allowed The resource types the action may tag.
 * @returns Tags by resource type.
 * @throws {Ec2Error} `InvalidParameterValue` for another type or a reserved (`aws:`) key.
 */
export function tagSpecifications(
  params: Params,
  allowed: readonly string[],
): Map<string, Map<string, string>> {
  const byType = new Map<string, Map<string, string>>();
  for (const spec of items(params, "TagSpecification")) {
    const type = spec["ResourceType"] ?? "";
    if (!allowed.includes(type)) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `'${type}' is not a valid taggable resource type for this operation.`,
      );
    }
    const tags = byType.get(type) ?? new Map<string, string>();
    for (const tag of items(spec, "Tag")) {
      const key = tag["Key"] ?? "";
      if (key === "" || key.toLowerCase().startsWith("aws:")) {
        throw errors.invalid("Tag.Key", key, "Tag keys must not be empty or start with 'aws:'.");
      }
      tags.set(key, tag["Value"] ?? "");
    }
    byType.set(type, tags);
  }
  return byType;
}
