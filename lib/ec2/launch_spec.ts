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
import { templateKeyProblem } from "./template_keys.ts";
import { MAX_USER_DATA_BYTES, userDataBase64 } from "./user_data.ts";

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
  /** Block device mappings (`BLOCKDEVICEMAPPING`), in the order written. */
  readonly blockDeviceMappings?: readonly BlockDeviceMapping[];
  /**
   * Elastic IP to associate once the instance runs (`ELASTICIP`), as OpenNebula 5.4 did: an
   * IPv4 address becomes `publicIp`, an `eipalloc-` id `allocationId`. Validated here only; the
   * association is the deploy action's business.
   */
  readonly elasticIp?: ElasticIp;
  /** IAM instance profile (`IAMINSTANCEPROFILE`): a name, or an instance-profile ARN. */
  readonly iamInstanceProfile?: IamInstanceProfile;
  /**
   * Changes to the AMI's root volume (`ROOTVOLUMESIZE`, `ROOTVOLUMETYPE`, `ROOTVOLUMEIOPS`,
   * with `ROOTVOLUMEDEVICE`); absent when none of the first three is given.
   */
  readonly rootVolume?: RootVolume;
  /**
   * `METADATA_HTTP_TOKENS`. Absent means the driver's default, `required` (IMDSv2 only), or
   * `optional` when `CLOUD_INIT=no` (see `runInstancesInput()` in `run_input.ts`).
   */
  readonly metadataHttpTokens?: "required" | "optional";
  /** `METADATA_HOP_LIMIT`: hops an IMDSv2 token may travel (1 to 64); EC2's default when absent. */
  readonly metadataHopLimit?: number;
  /** Spot request (`SPOT=yes` with `SPOTPRICE`, `SPOTTYPE`, `SPOTINTERRUPTION`); on-demand when absent. */
  readonly spot?: SpotOptions;
  /**
   * How `CONTEXT` becomes user data when there is no `USERDATA` (`CLOUD_INIT`): `cloud-config`
   * (the default when absent) or `shell` (`KEY='value'` lines for OpenNebula's one-context).
   */
  readonly contextFormat?: "cloud-config" | "shell";
}

/** EBS volume types RunInstances accepts, lower case. */
export type VolumeType = "standard" | "gp2" | "gp3" | "io1" | "io2" | "st1" | "sc1";

/** One entry of `BLOCKDEVICEMAPPING`. */
export type BlockDeviceMapping =
  /** `dev=none`: the AMI's mapping for `dev` is suppressed. */
  | { readonly kind: "none"; readonly deviceName: string }
  /** `dev=ephemeralN`: instance store volume N on `dev`. */
  | { readonly kind: "ephemeral"; readonly deviceName: string; readonly virtualName: string }
  /** `dev=snapshot:size:delete-on-termination:type:iops`: an EBS volume; every part optional. */
  | {
    readonly kind: "ebs";
    readonly deviceName: string;
    readonly snapshotId?: string;
    readonly sizeGiB?: number;
    readonly deleteOnTermination?: boolean;
    readonly volumeType?: VolumeType;
    readonly iops?: number;
  };

/** The Elastic IP of `ELASTICIP`. */
export type ElasticIp = { readonly publicIp: string } | { readonly allocationId: string };

/** The instance profile of `IAMINSTANCEPROFILE`. */
export type IamInstanceProfile = { readonly name: string } | { readonly arn: string };

/** Root volume settings. */
export interface RootVolume {
  /** `ROOTVOLUMEDEVICE`; when absent the AMI's root device name must be looked up. */
  readonly deviceName?: string;
  /** `ROOTVOLUMESIZE` in GiB. */
  readonly sizeGiB?: number;
  /** `ROOTVOLUMETYPE` (never st1 or sc1: HDD volumes cannot boot). */
  readonly volumeType?: Exclude<VolumeType, "st1" | "sc1">;
  /** `ROOTVOLUMEIOPS` (io1, io2, gp3). */
  readonly iops?: number;
}

