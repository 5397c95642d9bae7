/**
 * Sizes of EC2 instance types as the region itself states them (DescribeInstanceTypes), kept
 * in a small cache file so that hundreds of probes and deploys a day ask EC2 at most once per
 * type and week. The driver's table of common types (`instance_types.ts`) answers only when
 * EC2 cannot: the call fails or is not supported by the endpoint, or the region does not know
 * the type.
 *
 * The cache is one JSON file per region and endpoint, in `$XDG_CACHE_HOME/one-hybrid/`, else
 * `$HOME/.cache/one-hybrid/` (oneadmin's home, `/var/lib/one`, when `HOME` is not set). A
 * cache that cannot be read or written is no error: EC2 is asked instead.
 *
 * @module
 */

import type * as Sdk from "@aws-sdk/client-ec2";
import type { Size } from "../../core/provider.ts";
import type { Ec2Api } from "./api.ts";
import { instanceTypeSize } from "./instance_types.ts";
import { writeTextAtomically } from "../../util/atomic_write.ts";

/** How long a type's size is believed without asking EC2 again: a week. */
export const SIZE_CACHE_TTL_MS = 7 * 24 * 3600 * 1000;

/** The largest cache file read; a few hundred types take a few KB. */
const MAX_CACHE_BYTES = 256 * 1024;

/** Most pages of DescribeInstanceTypes read (100 types a page). */
const MAX_PAGES = 10;

/** Where the cache lives and what time it is. */
export interface SizeCacheOptions {
  /** The cache directory; undefined for no cache. */
  readonly dir: string | undefined;
  /** The clock, in epoch milliseconds. */
  readonly now: () => number;
}

/**
 * The cache directory the environment names: `$XDG_CACHE_HOME/one-hybrid`, else
 * `$HOME/.cache/one-hybrid`, else `/var/lib/one/.cache/one-hybrid`.
 *
 * @param env Reads a variable (defaults to the process environment).
 * @returns The directory.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultCacheDir } from "./type_sizes.ts";
 * assert.equal(defaultCacheDir((n) => ({ HOME: "/var/lib/one" })[n]), "/var/lib/one/.cache/one-hybrid");
 * assert.equal(defaultCacheDir((n) => ({ XDG_CACHE_HOME: "/tmp/c" })[n]), "/tmp/c/one-hybrid");
 * ```
 */
