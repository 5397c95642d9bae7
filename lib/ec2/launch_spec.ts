/**
 * Turns the attributes of a deployment file's EC2 section (`PUBLIC_CLOUD=[ TYPE="ec2", ... ]`
 * or the legacy `EC2=[...]`) into a checked launch request, before any API call. Every value
 * is checked against the formats and limits EC2 documents for RunInstances, so a typo fails
 * the deploy with a message naming the attribute instead of a cloud error later.
 *
 * @module
 */

import { InvalidInputError } from "../errors.ts";
import { instanceTags, RESERVED_TAG_PREFIX } from "./tags.ts";

/** A validated RunInstances request for one instance. */
export interface LaunchSpec {
  /** AMI to launch (`AMI`). */
  readonly imageId: string;
  /** Instance type (`INSTANCETYPE`). */
  readonly instanceType: string;
  /** Key pair name (`KEYPAIR`). */
  readonly keyName?: string;
  /** Security group names (`SECURITYGROUPS`). */
  readonly securityGroups?: readonly string[];
  /** Security group ids (`SECURITYGROUPIDS`). */
  readonly securityGroupIds?: readonly string[];
  /** Subnet id (`SUBNETID`). */
  readonly subnetId?: string;
  /** Primary private IPv4 address (`PRIVATEIP`). */
  readonly privateIpAddress?: string;
  /** Availability Zone or Local Zone name (`AVAILABILITYZONE`). */
  readonly availabilityZone?: string;
  /** Placement group name (`PLACEMENTGROUP`). */
  readonly placementGroup?: string;
  /** Tenancy (`TENANCY`), lower case. */
  readonly tenancy?: "default" | "dedicated" | "host";
  /** Idempotency token (`CLIENTTOKEN`). */
  readonly clientToken?: string;
  /** Whether the instance is EBS-optimised (`EBS_OPTIMIZED`). */
  readonly ebsOptimized?: boolean;
  /** User data, base64-encoded as RunInstances wants it (`USERDATA`). */
  readonly userData?: string;
  /** Tags from `TAGS`, in the order written. */
  readonly tags: Readonly<Record<string, string>>;
}

/** Raw user data EC2 accepts, in bytes (16 KB before base64 encoding). */
export const MAX_USER_DATA_BYTES = 16 * 1024;
/** Tags EC2 allows on one instance, the driver's own included. */
export const MAX_TAGS_PER_INSTANCE = 50;

/** Keys OpenNebula's EC2 driver knew that this driver does not implement yet. */
const NOT_SUPPORTED_YET = new Set(["BLOCKDEVICEMAPPING", "ELASTICIP"]);

const HEX_ID = (prefix: string) => new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`);
const AMI_ID = HEX_ID("ami");
const SUBNET_ID = HEX_ID("subnet");
const SECURITY_GROUP_ID = HEX_ID("sg");
/** Family (`m5d`, `u-6tb1`, `mac2-m2pro`, `m7i-flex`) and size (`24xlarge`, `metal-48xl`). */
const INSTANCE_TYPE =
  /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*\.(?:nano|micro|small|medium|large|\d*xlarge|metal(?:-\d+xl)?)$/;
/** Region (`us-east-1`, `us-gov-west-1`) then a zone letter or a Local/Wavelength Zone suffix. */
const ZONE = /^[a-z]{2}(?:-[a-z]+)+-\d+(?:[a-z]|(?:-[a-z0-9]+)+)$/;
const PRINTABLE_ASCII = /^[\x20-\x7E]+$/;
const IPV4_OCTET = /^(?:0|[1-9]\d{0,2})$/;

/** Where a value came from, for messages. */
interface Source {
  readonly key: string;
  readonly value: string;
  readonly fromDefaults: boolean;
}

/** Quotes a value for a one-line message, shortening long ones. */
function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 61)}...` : value);
}

/** Builds messages that name the section and key. */
class Checker {
  readonly section: string;
  readonly values: Map<string, Source>;

  constructor(section: string, values: Map<string, Source>) {
    this.section = section;
    this.values = values;
  }

  /** Error for a bad value of `source` (the value is not included unless the caller quotes it). */
  invalid(source: Source, problem: string): InvalidInputError {
    const origin = source.fromDefaults ? " (default from the driver configuration)" : "";
    return new InvalidInputError(
      `Invalid ${this.section} attribute ${source.key}${origin}: ${problem}`,
    );
  }

  get(key: string): Source | undefined {
    return this.values.get(key);
  }

  required(key: string, present: ReadonlySet<string>): Source {
    const source = this.values.get(key);
    if (source) return source;
    const state = present.has(key) ? "empty" : "missing";
    throw new InvalidInputError(`${this.section} attribute ${key} is ${state}`);
  }

  /** Checks a value against a pattern, with `expected` describing the format. */
  match(source: Source, pattern: RegExp, expected: string): string {
    if (!pattern.test(source.value)) {
      throw this.invalid(source, `${quote(source.value)} is not ${expected}`);
    }
    return source.value;
  }

