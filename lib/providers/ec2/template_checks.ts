/**
 * How the values of an EC2 template section are checked: formats and limits from the EC2 API
 * reference for RunInstances, and messages that name the section and key. Which key uses which
 * check is in `template_rows.ts`.
 *
 * @module
 */

import { InvalidInputError } from "../../util/errors.ts";
import type {
  BlockDeviceMapping,
  ElasticIp,
  IamInstanceProfile,
  VolumeType,
} from "./launch_spec.ts";
import { instanceTags, RESERVED_TAG_PREFIX } from "./tags.ts";
import { MAX_USER_DATA_BYTES, userDataBase64 } from "./user_data.ts";

/** Tags EC2 allows on one instance, the driver's own included. */
export const MAX_TAGS_PER_INSTANCE = 50;

const HEX_ID = (prefix: string) => new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`);
export const AMI_ID = HEX_ID("ami");
export const SUBNET_ID = HEX_ID("subnet");
export const SECURITY_GROUP_ID = HEX_ID("sg");
const SNAPSHOT_ID = HEX_ID("snap");
const ALLOCATION_ID = HEX_ID("eipalloc");
/**
 * Device names EC2 documents for block device mappings: `/dev/sd[a-z]` and `/dev/hd[a-z]`
 * with an optional partition 1 to 15 (`/dev/sda1`), `/dev/xvd[a-z]` and `/dev/xvd[a-z][a-z]`
 * (`/dev/xvdba`); Windows AMIs also use the bare form (`xvdh`).
 */
export const DEVICE_NAME = /^(?:\/dev\/)?(?:(?:sd|hd)[a-z]|xvd[a-z]{1,2})(?:[1-9]|1[0-5])?$/;
/** Instance store volume names: `ephemeral0` to `ephemeral23` (24 is the most any type has). */
const EPHEMERAL = /^ephemeral(?:1?\d|2[0-3])$/;
/** IAM names of instance profiles: 1 to 128 of letters, digits and `+=,.@_-`. */
const PROFILE_NAME = /^[\w+=,.@-]{1,128}$/;
/** `arn:<partition>:iam::<12-digit account>:instance-profile/<path/>name`. */
const PROFILE_ARN =
  /^arn:aws(?:-[a-z]+)*:iam::\d{12}:instance-profile\/(?:[\x21-\x2E\x30-\x7E]+\/)*[\w+=,.@-]{1,128}$/;
/** A decimal number of USD without sign or exponent. */
const PRICE = /^\d{1,6}(?:\.\d{1,8})?$/;
/** EC2 refuses a Spot maximum price of USD 0.001 or less. */
const MIN_SPOT_PRICE = 0.001;
/** Family (`m5d`, `u-6tb1`, `mac2-m2pro`, `m7i-flex`) and size (`24xlarge`, `metal-48xl`). */
export const INSTANCE_TYPE =
  /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*\.(?:nano|micro|small|medium|large|\d*xlarge|metal(?:-\d+xl)?)$/;
/** Region (`us-east-1`, `us-gov-west-1`) then a zone letter or a Local/Wavelength Zone suffix. */
export const ZONE = /^[a-z]{2}(?:-[a-z]+)+-\d+(?:[a-z]|(?:-[a-z0-9]+)+)$/;
const PRINTABLE_ASCII = /^[\x20-\x7E]+$/;
const IPV4_OCTET = /^(?:0|[1-9]\d{0,2})$/;

/** A key's value and where it came from, for messages. */
export interface Source {
  readonly key: string;
  readonly value: string;
  readonly fromDefaults: boolean;
}

/** Builds the error for one problem. */
type Fail = (problem: string) => InvalidInputError;

/** Quotes a value for a one-line message, shortening long ones. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 61)}...` : value);
}

/** A decimal whole number without sign, or undefined. */
function wholeNumber(value: string): number | undefined {
  return /^\d{1,12}$/.test(value) ? Number(value) : undefined;
}

/** Yes, no, true or false in any case as a boolean; undefined for anything else. */
function yesNo(value: string): boolean | undefined {
  const word = value.toLowerCase();
  return word === "yes" || word === "true"
    ? true
    : word === "no" || word === "false"
    ? false
    : undefined;
}