export function defaultCacheDir(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): string {
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/one-hybrid`;
  return `${env("HOME") || "/var/lib/one"}/.cache/one-hybrid`;
}

/** One cached type: its size, or `null` when the region answered without it; and when. */
interface CacheEntry {
  readonly size: Size | null;
  readonly at: number;
}

/** The cache file's content. */
interface CacheFile {
  readonly format: "one-hybrid-instance-types";
  readonly version: 1;
  readonly types: Record<string, CacheEntry>;
}

/**
 * The sizes of instance types: from the cache while fresh, else from one DescribeInstanceTypes
 * for all the types needed (paginated), else from the driver's table.
 *
 * @param api The EC2 calls.
 * @param names Instance types.
 * @param location Names the cache file: region and endpoint.
 * @param cache Where the cache lives, and the clock.
 * @returns The sizes known; types no one knows are left out.
 */
export async function instanceTypeSizes(
  api: Ec2Api,
  names: readonly string[],
  location: string,
  cache: SizeCacheOptions,
): Promise<Map<string, Size>> {
  const wanted = [...new Set(names)];
  const file = cache.dir === undefined ? undefined : `${cache.dir}/${await fileName(location)}`;
  const cached = file === undefined ? {} : await readCache(file);
  const now = cache.now();
  const fresh = (name: string) => {
    const entry = cached[name];
    return entry !== undefined && now - entry.at >= 0 && now - entry.at < SIZE_CACHE_TTL_MS;
  };
  const missing = wanted.filter((name) => !fresh(name));
  const answered = missing.length === 0 ? undefined : await describeTypes(api, missing);
  if (answered !== undefined) {
    for (const name of missing) cached[name] = { size: answered.get(name) ?? null, at: now };
    if (file !== undefined) await writeCache(file, cached, now);
  }
  const sizes = new Map<string, Size>();
  for (const name of wanted) {
    const size = cached[name]?.size ?? instanceTypeSize(name);
    if (size) sizes.set(name, size);
  }
  return sizes;
}

/**
 * One DescribeInstanceTypes for the types (by the `instance-type` filter, which, unlike
 * `InstanceTypes`, does not fail the whole request for one type the region does not know),
 * page after page; undefined when the call fails for any reason (the table answers then).
 */
async function describeTypes(
  api: Ec2Api,
  names: readonly string[],
): Promise<Map<string, Size> | undefined> {
  const found = new Map<string, Size>();
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await api.describeInstanceTypes({
        Filters: [{ Name: "instance-type", Values: [...names] }],
        MaxResults: 100,
        ...(nextToken ? { NextToken: nextToken } : {}),
      });
      for (const type of out.InstanceTypes ?? []) {
        const size = sizeOf(type);
        if (type.InstanceType && size) found.set(type.InstanceType, size);
      }
      nextToken = out.NextToken || undefined;
      if (!nextToken) return found;
    }
  } catch {
    // Not supported, denied, throttled, no answer: the table answers instead.
  }
  return undefined;
}

/** vCPUs and memory of a DescribeInstanceTypes entry, when it states both. */
function sizeOf(type: Sdk.InstanceTypeInfo): Size | undefined {
  const vcpus = type.VCpuInfo?.DefaultVCpus;
  const memoryMiB = type.MemoryInfo?.SizeInMiB;
  if (!vcpus || !memoryMiB || vcpus < 0 || memoryMiB < 0) return undefined;
  return { vcpus, memoryMiB };
}

/** The cache file of a location: `instance-types-<hash>.json`. */
async function fileName(location: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(location));
  const hex = Array.from(new Uint8Array(digest).slice(0, 8), (b) => b.toString(16).padStart(2, "0"))
    .join("");
  return `instance-types-${hex}.json`;
}

/** The cache's entries; none when the file is absent, unreadable or not ours. */
async function readCache(file: string): Promise<Record<string, CacheEntry>> {
  try {
    const stat = await Deno.stat(file);
    if (!stat.isFile || stat.size > MAX_CACHE_BYTES) return {};
    const data = JSON.parse(await Deno.readTextFile(file)) as Partial<CacheFile>;
    if (data.format !== "one-hybrid-instance-types" || data.version !== 1) return {};
    const entries: Record<string, CacheEntry> = {};
    for (const [name, entry] of Object.entries(data.types ?? {})) {
      if (typeof entry?.at !== "number") continue;
      const size = entry.size;
      if (size === null) entries[name] = { size: null, at: entry.at };
      else if (Number(size?.vcpus) > 0 && Number(size?.memoryMiB) > 0) {
        entries[name] = { size: { vcpus: size.vcpus, memoryMiB: size.memoryMiB }, at: entry.at };
      }
    }
    return entries;
  } catch {
    return {};
  }
}

/**
 * Writes the cache (expired entries dropped) through a temporary file and a rename, so that a
 * reader never sees half a file. Any failure leaves the cache as it was.
 */
async function writeCache(
  file: string,
  entries: Record<string, CacheEntry>,
  now: number,
): Promise<void> {
  const kept = Object.fromEntries(
    Object.entries(entries).filter(([, e]) => now - e.at < SIZE_CACHE_TTL_MS),
  );
  const content: CacheFile = { format: "one-hybrid-instance-types", version: 1, types: kept };
  await writeTextAtomically(file, JSON.stringify(content), { mode: 0o600, dirMode: 0o700 })
    .catch(() => {}); // a cache that cannot be written is no error
}
