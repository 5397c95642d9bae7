/**
 * The keys of an EC2 template section, one row each: what it accepts and what happens when it
 * is absent (docs/vm-template.md's list is printed from these, see `scripts/template_keys_table.ts`),
 * how its value is checked into the launch spec, and which part of the RunInstances request it
 * becomes. `toLaunchSpec()`, `templateKeyProblem()` and `runInstancesInput()` all read this
 * table, in its order. Only SDK types are imported; this module never loads the SDK.
 *
 * @module
 */

import type {
  _InstanceType,
  BlockDeviceMapping as SdkMapping,
  EbsBlockDevice,
  RunInstancesCommandInput,
} from "@aws-sdk/client-ec2";
import { InvalidInputError } from "../../util/errors.ts";
import type { BlockDeviceMapping, LaunchSpec, RootVolume, SpotOptions } from "./launch_spec.ts";
import * as checks from "./template_checks.ts";
import type { Checker, Source } from "./template_checks.ts";

/** A launch spec while the rows fill it in. */
export type Draft = { -readonly [K in keyof LaunchSpec]?: LaunchSpec[K] };

/** One key of a template section. */
export interface TemplateRow {
  /** The key, in upper case. */
  readonly key: string;
  /** For docs/vm-template.md (markdown): the values it accepts, and what happens when it is absent. */
  readonly doc: readonly [values: string, absent: string];
  /** Whether the launch cannot do without it. */
  readonly required?: true;
  /** Checks a non-empty value and returns what it adds to the spec the rows before it made. */
  readonly read: (source: Source, check: Checker, spec: Readonly<Draft>) => Draft;
  /**
   * Its part of the RunInstances request; undefined or empty-string values are left out.
   * Absent for keys the request carries otherwise (`CLIENTTOKEN`, `TAGS`) or not at all.
   */
  readonly send?: (
    spec: LaunchSpec,
    rootDeviceName: string | undefined,
  ) => Partial<RunInstancesCommandInput>;
}