/** The section's values, and messages that name the section and key. */
export class Checker {
  constructor(readonly section: string, readonly values: ReadonlyMap<string, Source>) {}

  /** Error for a bad value of `source` (the value is not included unless the caller quotes it). */
  invalid(source: Source, problem: string): InvalidInputError {
    const origin = source.fromDefaults ? " (default from the driver configuration)" : "";
    return new InvalidInputError(
      `Invalid ${this.section} attribute ${source.key}${origin}: ${problem}`,
    );
  }

  /** The non-empty value of `key`, if any. */
  get(key: string): Source | undefined {
    return this.values.get(key);
  }

  /** The value of a key that must be given; `present` holds the keys given, even empty. */
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

  /** Reads yes, no, true or false in any case. */
  flag(source: Source): boolean {
    const flag = yesNo(source.value);
    if (flag === undefined) {
      throw this.invalid(source, `${quote(source.value)} is not yes, no, true or false`);
    }
    return flag;
  }

  /** Reads one of `choices` in any case; `choices` are lower case. */
  oneOf<T extends string>(source: Source, choices: readonly T[]): T {
    const value = source.value.toLowerCase();
    const found = choices.find((c) => c === value);
    if (found === undefined) {
      const list = `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}`;
      throw this.invalid(source, `${quote(source.value)} is not ${list}`);
    }
    return found;
  }

  /** Reads a whole number from `min` to `max`, `unit` naming what it counts. */
  integer(source: Source, min: number, max: number, unit: string): number {
    const n = wholeNumber(source.value);
    if (n === undefined || n < min || n > max) {
      throw this.invalid(
        source,
        `${quote(source.value)} is not a whole number of ${unit} from ${min} to ${max}`,
      );
    }
    return n;
  }

  /** Builds errors about `source`. */
  failing(source: Source): Fail {
    return (problem) => this.invalid(source, problem);
  }
}

const VOLUME_TYPES: readonly VolumeType[] = ["standard", "gp2", "gp3", "io1", "io2", "st1", "sc1"];

/** Size and IOPS ranges of a volume type. */
interface VolumeLimits {
  readonly size: readonly [number, number];
  readonly iops?: readonly [number, number];
  readonly iopsRequired?: true;
}

/**
 * Sizes in GiB and IOPS per volume type, as the EC2 API reference gives them for
 * `EbsBlockDevice` (SDK 3.1169): gp3 and io2 grew to 64 TiB; IOPS apply to io1, io2 (where
 * they are required) and gp3 only.
 */
const VOLUME_LIMITS: Readonly<Record<VolumeType, VolumeLimits>> = {
  standard: { size: [1, 1024] },
  gp2: { size: [1, 16384] },
  gp3: { size: [1, 65536], iops: [3000, 80000] },
  io1: { size: [4, 16384], iops: [100, 64000], iopsRequired: true },
  io2: { size: [4, 65536], iops: [100, 256000], iopsRequired: true },
  st1: { size: [125, 16384] },
  sc1: { size: [125, 16384] },
};

/** The widest size range, for a volume whose type is left to EC2 or the AMI. */
const ANY_VOLUME_SIZE = [1, 65536] as const;

/** Reads an EBS volume type in any case. */
export function volumeTypeOf(written: string, fail: Fail): VolumeType {
  const type = VOLUME_TYPES.find((t) => t === written.toLowerCase());
  if (!type) throw fail(`volume type ${quote(written)} is not ${VOLUME_TYPES.join(", ")}`);
  return type;
}

/** Reads a volume size in GiB within the limits of `type` (any type's when undefined). */
export function volumeSizeOf(written: string, type: VolumeType | undefined, fail: Fail): number {
  const [min, max] = type ? VOLUME_LIMITS[type].size : ANY_VOLUME_SIZE;
  const size = wholeNumber(written);
  if (size === undefined || size < min || size > max) {
    const range = `from ${min} to ${max}${type ? ` for ${type}` : ""}`;
    throw fail(`size ${quote(written)} is not a whole number of GiB ${range}`);
  }
  return size;
}

