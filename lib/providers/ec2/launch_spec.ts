/**
 * Turns the attributes of a deployment file's EC2 section (`PUBLIC_CLOUD=[ TYPE="ec2", ... ]`
 * or the legacy `EC2=[...]`) into a checked launch request, before any API call. Every value
 * is checked against the formats and limits EC2 documents for RunInstances, so a typo fails
 * the deploy with a message naming the attribute instead of a cloud error later.
 *
 * @module
 */

import { InvalidInputError } from "../../util/errors.ts";
import { Checker, type Source } from "./template_checks.ts";
import { templateKeyProblem } from "./template_keys.ts";
import { type Draft, TEMPLATE_ROWS } from "./template_rows.ts";

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
  /** Elastic IP (`ELASTICIP`) the deploy action associates once the instance runs. */
  readonly elasticIp?: ElasticIp;
  /** IAM instance profile (`IAMINSTANCEPROFILE`): a name, or an instance-profile ARN. */
  readonly iamInstanceProfile?: IamInstanceProfile;
  /** Changes to the AMI's root volume; absent when neither size, type nor IOPS is given. */
  readonly rootVolume?: RootVolume;
  /** `METADATA_HTTP_TOKENS`; when absent, see `httpTokensOf()`. */
  readonly metadataHttpTokens?: "required" | "optional";
  /** `METADATA_HOP_LIMIT`: hops an IMDSv2 token may travel. */
  readonly metadataHopLimit?: number;
  /** Spot request (`SPOT=yes`); on-demand when absent. */
  readonly spot?: SpotOptions;
  /** How `CONTEXT` becomes user data without `USERDATA` (`CLOUD_INIT`). */
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
  /** `SPOTPRICE`: the highest hourly price in USD, as written. */
  readonly maxPrice?: string;
  /** `SPOTTYPE`. */
  readonly type: "one-time" | "persistent";
  /** `SPOTINTERRUPTION`. */
  readonly interruption: "terminate" | "stop" | "hibernate";
}

/** Raw user data EC2 accepts, in bytes (16 KB before base64 encoding). */
export { MAX_USER_DATA_BYTES } from "./user_data.ts";
/** A device name without its optional `/dev/` prefix, for comparing names. */
export { canonicalDevice, MAX_TAGS_PER_INSTANCE } from "./template_checks.ts";

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
 * Each key's check is in its row of `TEMPLATE_ROWS` (`template_rows.ts`), run in the rows'
 * order, so that of two bad values the earlier key's is reported; the list of keys in
 * docs/vm-template.md is printed from the same rows. Volume sizes (GiB) and IOPS follow the EC2 API reference.
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
        const shortKey = key.length > 64 ? `${key.slice(0, 61)}...` : key;
        throw new InvalidInputError(`${shortKey}${origin}: ${problem}`);
      }
      const value = String(rawValue).trim();
      present.add(key);
      if (value !== "") values.set(key, { key, value, fromDefaults });
    }
  }
  const check = new Checker(sectionName, values);
  const spec: Draft = { tags: {} };
  for (const row of TEMPLATE_ROWS) {
    const source = row.required ? check.required(row.key, present) : check.get(row.key);
    if (source) Object.assign(spec, row.read(source, check, spec));
  }
  // The required rows filled imageId and instanceType.
  return spec as LaunchSpec;
}