  /** Checks a name of 1 to `max` printable ASCII characters. */
  asciiName(source: Source, max: number, what: string): string {
    const v = source.value;
    if (!PRINTABLE_ASCII.test(v) || v.length > max) {
      throw this.invalid(
        source,
        `${quote(v)} is not ${what} (1 to ${max} printable ASCII characters)`,
      );
    }
    return v;
  }

  /** Splits a comma-separated list, refusing empty items. */
  list(source: Source): string[] {
    const items = source.value.split(",").map((s) => s.trim());
    if (items.some((s) => s === "")) {
      throw this.invalid(source, "empty item in the comma-separated list");
    }
    return items;
  }
}

function isIpv4(value: string): boolean {
  const parts = value.split(".");
  return parts.length === 4 && parts.every((p) => IPV4_OCTET.test(p) && Number(p) <= 255);
}

/** Whether a value is canonical base64, possibly wrapped in lines. */
function asBase64(value: string): string | undefined {
  const compact = value.replace(/\r?\n/g, "");
  if (compact === "" || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    return undefined;
  }
  try {
    return btoa(atob(compact)) === compact ? compact : undefined;
  } catch {
    return undefined;
  }
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function userDataOf(check: Checker, source: Source): string {
  const encoded = asBase64(source.value);
  let size: number;
  let result: string;
  if (encoded !== undefined) {
    size = atob(encoded).length;
    result = encoded;
  } else {
    const bytes = new TextEncoder().encode(source.value);
    size = bytes.length;
    result = bytesToBase64(bytes);
  }
  if (size > MAX_USER_DATA_BYTES) {
    throw check.invalid(
      source,
      `user data is ${size} bytes, EC2 accepts at most ${MAX_USER_DATA_BYTES} (16 KB) before base64 encoding`,
    );
  }
  return result;
}

function tagsOf(check: Checker, source: Source): Record<string, string> {
  const pairs = new Map<string, string>();
  for (const item of check.list(source)) {
    const eq = item.indexOf("=");
    if (eq === -1) throw check.invalid(source, `${quote(item)} is not key=value`);
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    const keyLength = [...key].length;
    if (keyLength === 0 || keyLength > 128) {
      throw check.invalid(source, `tag key ${quote(key)} must have 1 to 128 characters`);
    }
    if ([...value].length > 256) {
      throw check.invalid(source, `the value of tag ${quote(key)} is longer than 256 characters`);
    }
    if (/^aws:/i.test(key)) {
      throw check.invalid(source, `tag key ${quote(key)}: the aws: prefix is reserved by AWS`);
    }
    if (key.toLowerCase().startsWith(RESERVED_TAG_PREFIX)) {
      throw check.invalid(
        source,
        `tag key ${quote(key)}: the ${RESERVED_TAG_PREFIX} prefix is reserved for the driver`,
      );
    }
    if (pairs.has(key)) throw check.invalid(source, `tag ${quote(key)} is given twice`);
    pairs.set(key, value);
  }
  const tags = Object.fromEntries(pairs);
  // The driver adds its ownership tags (and a Name unless given): count them too.
  const total = instanceTags(0, "host", undefined, tags).length;
  if (total > MAX_TAGS_PER_INSTANCE) {
    const allowed = MAX_TAGS_PER_INSTANCE - (total - pairs.size);
    throw check.invalid(
      source,
      `${pairs.size} tags, at most ${allowed} allowed (EC2 allows ${MAX_TAGS_PER_INSTANCE} per instance, the driver adds ${
        total - pairs.size
      })`,
    );
  }
  return tags;
}

/**
 * Checks an EC2 section and turns it into a launch request.
 *
 * Keys are compared in upper case. An empty value counts as absent, so a default can fill it.
 * `HOST`, `CLOUD` and `TYPE` select the section and are not launch keys; keys this driver does
 * not know (`AKI`, `LICENSEPOOL`, ...) are ignored, except `BLOCKDEVICEMAPPING` and
 * `ELASTICIP`, which OpenNebula supported and this driver does not yet: they are refused rather
 * than dropped. `USERDATA` that is valid base64 (lines allowed) is sent as is; any other value
 * is taken as plain text and encoded. Messages never include the user data.
 *
 * @param attributes The section's attributes (e.g. `CloudSection.attributes`).
 * @param defaults Values from the driver configuration for keys the section lacks.
 * @param sectionName Name used in messages: `PUBLIC_CLOUD` (default) or `EC2`.
 * @returns The launch request.
 * @throws {InvalidInputError} naming the section and key when a required key is missing or a
 * value is invalid or not supported yet.
 * @example From an OpenNebula PUBLIC_CLOUD section
 * ```ts
 * import assert from "node:assert/strict";
 * import { toLaunchSpec } from "./launch_spec.ts";
 *
 * // PUBLIC_CLOUD = [ TYPE="ec2", AMI="ami-0abcdef1234567890", INSTANCETYPE="t3.micro",
 * //   SECURITYGROUPIDS="sg-0123456789abcdef0", TAGS="Project=alpha,Owner=ops" ]
 * const spec = toLaunchSpec(
 *   {
 *     AMI: "ami-0abcdef1234567890",
 *     INSTANCETYPE: "t3.micro",
 *     SECURITYGROUPIDS: "sg-0123456789abcdef0",
 *     TAGS: "Project=alpha,Owner=ops",
 *   },
 *   { KEYPAIR: "opennebula", INSTANCETYPE: "m5.large" },
 * );
 * assert.equal(spec.instanceType, "t3.micro"); // the section wins
 * assert.equal(spec.keyName, "opennebula"); // the default fills the gap
 * assert.deepEqual(spec.tags, { Project: "alpha", Owner: "ops" });
 * ```
 */
export function toLaunchSpec(
  attributes: Readonly<Record<string, string>>,
  defaults: Readonly<Record<string, string>> = {},
  sectionName = "PUBLIC_CLOUD",
): LaunchSpec {
  const values = new Map<string, Source>();
  const present = new Set<string>();
  for (const [from, fromDefaults] of [[defaults, true], [attributes, false]] as const) {
    for (const [rawKey, rawValue] of Object.entries(from)) {
      const key = rawKey.toUpperCase();
      const value = String(rawValue).trim();
      present.add(key);
      if (value !== "") values.set(key, { key, value, fromDefaults });
    }
  }
  const check = new Checker(sectionName, values);

  for (const key of NOT_SUPPORTED_YET) {
    const source = check.get(key);
    if (source) {
      const origin = source.fromDefaults ? " (default from the driver configuration)" : "";
      throw new InvalidInputError(
        `${sectionName} attribute ${key}${origin} is not supported yet: remove it`,
      );
    }
  }

  const spec: { -readonly [K in keyof LaunchSpec]: LaunchSpec[K] } = {
    imageId: check.match(check.required("AMI", present), AMI_ID, "an AMI id (ami-xxxxxxxx)"),
    instanceType: check.match(
      check.required("INSTANCETYPE", present),
      INSTANCE_TYPE,
      "an EC2 instance type (e.g. t3.micro)",
    ),
    tags: {},
  };

  let s = check.get("KEYPAIR");
  if (s) spec.keyName = check.asciiName(s, 255, "a key pair name");

  s = check.get("SECURITYGROUPS");
  if (s) {
    const source = s;
    spec.securityGroups = check.list(source).map((name) => {
      if (name.startsWith("sg-")) {
        throw check.invalid(source, `${quote(name)} is a group id: put ids in SECURITYGROUPIDS`);
      }
      return check.asciiName({ ...source, value: name }, 255, "a security group name");
    });
  }

  s = check.get("SECURITYGROUPIDS");
  if (s) {
    const source = s;
    spec.securityGroupIds = check.list(source).map((id) =>
      check.match({ ...source, value: id }, SECURITY_GROUP_ID, "a security group id (sg-xxxxxxxx)")
    );
  }

  s = check.get("SUBNETID");
  if (s) spec.subnetId = check.match(s, SUBNET_ID, "a subnet id (subnet-xxxxxxxx)");

  s = check.get("PRIVATEIP");
  if (s && !isIpv4(s.value)) {
    throw check.invalid(s, `${quote(s.value)} is not an IPv4 address (e.g. 10.0.1.25)`);
  }
  if (s) spec.privateIpAddress = s.value;

  s = check.get("AVAILABILITYZONE");
  if (s) {
    spec.availabilityZone = check.match(s, ZONE, "an availability zone name (e.g. us-east-1a)");
  }

  s = check.get("PLACEMENTGROUP");
  if (s) spec.placementGroup = check.asciiName(s, 255, "a placement group name");

  s = check.get("TENANCY");
  if (s) {
    const tenancy = s.value.toLowerCase();
    if (tenancy !== "default" && tenancy !== "dedicated" && tenancy !== "host") {
      throw check.invalid(s, `${quote(s.value)} is not default, dedicated or host`);
    }
    spec.tenancy = tenancy;
  }

  s = check.get("CLIENTTOKEN");
  if (s) spec.clientToken = check.asciiName(s, 64, "a client token");

  s = check.get("EBS_OPTIMIZED");
  if (s) {
    const flag = s.value.toLowerCase();
    if (flag === "yes" || flag === "true") spec.ebsOptimized = true;
    else if (flag === "no" || flag === "false") spec.ebsOptimized = false;
    else throw check.invalid(s, `${quote(s.value)} is not yes, no, true or false`);
  }

  s = check.get("USERDATA");
  if (s) spec.userData = userDataOf(check, s);

  s = check.get("TAGS");
  if (s) spec.tags = tagsOf(check, s);

  return spec;
}