/** Reads the IOPS of a volume of `type`. */
export function volumeIopsOf(written: string, type: VolumeType | undefined, fail: Fail): number {
  const range = type && VOLUME_LIMITS[type].iops;
  if (!range) {
    throw fail(`IOPS apply to volume types io1, io2 or gp3 only${type ? `, not ${type}` : ""}`);
  }
  const [min, max] = range;
  const iops = wholeNumber(written);
  if (iops === undefined || iops < min || iops > max) {
    throw fail(`IOPS ${quote(written)} is not a whole number from ${min} to ${max} for ${type}`);
  }
  return iops;
}

/** Refuses a volume of `type` without IOPS when the type needs them (io1, io2). */
export function checkIopsGiven(type: VolumeType, given: boolean, fail: Fail): void {
  if (!given && VOLUME_LIMITS[type].iopsRequired) throw fail(`volume type ${type} needs IOPS`);
}

/** Reads one `BLOCKDEVICEMAPPING` entry, in OpenNebula's order. */
function mappingOf(entry: string, fail: Fail): BlockDeviceMapping {
  const failEntry = (problem: string) => fail(`entry ${quote(entry)}: ${problem}`);
  const eq = entry.indexOf("=");
  if (eq === -1) throw failEntry("not device=volume (e.g. /dev/sdf=:100:true:gp3)");
  const deviceName = entry.slice(0, eq);
  const volume = entry.slice(eq + 1);
  if (!DEVICE_NAME.test(deviceName)) {
    throw failEntry(`${quote(deviceName)} is not an EC2 device name (e.g. /dev/sdf, /dev/xvdb)`);
  }
  if (volume === "") throw failEntry("nothing after =");
  if (volume.toLowerCase() === "none") return { kind: "none", deviceName };
  if (/^ephemeral\d+$/i.test(volume)) {
    const virtualName = volume.toLowerCase();
    if (!EPHEMERAL.test(virtualName)) {
      throw failEntry(
        `${quote(volume)} is not an instance store volume (ephemeral0 to ephemeral23)`,
      );
    }
    return { kind: "ephemeral", deviceName, virtualName };
  }
  const parts = volume.split(":");
  if (parts.length > 5) throw failEntry("more than 5 parts (snapshot:size:delete:type:iops)");
  if (parts.every((p) => p === "")) throw failEntry("every part is empty");
  const [snapshot = "", size = "", remove = "", type = "", iops = ""] = parts;
  if (snapshot !== "" && !SNAPSHOT_ID.test(snapshot)) {
    throw failEntry(`${quote(snapshot)} is not a snapshot id (snap-xxxxxxxx)`);
  }
  const deleteOnTermination = remove === "" ? undefined : yesNo(remove);
  if (remove !== "" && deleteOnTermination === undefined) {
    throw failEntry(`delete-on-termination ${quote(remove)} is not true, false, yes or no`);
  }
  const volumeType = type === "" ? undefined : volumeTypeOf(type, failEntry);
  const sizeGiB = size === "" ? undefined : volumeSizeOf(size, volumeType, failEntry);
  const checkedIops = iops === "" ? undefined : volumeIopsOf(iops, volumeType, failEntry);
  if (volumeType) checkIopsGiven(volumeType, iops !== "", failEntry);
  return {
    kind: "ebs",
    deviceName,
    ...(snapshot !== "" ? { snapshotId: snapshot } : {}),
    ...(sizeGiB !== undefined ? { sizeGiB } : {}),
    ...(deleteOnTermination !== undefined ? { deleteOnTermination } : {}),
    ...(volumeType !== undefined ? { volumeType } : {}),
    ...(checkedIops !== undefined ? { iops: checkedIops } : {}),
  };
}

/** Reads `BLOCKDEVICEMAPPING`: blank-separated entries, each device named once. */
export function mappingsOf(check: Checker, source: Source): BlockDeviceMapping[] {
  const seen = new Set<string>();
  return source.value.split(/\s+/).filter((e) => e !== "").map((entry) => {
    const mapping = mappingOf(entry, check.failing(source));
    const device = canonicalDevice(mapping.deviceName);
    if (seen.has(device)) {
      throw check.invalid(source, `device ${quote(mapping.deviceName)} is mapped twice`);
    }
    seen.add(device);
    return mapping;
  });
}

