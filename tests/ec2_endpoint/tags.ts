/**
 * Tag rules shared by the tag specifications of RunInstances, CreateImage and AllocateAddress
 * and by CreateTags: key 1-128 characters, value up to 256, the `aws:` prefix reserved, at most
 * 50 tags per resource.
 *
 * @module
 */

import { Ec2Error, errors } from "./errors.ts";
import { type Params, structList, type Tag, tagsOf } from "./query.ts";

/** Tags a resource may carry. */
export const MAX_TAGS_PER_RESOURCE = 50;

/**
 * Checks tags given in one request.
 *
 * @param tags The tags.
 * @throws {Ec2Error} `InvalidParameterValue` for an empty, too long, reserved or repeated key or
 *   a too long value.
 */
export function validateTags(tags: readonly Tag[]): void {
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    if (key.length === 0) {
      throw new Ec2Error("InvalidParameterValue", "Tag keys must not be empty");
    }
    if ([...key].length > 128) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `Tag key exceeds the maximum length of 128 characters: '${key}'`,
      );
    }
    if ([...value].length > 256) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `Tag value exceeds the maximum length of 256 characters for key '${key}'`,
      );
    }
    if (key.toLowerCase().startsWith("aws:")) {
      throw new Ec2Error(
        "InvalidParameterValue",
        "Tag keys starting with 'aws:' are reserved for internal use",
      );
    }
    if (seen.has(key)) {
      throw new Ec2Error("InvalidParameterValue", `Duplicate tag key '${key}' specified`);
    }
    seen.add(key);
  }
}

/**
 * Checks that setting tags on a resource keeps the per-resource limit (call before
 * {@link setTags}).
 *
 * @param target The resource's tags (not changed).
 * @param tags The tags to set.
 * @param resourceId For the error message.
 * @throws {Ec2Error} `TagLimitExceeded` when the resource would carry more than 50 tags.
 */
export function checkTagLimit(
  target: ReadonlyMap<string, string>,
  tags: readonly Tag[],
  resourceId: string,
): void {
  const keys = new Set([...target.keys(), ...tags.map((t) => t.key)]);
  if (keys.size > MAX_TAGS_PER_RESOURCE) {
    throw new Ec2Error(
      "TagLimitExceeded",
      `The maximum number of tags per resource (${MAX_TAGS_PER_RESOURCE}) would be exceeded for '${resourceId}'`,
    );
  }
}

/**
 * Sets tags on a resource's tag map, after {@link checkTagLimit}.
 *
 * @param target The resource's tags (changed in place).
 * @param tags The tags to set (overwriting values of existing keys).
 */
export function setTags(target: Map<string, string>, tags: readonly Tag[]): void {
  for (const { key, value } of tags) target.set(key, value);
}

/**
 * The `TagSpecification.N` of a request, checked, by resource type.
 *
 * @param params The request's parameters.
 * @param allowed The resource types the action takes.
 * @returns The tags of each resource type named (merged when named twice).
 * @throws {Ec2Error} `MissingParameter` for a specification without a resource type,
 *   `InvalidParameterValue` for another resource type or for tags {@link validateTags} refuses.
 */
export function tagSpecificationsOf(
  params: Params,
  allowed: ReadonlySet<string>,
): Map<string, Tag[]> {
  const byType = new Map<string, Tag[]>();
  structList(params, "TagSpecification").forEach((spec, i) => {
    const where = `TagSpecification.${i + 1}`;
    const resourceType = spec["ResourceType"];
    if (resourceType === undefined) throw errors.missingParameter(`${where}.ResourceType`);
    if (!allowed.has(resourceType)) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `'${resourceType}' is not a valid taggable resource type for this operation.`,
      );
    }
    const tags = tagsOf(spec, `${where}.Tag`);
    validateTags(tags);
    byType.set(resourceType, [...(byType.get(resourceType) ?? []), ...tags]);
  });
  for (const tags of byType.values()) validateTags(tags);
  return byType;
}

/**
 * A tag map of tags.
 *
 * @param tags Tags (validated).
 * @returns A new map, in the tags' order.
 */
export function tagMap(tags: readonly Tag[] | undefined): Map<string, string> {
  return new Map((tags ?? []).map((t) => [t.key, t.value]));
}