/** Spot market options. */
export interface SpotOptions {
  /** `SPOTPRICE`: the highest hourly price in USD, as written; the current Spot price is paid when absent. */
  readonly maxPrice?: string;
  /** `SPOTTYPE`: `one-time` (default) or `persistent`. */
  readonly type: "one-time" | "persistent";
  /** `SPOTINTERRUPTION`: `terminate` (default for one-time), `stop` (default for persistent) or `hibernate`. */
  readonly interruption: "terminate" | "stop" | "hibernate";
}

/** Raw user data EC2 accepts, in bytes (16 KB before base64 encoding). */
export { MAX_USER_DATA_BYTES } from "./user_data.ts";
/** Tags EC2 allows on one instance, the driver's own included. */
export const MAX_TAGS_PER_INSTANCE = 50;

const HEX_ID = (prefix: string) => new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`);
const AMI_ID = HEX_ID("ami");
const SUBNET_ID = HEX_ID("subnet");
const SECURITY_GROUP_ID = HEX_ID("sg");
const SNAPSHOT_ID = HEX_ID("snap");
const ALLOCATION_ID = HEX_ID("eipalloc");
/**
 * Device names EC2 documents for block device mappings: `/dev/sd[a-z]` and `/dev/hd[a-z]`
 * with an optional partition 1 to 15 (`/dev/sda1`), `/dev/xvd[a-z]` and `/dev/xvd[a-z][a-z]`
 * (`/dev/xvdba`); Windows AMIs also use the bare form (`xvdh`).
 */
const DEVICE_NAME = /^(?:\/dev\/)?(?:(?:sd|hd)[a-z]|xvd[a-z]{1,2})(?:[1-9]|1[0-5])?$/;
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

/** A key for a message: XML names have no blanks or control characters, but may be long. */
function shortKey(key: string): string {
  return key.length > 64 ? `${key.slice(0, 61)}...` : key;
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

  /** Reads yes, no, true or false in any case. */
  flag(source: Source): boolean {
    const flag = source.value.toLowerCase();
    if (flag === "yes" || flag === "true") return true;
    if (flag === "no" || flag === "false") return false;
    throw this.invalid(source, `${quote(source.value)} is not yes, no, true or false`);
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
}

/** A decimal whole number without sign, or undefined. */
function wholeNumber(value: string): number | undefined {
  return /^\d{1,12}$/.test(value) ? Number(value) : undefined;
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
const IOPS_TYPES = "io1, io2 or gp3";

/** The parts of an EBS volume as written; empty parts left out. */
interface VolumeParts {
  readonly size?: string;
  readonly type?: string;
  readonly iops?: string;
}

/** Checked size, type and IOPS of a volume. */
interface Volume {
  sizeGiB?: number;
  volumeType?: VolumeType;
  iops?: number;
}

/**
 * Checks a volume's size, type and IOPS against each other.
 *
 * @param parts The parts as written.
 * @param fail Builds the error for a problem with one part.
 * @returns The checked values.
 */
function volumeOf(
  parts: VolumeParts,
  fail: (part: keyof VolumeParts, problem: string) => InvalidInputError,
): Volume {
  const out: Volume = {};
  let limits: VolumeLimits | undefined;
  if (parts.type !== undefined) {
    const written = parts.type.toLowerCase();
    const type = VOLUME_TYPES.find((t) => t === written);
    if (!type) {
      throw fail("type", `volume type ${quote(parts.type)} is not ${VOLUME_TYPES.join(", ")}`);
    }
    out.volumeType = type;
    limits = VOLUME_LIMITS[type];
  }
  if (parts.size !== undefined) {
    const [min, max] = limits?.size ?? ANY_VOLUME_SIZE;
    const size = wholeNumber(parts.size);
    if (size === undefined || size < min || size > max) {
      const kind = out.volumeType ? ` for ${out.volumeType}` : "";
      const range = `from ${min} to ${max}${kind}`;
      throw fail("size", `size ${quote(parts.size)} is not a whole number of GiB ${range}`);
    }
    out.sizeGiB = size;
  }
  if (parts.iops !== undefined) {
    if (!limits?.iops) {
      const kind = out.volumeType ? `, not ${out.volumeType}` : "";
      throw fail("iops", `IOPS apply to volume types ${IOPS_TYPES} only${kind}`);
    }
    const [min, max] = limits.iops;
    const iops = wholeNumber(parts.iops);
    if (iops === undefined || iops < min || iops > max) {
      const range = `from ${min} to ${max} for ${out.volumeType}`;
      throw fail("iops", `IOPS ${quote(parts.iops)} is not a whole number ${range}`);
    }
    out.iops = iops;
  } else if (limits?.iopsRequired) {
    throw fail("type", `volume type ${out.volumeType} needs IOPS`);
  }
  return out;
}

/** Reads one `BLOCKDEVICEMAPPING` entry, in OpenNebula's order. */
function mappingOf(check: Checker, source: Source, entry: string): BlockDeviceMapping {
  const fail = (problem: string) => check.invalid(source, `entry ${quote(entry)}: ${problem}`);
  const eq = entry.indexOf("=");
  if (eq === -1) throw fail("not device=volume (e.g. /dev/sdf=:100:true:gp3)");
  const deviceName = entry.slice(0, eq);
  const volume = entry.slice(eq + 1);
  if (!DEVICE_NAME.test(deviceName)) {
    throw fail(`${quote(deviceName)} is not an EC2 device name (e.g. /dev/sdf, /dev/xvdb)`);
  }
  if (volume === "") throw fail("nothing after =");
  if (volume.toLowerCase() === "none") return { kind: "none", deviceName };
  if (/^ephemeral\d+$/i.test(volume)) {
    const virtualName = volume.toLowerCase();
    if (!EPHEMERAL.test(virtualName)) {
      throw fail(`${quote(volume)} is not an instance store volume (ephemeral0 to ephemeral23)`);
    }
    return { kind: "ephemeral", deviceName, virtualName };
  }
  const parts = volume.split(":");
  if (parts.length > 5) throw fail("more than 5 parts (snapshot:size:delete:type:iops)");
  if (parts.every((p) => p === "")) throw fail("every part is empty");
  const [snapshot = "", size = "", remove = "", type = "", iops = ""] = parts;
  const mapping: { kind: "ebs"; deviceName: string; snapshotId?: string } = {
    kind: "ebs",
    deviceName,
  };
  if (snapshot !== "") {
    if (!SNAPSHOT_ID.test(snapshot)) {
      throw fail(`${quote(snapshot)} is not a snapshot id (snap-xxxxxxxx)`);
    }
    mapping.snapshotId = snapshot;
  }
  let deleteOnTermination: boolean | undefined;
  if (remove !== "") {
    const flag = remove.toLowerCase();
    if (flag === "true" || flag === "yes") deleteOnTermination = true;
    else if (flag === "false" || flag === "no") deleteOnTermination = false;
    else throw fail(`delete-on-termination ${quote(remove)} is not true, false, yes or no`);
  }
  const volumeParts: { size?: string; type?: string; iops?: string } = {};
  if (size !== "") volumeParts.size = size;
  if (type !== "") volumeParts.type = type;
  if (iops !== "") volumeParts.iops = iops;
  const checked = volumeOf(volumeParts, (_part, problem) => fail(problem));
  return {
    ...mapping,
    ...(checked.sizeGiB !== undefined ? { sizeGiB: checked.sizeGiB } : {}),
    ...(deleteOnTermination !== undefined ? { deleteOnTermination } : {}),
    ...(checked.volumeType !== undefined ? { volumeType: checked.volumeType } : {}),
    ...(checked.iops !== undefined ? { iops: checked.iops } : {}),
  };
}

/** Reads `BLOCKDEVICEMAPPING`: blank-separated entries, each device named once. */
function mappingsOf(check: Checker, source: Source): BlockDeviceMapping[] {
  const seen = new Set<string>();
  return source.value.split(/\s+/).filter((e) => e !== "").map((entry) => {
    const mapping = mappingOf(check, source, entry);
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
 */
export function canonicalDevice(name: string): string {
  return name.startsWith("/dev/") ? name.slice(5) : name;
}

/** Whether an IPv4 address is private, shared, loopback, link-local or not unicast. */
function elasticIpOf(check: Checker, source: Source): ElasticIp {
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

function instanceProfileOf(check: Checker, source: Source): IamInstanceProfile {
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

/** Reads the ROOTVOLUME* keys; undefined when no size, type or IOPS is given. */
function rootVolumeOf(check: Checker): RootVolume | undefined {
  const sources = {
    size: check.get("ROOTVOLUMESIZE"),
    type: check.get("ROOTVOLUMETYPE"),
    iops: check.get("ROOTVOLUMEIOPS"),
  };
  const { size, type, iops } = sources;
  const any = type ?? size ?? iops;
  if (any === undefined) return undefined;
  const written = type?.value.toLowerCase();
  if (type && (written === "st1" || written === "sc1")) {
    throw check.invalid(type, `${quote(type.value)}: HDD volumes cannot be root volumes`);
  }
  const parts: { size?: string; type?: string; iops?: string } = {};
  if (size) parts.size = size.value;
  if (type) parts.type = type.value;
  if (iops) parts.iops = iops.value;
  // Each message names the key it is about ("io1 needs IOPS" is about ROOTVOLUMETYPE).
  const checked = volumeOf(parts, (part, problem) => check.invalid(sources[part] ?? any, problem));
  const device = check.get("ROOTVOLUMEDEVICE");
  if (device && !DEVICE_NAME.test(device.value)) {
    throw check.invalid(
      device,
      `${quote(device.value)} is not an EC2 device name (e.g. /dev/xvda, /dev/sda1)`,
    );
  }
  const volumeType = checked.volumeType as RootVolume["volumeType"];
  return {
    ...(device ? { deviceName: device.value } : {}),
    ...(checked.sizeGiB !== undefined ? { sizeGiB: checked.sizeGiB } : {}),
    ...(volumeType !== undefined ? { volumeType } : {}),
    ...(checked.iops !== undefined ? { iops: checked.iops } : {}),
  };
}

/** Keys of the Spot options, which need `SPOT=yes`. */
const SPOT_KEYS = ["SPOTPRICE", "SPOTTYPE", "SPOTINTERRUPTION"] as const;

/** Reads SPOT and its keys; undefined for on-demand. */
function spotOf(check: Checker): SpotOptions | undefined {
  const spot = check.get("SPOT");
  if (!spot || !check.flag(spot)) {
    // A Spot key written in the template without SPOT=yes is a mistake; driver defaults are
    // only defaults, and stay unused.
    for (const key of SPOT_KEYS) {
      const s = check.get(key);
      if (s && !s.fromDefaults) throw check.invalid(s, "needs SPOT=yes");
    }
    return undefined;
  }
  const price = check.get("SPOTPRICE");
  if (price && (!PRICE.test(price.value) || Number(price.value) <= MIN_SPOT_PRICE)) {
    throw check.invalid(
      price,
      `${quote(price.value)} is not a price in USD above ${MIN_SPOT_PRICE} (e.g. 0.05)`,
    );
  }
  const typeSource = check.get("SPOTTYPE");
  const type = typeSource ? check.oneOf(typeSource, ["one-time", "persistent"]) : "one-time";
  const interruptionSource = check.get("SPOTINTERRUPTION");
  const interruption = interruptionSource
    ? check.oneOf(interruptionSource, ["terminate", "stop", "hibernate"])
    : type === "persistent"
    ? "stop"
    : "terminate";
  // RunInstances takes persistent Spot requests only with stop or hibernate, and stop or
  // hibernate only for persistent requests.
  if (type === "persistent" && interruption === "terminate") {
    throw check.invalid(
      interruptionSource!,
      "a persistent Spot request needs SPOTINTERRUPTION stop or hibernate",
    );
  }
  if (type === "one-time" && interruption !== "terminate") {
    throw check.invalid(
      interruptionSource!,
      `${interruption} needs SPOTTYPE=persistent (a one-time Spot request can only terminate)`,
    );
  }
  return { ...(price ? { maxPrice: price.value } : {}), type, interruption };
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
    result = userDataBase64(bytes);
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
  const total = instanceTags(0, "host", undefined, tags, "token").length;
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
 * Keys are compared in upper case. An empty value counts as absent, so a default can fill it;
 * any key may have a default in the driver configuration. `HOST`, `CLOUD` and `TYPE` select
 * the section and are not launch keys. Any other key this driver does not read is refused,
 * naming the closest known key, so that a typo (`KEYPAIRR`) does not launch an instance
 * without it; so are the keys of OpenNebula's older drivers that this one does not support
 * (`AKI`, `LICENSEPOOL`, ...). `USERDATA` that is valid base64 (lines allowed) is sent as is; any other
 * value is taken as plain text and encoded. Messages never include the user data.
 *
 * Keys beyond OpenNebula's own (`AMI` ... `TAGS`, `BLOCKDEVICEMAPPING`, `ELASTICIP`), named in
 * its style; words are yes, no, true or false in any case:
 *
 * | key | accepted values | when absent |
 * |---|---|---|
 * | `BLOCKDEVICEMAPPING` | blank-separated `dev=snapshot:size:delete:type:iops` (parts may be empty), `dev=none`, `dev=ephemeralN` | the AMI's mappings |
 * | `ELASTICIP` | an IPv4 address or `eipalloc-...` | no association |
 * | `IAMINSTANCEPROFILE` | a profile name or `arn:aws:iam::<account>:instance-profile/<name>` | none |
 * | `ROOTVOLUMESIZE` | GiB, within the type's limits | the AMI's size |
 * | `ROOTVOLUMETYPE` | standard, gp2, gp3, io1, io2 | the AMI's type |
 * | `ROOTVOLUMEIOPS` | IOPS; required for io1/io2, allowed for gp3 | EC2's default |
 * | `ROOTVOLUMEDEVICE` | the AMI's root device name (`/dev/xvda`, `/dev/sda1`) | looked up in the AMI |
 * | `METADATA_HTTP_TOKENS` | required, optional | required (optional with `CLOUD_INIT=no`) |
 * | `METADATA_HOP_LIMIT` | 1 to 64 | EC2's default |
 * | `SPOT` | a word | no (on-demand) |
 * | `SPOTPRICE` | highest USD per hour, above 0.001 (needs `SPOT=yes`) | the current Spot price |
 * | `SPOTTYPE` | one-time, persistent (needs `SPOT=yes`) | one-time |
 * | `SPOTINTERRUPTION` | terminate (one-time only), stop, hibernate (persistent only) | terminate, or stop when persistent |
 * | `CLOUD_INIT` | a word: how CONTEXT becomes user data (OpenNebula 5.8's key) | yes (`#cloud-config`) |
 *
 * Volume sizes (GiB) and IOPS follow the EC2 API reference: gp2 1-16384, gp3 1-65536 with
 * 3000-80000 IOPS, io1 4-16384 with 100-64000, io2 4-65536 with 100-256000, st1 and sc1
 * 125-16384, standard 1-1024; a volume whose type is left to EC2 may be 1-65536 GiB.
 *
 * @param attributes The section's attributes (e.g. `CloudSection.attributes`).
 * @param defaults Values from the driver configuration for keys the section lacks.
 * @param sectionName Name used in messages: `PUBLIC_CLOUD` (default) or `EC2`.
 * @returns The launch request.
 * @throws {InvalidInputError} naming the section and key when a key is unknown, a required key
 * is missing or a value is invalid.
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
 * @example Volumes, an Elastic IP and a Spot request
 * ```ts
 * import assert from "node:assert/strict";
 * import { toLaunchSpec } from "./launch_spec.ts";
 *
 * // PUBLIC_CLOUD = [ TYPE="ec2", AMI="ami-0abcdef1234567890", INSTANCETYPE="m5.large",
 * //   BLOCKDEVICEMAPPING="/dev/sdb=:100:true:gp3 /dev/sdc=ephemeral0 /dev/sdd=none",
 * //   ELASTICIP="eipalloc-0123456789abcdef0", ROOTVOLUMESIZE="50", SPOT="yes",
 * //   SPOTPRICE="0.05" ]
 * const spec = toLaunchSpec({
 *   AMI: "ami-0abcdef1234567890",
 *   INSTANCETYPE: "m5.large",
 *   BLOCKDEVICEMAPPING: "/dev/sdb=:100:true:gp3 /dev/sdc=ephemeral0 /dev/sdd=none",
 *   ELASTICIP: "eipalloc-0123456789abcdef0",
 *   ROOTVOLUMESIZE: "50",
 *   SPOT: "yes",
 *   SPOTPRICE: "0.05",
 * });
 * assert.deepEqual(spec.blockDeviceMappings?.[0], {
 *   kind: "ebs",
 *   deviceName: "/dev/sdb",
 *   sizeGiB: 100,
 *   deleteOnTermination: true,
 *   volumeType: "gp3",
 * });
 * assert.deepEqual(spec.elasticIp, { allocationId: "eipalloc-0123456789abcdef0" });
 * assert.deepEqual(spec.rootVolume, { sizeGiB: 50 });
 * assert.deepEqual(spec.spot, { maxPrice: "0.05", type: "one-time", interruption: "terminate" });
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
      const problem = templateKeyProblem(key, sectionName, !fromDefaults);
      if (problem !== undefined) {
        const origin = fromDefaults ? " (default from the driver configuration)" : "";
        throw new InvalidInputError(`${shortKey(key)}${origin}: ${problem}`);
      }
      const value = String(rawValue).trim();
      present.add(key);
      if (value !== "") values.set(key, { key, value, fromDefaults });
    }
  }
  const check = new Checker(sectionName, values);

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
  if (s) spec.ebsOptimized = check.flag(s);

  s = check.get("USERDATA");
  if (s) spec.userData = userDataOf(check, s);

  s = check.get("TAGS");
  if (s) spec.tags = tagsOf(check, s);

  const mappings = check.get("BLOCKDEVICEMAPPING");
  if (mappings) {
    const list = mappingsOf(check, mappings);
    if (list.length > 0) spec.blockDeviceMappings = list;
  }

  s = check.get("ELASTICIP");
  if (s) spec.elasticIp = elasticIpOf(check, s);

  s = check.get("IAMINSTANCEPROFILE");
  if (s) spec.iamInstanceProfile = instanceProfileOf(check, s);

  const root = rootVolumeOf(check);
  if (root) {
    const device = root.deviceName;
    const mapped = device === undefined
      ? undefined
      : spec.blockDeviceMappings?.find((m) =>
        canonicalDevice(m.deviceName) === canonicalDevice(device)
      );
    if (mapped && mappings) {
      throw check.invalid(
        mappings,
        `device ${
          quote(mapped.deviceName)
        } is the root volume (ROOTVOLUMEDEVICE): set it with the ROOTVOLUME keys or here, not both`,
      );
    }
    spec.rootVolume = root;
  }

  s = check.get("METADATA_HTTP_TOKENS");
  if (s) spec.metadataHttpTokens = check.oneOf(s, ["required", "optional"]);

  s = check.get("METADATA_HOP_LIMIT");
  if (s) spec.metadataHopLimit = check.integer(s, 1, 64, "hops");

  const spot = spotOf(check);
  if (spot) spec.spot = spot;

  s = check.get("CLOUD_INIT");
  if (s) spec.contextFormat = check.flag(s) ? "cloud-config" : "shell";

  return spec;
}
