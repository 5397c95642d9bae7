/**
 * The RunInstances request for a checked launch spec: a pure mapping, so every field the
 * driver sends can be tested without an endpoint. Each key's part of the request is in its row
 * of `TEMPLATE_ROWS` (`template_rows.ts`). Only SDK types are imported; this module never
 * loads the SDK.
 *
 * @module
 */

import type { RunInstancesCommandInput, TagSpecification } from "@aws-sdk/client-ec2";
import type { LaunchSpec } from "./launch_spec.ts";
import { TEMPLATE_ROWS } from "./template_rows.ts";

export { DEFAULT_HTTP_TOKENS, httpTokensOf, SHELL_CONTEXT_HTTP_TOKENS } from "./template_rows.ts";

/**
 * Whether the launch needs the AMI's root device name: the template changes the root volume
 * (`ROOTVOLUMESIZE`, `ROOTVOLUMETYPE`, `ROOTVOLUMEIOPS`) without naming its device
 * (`ROOTVOLUMEDEVICE`). The provider then reads `Images[0].RootDeviceName` from DescribeImages
 * and passes it to {@link runInstancesInput}.
 *
 * @param spec The launch spec.
 * @returns true when {@link runInstancesInput} needs its `rootDeviceName` argument.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toLaunchSpec } from "./launch_spec.ts";
 * import { needsRootDeviceName } from "./run_input.ts";
 *
 * const base = { AMI: "ami-0abcdef1234567890", INSTANCETYPE: "t3.micro" };
 * assert.equal(needsRootDeviceName(toLaunchSpec({ ...base, ROOTVOLUMESIZE: "40" })), true);
 * assert.equal(
 *   needsRootDeviceName(toLaunchSpec({ ...base, ROOTVOLUMESIZE: "40", ROOTVOLUMEDEVICE: "/dev/sda1" })),
 *   false,
 * );
 * assert.equal(needsRootDeviceName(toLaunchSpec(base)), false);
 * ```
 */
export function needsRootDeviceName(spec: LaunchSpec): boolean {
  return spec.rootVolume !== undefined && spec.rootVolume.deviceName === undefined;
}

/**
 * Builds the RunInstances request for one instance.
 *
 * Besides what the spec holds it always sends `MinCount`/`MaxCount` 1, the idempotency token,
 * `MetadataOptions` (`HttpEndpoint` enabled, `HttpTokens` from {@link httpTokensOf}) and the
 * tags for the instance and its volumes (and for the Spot request when there is one). The root
 * volume mapping comes first and leaves `DeleteOnTermination` to the AMI.
 *
 * @param spec The checked launch spec (`toLaunchSpec()`), with `userData` filled from the
 * context when the template had no `USERDATA`.
 * @param token The idempotency token (`ClientToken`).
 * @param tags Tags for the instance, its volumes and its Spot request (`instanceTags()`).
 * @param rootDeviceName The AMI's root device name (`Images[0].RootDeviceName` from
 * DescribeImages); needed only when {@link needsRootDeviceName} says so, and ignored when the
 * template gives `ROOTVOLUMEDEVICE`.
 * @returns The request.
 * @throws {InvalidInputError} when the root volume is changed but its device name is unknown,
 * or when `BLOCKDEVICEMAPPING` also maps the root device.
 * @example From an OpenNebula PUBLIC_CLOUD section
 * ```ts
 * import assert from "node:assert/strict";
 * import { toLaunchSpec } from "./launch_spec.ts";
 * import { runInstancesInput } from "./run_input.ts";
 *
 * // PUBLIC_CLOUD = [ TYPE="ec2", AMI="ami-0abcdef1234567890", INSTANCETYPE="t3.micro",
 * //   IAMINSTANCEPROFILE="web-role", ROOTVOLUMESIZE="30", ROOTVOLUMETYPE="gp3",
 * //   BLOCKDEVICEMAPPING="/dev/sdf=snap-0123456789abcdef0::false" ]
 * const spec = toLaunchSpec({
 *   AMI: "ami-0abcdef1234567890",
 *   INSTANCETYPE: "t3.micro",
 *   IAMINSTANCEPROFILE: "web-role",
 *   ROOTVOLUMESIZE: "30",
 *   ROOTVOLUMETYPE: "gp3",
 *   BLOCKDEVICEMAPPING: "/dev/sdf=snap-0123456789abcdef0::false",
 * });
 * const input = runInstancesInput(spec, "one-42-abc", [{ Key: "Name", Value: "one-42" }], "/dev/xvda");
 * assert.deepEqual(input.BlockDeviceMappings, [
 *   { DeviceName: "/dev/xvda", Ebs: { VolumeSize: 30, VolumeType: "gp3" } },
 *   { DeviceName: "/dev/sdf", Ebs: { SnapshotId: "snap-0123456789abcdef0", DeleteOnTermination: false } },
 * ]);
 * assert.deepEqual(input.IamInstanceProfile, { Name: "web-role" });
 * assert.deepEqual(input.MetadataOptions, { HttpTokens: "required", HttpEndpoint: "enabled" });
 * ```
 */
export function runInstancesInput(
  spec: LaunchSpec,
  token: string,
  tags: readonly { readonly Key: string; readonly Value: string }[],
  rootDeviceName?: string,
): RunInstancesCommandInput {
  const input: RunInstancesCommandInput = {
    MinCount: 1,
    MaxCount: 1,
    ClientToken: token,
    MetadataOptions: { HttpEndpoint: "enabled" },
  };
  for (const row of TEMPLATE_ROWS) {
    if (row.send) merge(input, row.send(spec, rootDeviceName));
  }
  const tagged: TagSpecification[] = [
    { ResourceType: "instance", Tags: [...tags] },
    { ResourceType: "volume", Tags: [...tags] },
  ];
  if (spec.spot) tagged.push({ ResourceType: "spot-instances-request", Tags: [...tags] });
  input.TagSpecifications = tagged;
  return input;
}

/**
 * Copies the values of `part` into `into`, merging objects (the rows of `Placement` or
 * `MetadataOptions` each give one field) and leaving out undefined and empty strings, and
 * objects left with nothing.
 */
function merge(target: object, part: object): void {
  const into = target as Record<string, unknown>;
  for (const [name, value] of Object.entries(part)) {
    if (value === undefined || value === "") continue;
    if (typeof value !== "object" || Array.isArray(value)) {
      into[name] = value;
      continue;
    }
    const inner = { ...(into[name] as Record<string, unknown> | undefined) };
    merge(inner, value);
    if (Object.keys(inner).length > 0) into[name] = inner;
  }
}
