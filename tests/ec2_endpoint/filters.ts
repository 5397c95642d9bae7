/**
 * Describe-call filters: each `Filter.N` matches when any of its values matches (values may
 * use the `*` and `?` wildcards, `\` escapes them); all filters must match. `tag:<key>`,
 * `tag-key` and `tag-value` read the resource's tags.
 *
 * @module
 */

import { Ec2Error, errors } from "./errors.ts";
import type { Filter } from "./query.ts";

/** Reads the values a filter name compares against (none when the field is absent). */
export type FieldReader<T> = (item: T) => string | readonly string[] | undefined;

/** The filter names an action supports, and how to read each. */
export interface FilterSpec<T> {
  /** Readers by filter name. */
  readonly fields: Readonly<Record<string, FieldReader<T>>>;
  /** The item's tags, enabling `tag:<key>`, `tag-key` and `tag-value`. */
  readonly tags?: (item: T) => ReadonlyMap<string, string>;
}

/**
 * Compiles a filter value with EC2's wildcards to a matcher.
 *
 * @param pattern The value (`web-*`, `t3.?icro`, `literal\*star`).
 * @returns A test for candidate values.
 */
export function wildcard(pattern: string): (candidate: string) => boolean {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\" && i + 1 < pattern.length) {
      source += escapeRegExp(pattern[++i]!);
    } else if (c === "*") {
      source += "[\\s\\S]*";
    } else if (c === "?") {
      source += "[\\s\\S]?";
    } else {
      source += escapeRegExp(c);
    }
  }
  const re = new RegExp(`^${source}$`, "u");
  return (candidate) => re.test(candidate);
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * Keeps the items every filter matches.
 *
 * @param items Candidates.
 * @param filters The request's filters.
 * @param spec Supported names and readers.
 * @returns The matching items, in their order.
 * @throws {Ec2Error} `InvalidParameterValue` for an unknown filter name or one without values.
 */
export function applyFilters<T>(
  items: readonly T[],
  filters: readonly Filter[],
  spec: FilterSpec<T>,
): T[] {
  const tests = filters.map((filter) => compile(filter, spec));
  return items.filter((item) => tests.every((test) => test(item)));
}

function compile<T>(filter: Filter, spec: FilterSpec<T>): (item: T) => boolean {
  if (filter.values.length === 0) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `The filter '${filter.name}' must have at least one value`,
    );
  }
  const matchers = filter.values.map(wildcard);
  const any = (candidates: Iterable<string>) => {
    for (const candidate of candidates) {
      if (matchers.some((m) => m(candidate))) return true;
    }
    return false;
  };
  const tags = spec.tags;
  if (tags && filter.name.startsWith("tag:")) {
    const key = filter.name.slice(4);
    return (item) => {
      const value = tags(item).get(key);
      return value !== undefined && any([value]);
    };
  }
  if (tags && filter.name === "tag-key") return (item) => any(tags(item).keys());
  if (tags && filter.name === "tag-value") return (item) => any(tags(item).values());
  const reader = Object.hasOwn(spec.fields, filter.name) ? spec.fields[filter.name] : undefined;
  if (!reader) throw errors.invalidFilter(filter.name);
  return (item) => {
    const value = reader(item);
    if (value === undefined) return false;
    return any(typeof value === "string" ? [value] : value);
  };
}