/** The rows by key, in docs/vm-template.md's order; the object's property names are the keys. */
const ROWS = {
  AMI: {
    doc: ["`ami-` id (required)", ""],
    required: true,
    read: (s, c) => ({ imageId: c.match(s, checks.AMI_ID, "an AMI id (ami-xxxxxxxx)") }),
    send: (spec) => ({ ImageId: spec.imageId }),
  },
  INSTANCETYPE: {
    doc: ["e.g. `t3.micro` (required)", ""],
    required: true,
    read: (s, c) => ({
      instanceType: c.match(s, checks.INSTANCE_TYPE, "an EC2 instance type (e.g. t3.micro)"),
    }),
    // Checked against the instance type format; the SDK's list lags behind new types.
    send: (spec) => ({ InstanceType: spec.instanceType as _InstanceType }),
  },
  KEYPAIR: {
    doc: ["key pair name", "none"],
    read: (s, c) => ({ keyName: c.asciiName(s, 255, "a key pair name") }),
    send: (spec) => ({ KeyName: spec.keyName }),
  },
  SECURITYGROUPS: {
    doc: ["comma-separated security group names", "the VPC's default group"],
    read: (s, c) => ({
      securityGroups: c.list(s).map((name) => {
        if (name.startsWith("sg-")) {
          throw c.invalid(
            s,
            `${checks.quote(name)} is a group id: put ids in ${KEY.SECURITYGROUPIDS}`,
          );
        }
        return c.asciiName({ ...s, value: name }, 255, "a security group name");
      }),
    }),
    send: (spec) => ({ SecurityGroups: copy(spec.securityGroups) }),
  },
  SECURITYGROUPIDS: {
    doc: ["comma-separated `sg-` ids", "the VPC's default group"],
    read: (s, c) => ({
      securityGroupIds: c.list(s).map((id) =>
        c.match({ ...s, value: id }, checks.SECURITY_GROUP_ID, "a security group id (sg-xxxxxxxx)")
      ),
    }),
    send: (spec) => ({ SecurityGroupIds: copy(spec.securityGroupIds) }),
  },
  SUBNETID: {
    doc: ["`subnet-` id", "EC2 picks"],
    read: (s, c) => ({ subnetId: c.match(s, checks.SUBNET_ID, "a subnet id (subnet-xxxxxxxx)") }),
    send: (spec) => ({ SubnetId: spec.subnetId }),
  },
  PRIVATEIP: {
    doc: ["IPv4 address in the subnet", "EC2 picks"],
    read: (s, c) => ({ privateIpAddress: checks.ipv4Of(c, s) }),
    send: (spec) => ({ PrivateIpAddress: spec.privateIpAddress }),
  },
  AVAILABILITYZONE: {
    doc: ["zone name (`us-east-1a`), Local Zones included", "EC2 picks"],
    read: (s, c) => ({
      availabilityZone: c.match(s, checks.ZONE, "an availability zone name (e.g. us-east-1a)"),
    }),
    send: (spec) => ({ Placement: { AvailabilityZone: spec.availabilityZone } }),
  },
  PLACEMENTGROUP: {
    doc: ["placement group name", "none"],
    read: (s, c) => ({ placementGroup: c.asciiName(s, 255, "a placement group name") }),
    send: (spec) => ({ Placement: { GroupName: spec.placementGroup } }),
  },
  TENANCY: {
    doc: ["`default`, `dedicated`, `host`", "`default`"],
    read: (s, c) => ({ tenancy: c.oneOf(s, ["default", "dedicated", "host"]) }),
    send: (spec) => ({ Placement: { Tenancy: spec.tenancy } }),
  },
  CLIENTTOKEN: {
    doc: ["your own idempotency token (64 ASCII characters at most)", "derived per deployment"],
    // Sent as the token argument of runInstancesInput(), which the provider derives from it.
    read: (s, c) => ({ clientToken: c.asciiName(s, 64, "a client token") }),
  },
  EBS_OPTIMIZED: {
    doc: ["yes/no", "the type's default"],
    read: (s, c) => ({ ebsOptimized: c.flag(s) }),
    send: (spec) => ({ EbsOptimized: spec.ebsOptimized }),
  },
  USERDATA: {
    doc: ["base64, or plain text that the driver encodes; 16 KB at most", "from `CONTEXT`"],
    read: (s, c) => ({ userData: checks.userDataOf(c, s) }),
    send: (spec) => ({ UserData: spec.userData }),
  },
  TAGS: {
    doc: ["`key=value,...` (the `opennebula:` and `aws:` prefixes are reserved)", "none"],
    // Sent with the driver's own tags, the tags argument of runInstancesInput().
    read: (s, c) => ({ tags: checks.tagsOf(c, s) }),
  },
  BLOCKDEVICEMAPPING: {
    doc: [
      "OpenNebula's format, blank-separated " +
      "`device=snapshot:size:delete-on-termination:type:iops` (parts may be empty), " +
      "`device=none`, `device=ephemeralN`",
      "the AMI's",
    ],
    read: (s, c) => ({ blockDeviceMappings: checks.mappingsOf(c, s) }),
    send: (spec, rootDeviceName) => ({ BlockDeviceMappings: mappingsInput(spec, rootDeviceName) }),
  },
  ELASTICIP: {
    doc: [
      "an Elastic IP address or `eipalloc-` id, associated once the instance runs; " +
      "one held by another instance is never taken " +
      "(the deploy fails and its new instance is terminated)",
      "none",
    ],
    // Not part of the request: the deploy action associates it once the instance runs.
    read: (s, c) => ({ elasticIp: checks.elasticIpOf(c, s) }),
  },
  IAMINSTANCEPROFILE: {
    doc: ["instance profile name or ARN", "none"],
    read: (s, c) => ({ iamInstanceProfile: checks.instanceProfileOf(c, s) }),
    send: ({ iamInstanceProfile: p }) => ({
      IamInstanceProfile: p && ("arn" in p ? { Arn: p.arn } : { Name: p.name }),
    }),
  },
  // The root volume keys become the first block device mapping (see mappingsInput()).
  ROOTVOLUMESIZE: {
    doc: ["GiB, within the type's limits", "the AMI's"],
    read: (s, c, spec) =>
      root(spec, { sizeGiB: checks.volumeSizeOf(s.value, rootVolumeType(c), c.failing(s)) }),
  },
  ROOTVOLUMETYPE: {
    doc: ["`gp3`, `gp2`, `io1`, `io2`, `standard`", "the AMI's"],
    read: (s, c, spec) => {
      const volumeType = rootVolumeType(c)!;
      checks.checkIopsGiven(volumeType, c.get(KEY.ROOTVOLUMEIOPS) !== undefined, c.failing(s));
      return root(spec, { volumeType });
    },
  },
  ROOTVOLUMEIOPS: {
    doc: ["IOPS; required for `io1` and `io2`, allowed for `gp3`", "EC2's default"],
    read: (s, c, spec) =>
      root(spec, { iops: checks.volumeIopsOf(s.value, spec.rootVolume?.volumeType, c.failing(s)) }),
  },
  ROOTVOLUMEDEVICE: {
    doc: [
      "the AMI's root device name (`/dev/xvda`, `/dev/sda1`)",
      "read from the AMI (`DescribeImages`)",
    ],
    read: (s, c, spec) => {
      // A device name alone changes nothing.
      if (!spec.rootVolume) return {};
      const name = c.match(s, checks.DEVICE_NAME, "an EC2 device name (e.g. /dev/xvda, /dev/sda1)");
      const mapped = checks.mappingOfDevice(spec.blockDeviceMappings, name);
      if (mapped) {
        throw c.invalid(
          c.get(KEY.BLOCKDEVICEMAPPING)!,
          `device ${
            checks.quote(mapped.deviceName)
          } is the root volume (${s.key}): set it with the ROOTVOLUME keys or here, not both`,
        );
      }
      return root(spec, { deviceName: name });
    },
  },
  METADATA_HTTP_TOKENS: {
    doc: ["`required` (IMDSv2 only) or `optional`", "`required`; `optional` with `CLOUD_INIT=no`"],
    read: (s, c) => ({ metadataHttpTokens: c.oneOf(s, ["required", "optional"]) }),
    send: (spec) => ({ MetadataOptions: { HttpTokens: httpTokensOf(spec) } }),
  },
  METADATA_HOP_LIMIT: {
    doc: ["1 to 64", "EC2's"],
    read: (s, c) => ({ metadataHopLimit: c.integer(s, 1, 64, "hops") }),
    send: (spec) => ({ MetadataOptions: { HttpPutResponseHopLimit: spec.metadataHopLimit } }),
  },
  SPOT: {
    doc: ["yes/no", "no (on-demand)"],
    read: (s, c) => c.flag(s) ? { spot: { type: "one-time", interruption: "terminate" } } : {},
    send: ({ spot }) => ({ InstanceMarketOptions: { MarketType: spot && "spot" } }),
  },
  SPOTPRICE: {
    doc: ["maximum USD per hour, above 0.001; needs `SPOT=yes`", "the current Spot price"],
    read: spotOption((s, c, spot) => ({ ...spot, maxPrice: checks.priceOf(c, s) })),
    send: ({ spot }) => ({ InstanceMarketOptions: { SpotOptions: { MaxPrice: spot?.maxPrice } } }),
  },
  SPOTTYPE: {
    doc: ["`one-time` or `persistent`; needs `SPOT=yes`", "`one-time`"],
    read: spotOption((s, c, spot) => {
      const type = c.oneOf(s, ["one-time", "persistent"]);
      return { ...spot, type, interruption: type === "persistent" ? "stop" : "terminate" };
    }),
    send: ({ spot }) => ({
      InstanceMarketOptions: { SpotOptions: { SpotInstanceType: spot?.type } },
    }),
  },
  SPOTINTERRUPTION: {
    doc: [
      "`terminate` (one-time only), `stop` or `hibernate` (persistent only)",
      "`terminate`; `stop` when persistent",
    ],
    read: spotOption((s, c, spot) => {
      const interruption = c.oneOf(s, ["terminate", "stop", "hibernate"]);
      // RunInstances takes persistent Spot requests only with stop or hibernate, and stop or
      // hibernate only for persistent requests.
      if (spot.type === "persistent" && interruption === "terminate") {
        throw c.invalid(s, `a persistent Spot request needs ${s.key} stop or hibernate`);
      }
      if (spot.type === "one-time" && interruption !== "terminate") {
        throw c.invalid(
          s,
          `${interruption} needs ${KEY.SPOTTYPE}=persistent (a one-time Spot request can only terminate)`,
        );
      }
      return { ...spot, interruption };
    }),
    send: ({ spot }) => ({
      InstanceMarketOptions: { SpotOptions: { InstanceInterruptionBehavior: spot?.interruption } },
    }),
  },
  CLOUD_INIT: {
    doc: [
      "yes: `CONTEXT` becomes `#cloud-config`; no: shell `KEY='value'` lines for one-context",
      "yes",
    ],
    // Used for the user data made from CONTEXT, and by httpTokensOf().
    read: (s, c) => ({ contextFormat: c.flag(s) ? "cloud-config" : "shell" }),
  },
} satisfies Record<string, Omit<TemplateRow, "key">>;