/**
 * A device name without its optional `/dev/` prefix, for comparing names.
 *
 * @param name A device name such as `/dev/xvda` or `xvda`.
 * @returns The name without `/dev/`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalDevice } from "./template_checks.ts";
 * assert.equal(canonicalDevice("/dev/xvda"), canonicalDevice("xvda"));
 * ```
 */
export function canonicalDevice(name: string): string {
  return name.startsWith("/dev/") ? name.slice(5) : name;
}

/** The mapping, if any, that names the root device `device` too. */
export function mappingOfDevice(
  mappings: readonly BlockDeviceMapping[] | undefined,
  device: string,
): BlockDeviceMapping | undefined {
  return mappings?.find((m) => canonicalDevice(m.deviceName) === canonicalDevice(device));
}

/** Whether a value is a dotted IPv4 address. */
function isIpv4(value: string): boolean {
  const parts = value.split(".");
  return parts.length === 4 && parts.every((p) => IPV4_OCTET.test(p) && Number(p) <= 255);
}

/** Reads a dotted IPv4 address. */
export function ipv4Of(check: Checker, source: Source): string {
  if (!isIpv4(source.value)) {
    throw check.invalid(source, `${quote(source.value)} is not an IPv4 address (e.g. 10.0.1.25)`);
  }
  return source.value;
}

/** Reads an Elastic IP: an IPv4 address or an allocation id. */
export function elasticIpOf(check: Checker, source: Source): ElasticIp {
  const v = source.value;
  if (v.toLowerCase().startsWith("eipalloc-")) {
    return {
      allocationId: check.match(source, ALLOCATION_ID, "an allocation id (eipalloc-xxxxxxxx)"),
    };
  }
  if (!isIpv4(v)) {
    throw check.invalid(
      source,
      `${quote(v)} is neither an IPv4 address nor an allocation id (eipalloc-xxxxxxxx)`,
    );
  }
  return { publicIp: v };
}

/** Reads an instance profile: a name or an instance-profile ARN. */
export function instanceProfileOf(check: Checker, source: Source): IamInstanceProfile {
  const v = source.value;
  if (v.startsWith("arn:")) {
    if (v.length > 2048 || !PROFILE_ARN.test(v)) {
      throw check.invalid(
        source,
        `${
          quote(v)
        } is not an instance profile ARN (arn:aws:iam::<account>:instance-profile/<name>)`,
      );
    }
    return { arn: v };
  }
  if (!PROFILE_NAME.test(v)) {
    throw check.invalid(
      source,
      `${quote(v)} is not an instance profile name (1 to 128 letters, digits or +=,.@_-) or ARN`,
    );
  }
  return { name: v };
}

/** Reads a Spot maximum price in USD. */
export function priceOf(check: Checker, source: Source): string {
  if (!PRICE.test(source.value) || Number(source.value) <= MIN_SPOT_PRICE) {
    throw check.invalid(
      source,
      `${quote(source.value)} is not a price in USD above ${MIN_SPOT_PRICE} (e.g. 0.05)`,
    );
  }
  return source.value;
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

/** Reads user data: base64 as is, anything else encoded; never quoted in messages. */
export function userDataOf(check: Checker, source: Source): string {
  const encoded = asBase64(source.value);
  const bytes = encoded === undefined ? new TextEncoder().encode(source.value) : undefined;
  const size = bytes ? bytes.length : atob(encoded!).length;
  if (size > MAX_USER_DATA_BYTES) {
    throw check.invalid(
      source,
      `user data is ${size} bytes, EC2 accepts at most ${MAX_USER_DATA_BYTES} (16 KB) before base64 encoding`,
    );
  }
  return bytes ? userDataBase64(bytes) : encoded!;
}

/** Reads `key=value,...` tags, leaving room for the driver's own. */
export function tagsOf(check: Checker, source: Source): Record<string, string> {
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
  const added = instanceTags(0, "host", undefined, tags, "token").length - pairs.size;
  if (pairs.size + added > MAX_TAGS_PER_INSTANCE) {
    throw check.invalid(
      source,
      `${pairs.size} tags, at most ${
        MAX_TAGS_PER_INSTANCE - added
      } allowed (EC2 allows ${MAX_TAGS_PER_INSTANCE} per instance, the driver adds ${added})`,
    );
  }
  return tags;
}