/** Each key's name for messages: `KEY.SPOT` is `"SPOT"`. */
export const KEY = Object.fromEntries(Object.keys(ROWS).map((k) => [k, k])) as {
  readonly [K in keyof typeof ROWS]: K;
};

/** Every key of an EC2 template section, in docs/vm-template.md's order. */
export const TEMPLATE_ROWS: readonly TemplateRow[] = Object.entries(ROWS).map((
  [key, row],
) => ({ key, ...row }));

/** A copy of a non-empty list. */
function copy(list: readonly string[] | undefined): string[] | undefined {
  return list?.length ? [...list] : undefined;
}

/** The spec's root volume with `change`. */
function root(spec: Readonly<Draft>, change: RootVolume): Draft {
  return { rootVolume: { ...spec.rootVolume, ...change } };
}

/** Reads the root volume's type (never HDD: it cannot boot); undefined when not given. */
function rootVolumeType(check: Checker): RootVolume["volumeType"] {
  const source = check.get(KEY.ROOTVOLUMETYPE);
  if (!source) return undefined;
  const type = checks.volumeTypeOf(source.value, check.failing(source));
  if (type === "st1" || type === "sc1") {
    throw check.invalid(
      source,
      `${checks.quote(source.value)}: HDD volumes cannot be root volumes`,
    );
  }
  return type;
}

/** A reader of a Spot key: it needs `SPOT=yes`, unless it is a driver default (then unused). */
function spotOption(
  read: (source: Source, check: Checker, spot: SpotOptions) => SpotOptions,
): TemplateRow["read"] {
  return (s, c, spec) => {
    if (spec.spot) return { spot: read(s, c, spec.spot) };
    if (!s.fromDefaults) throw c.invalid(s, `needs ${KEY.SPOT}=yes`);
    return {};
  };
}

/**
 * IMDS token setting when the template has no `METADATA_HTTP_TOKENS`: `required` (IMDSv2
 * only). It keeps the instance's role credentials out of reach of the request-forgery attacks
 * IMDSv1 allows, and it is what AWS recommends and what current AMIs (cloud-init, the SSM
 * agent, the AWS CLI and SDKs) support. Old AMIs whose tools speak only IMDSv1 need
 * `METADATA_HTTP_TOKENS=optional`, in the template or as a driver default.
 */
export const DEFAULT_HTTP_TOKENS = "required";

/**
 * IMDS token setting when the template has `CLOUD_INIT=no` and no `METADATA_HTTP_TOKENS`:
 * `optional`, because OpenNebula's one-context fetches the user data with a plain IMDSv1
 * request (`curl http://169.254.169.254/latest/user-data`), which `required` would refuse.
 */
export const SHELL_CONTEXT_HTTP_TOKENS = "optional";

/**
 * The IMDS token setting a launch uses: the template's, else {@link DEFAULT_HTTP_TOKENS}, or
 * {@link SHELL_CONTEXT_HTTP_TOKENS} when `CLOUD_INIT=no`.
 *
 * @param spec The launch spec.
 * @returns `required` or `optional`.
 */
export function httpTokensOf(spec: LaunchSpec): "required" | "optional" {
  return spec.metadataHttpTokens ??
    (spec.contextFormat === "shell" ? SHELL_CONTEXT_HTTP_TOKENS : DEFAULT_HTTP_TOKENS);
}

/** The EBS part of a mapping or of the root volume. */
function ebsInput(volume: Omit<Extract<BlockDeviceMapping, { kind: "ebs" }>, "kind">) {
  const ebs: EbsBlockDevice = {};
  if (volume.snapshotId !== undefined) ebs.SnapshotId = volume.snapshotId;
  if (volume.sizeGiB !== undefined) ebs.VolumeSize = volume.sizeGiB;
  if (volume.deleteOnTermination !== undefined) {
    ebs.DeleteOnTermination = volume.deleteOnTermination;
  }
  if (volume.volumeType !== undefined) ebs.VolumeType = volume.volumeType;
  if (volume.iops !== undefined) ebs.Iops = volume.iops;
  return { DeviceName: volume.deviceName, Ebs: ebs };
}

function mappingInput(mapping: BlockDeviceMapping): SdkMapping {
  switch (mapping.kind) {
    case "none":
      // The SDK's way of saying "no device": an empty string.
      return { DeviceName: mapping.deviceName, NoDevice: "" };
    case "ephemeral":
      return { DeviceName: mapping.deviceName, VirtualName: mapping.virtualName };
    case "ebs":
      return ebsInput(mapping);
  }
}

/** The block device mappings: the root volume's first, then `BLOCKDEVICEMAPPING`'s. */
function mappingsInput(spec: LaunchSpec, rootDeviceName: string | undefined) {
  const mappings = (spec.blockDeviceMappings ?? []).map(mappingInput);
  const root = spec.rootVolume;
  if (!root) return mappings.length > 0 ? mappings : undefined;
  const device = root.deviceName ?? rootDeviceName;
  if (device === undefined) {
    throw new InvalidInputError(
      `Cannot change the root volume: the AMI's root device name is unknown; set ${KEY.ROOTVOLUMEDEVICE} (e.g. /dev/xvda or /dev/sda1)`,
    );
  }
  const clash = checks.mappingOfDevice(spec.blockDeviceMappings, device);
  if (clash) {
    throw new InvalidInputError(
      `Invalid ${KEY.BLOCKDEVICEMAPPING}: ${clash.deviceName} is the AMI's root device, which the ROOTVOLUME keys also set; use one or the other`,
    );
  }
  return [ebsInput({ ...root, deviceName: device }), ...mappings];
}
