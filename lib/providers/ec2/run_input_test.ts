import assert from "node:assert/strict";
import { InvalidInputError } from "../../util/errors.ts";
import { parseDeployment, selectSection } from "../../opennebula/template.ts";
import { toLaunchSpec } from "./launch_spec.ts";
import {
  DEFAULT_HTTP_TOKENS,
  httpTokensOf,
  needsRootDeviceName,
  runInstancesInput,
  SHELL_CONTEXT_HTTP_TOKENS,
} from "./run_input.ts";
import { instanceTags } from "./tags.ts";
import v5 from "../../../tests/testdata/deployment_5.x_public_cloud.xml" with { type: "text" };

const BASE = { AMI: "ami-0abcdef1234567890", INSTANCETYPE: "t3.micro" } as const;
const TAGS = [{ Key: "opennebula:vm-id", Value: "42" }, { Key: "Name", Value: "one-42" }];
const TOKEN = "one-42-0123456789abcdef0123456789abcdef01234567";

/** The RunInstances input for BASE plus some attributes. */
function inputWith(attributes: Record<string, string>, rootDeviceName?: string) {
  return runInstancesInput(toLaunchSpec({ ...BASE, ...attributes }), TOKEN, TAGS, rootDeviceName);
}

function assertInvalid(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${err}`);
    assert.equal(err.message, message);
    return true;
  });
}

Deno.test("runInstancesInput() sends one instance with the token, IMDSv2 and tags", () => {
  assert.deepEqual(runInstancesInput(toLaunchSpec(BASE), TOKEN, TAGS), {
    ImageId: "ami-0abcdef1234567890",
    InstanceType: "t3.micro",
    MinCount: 1,
    MaxCount: 1,
    ClientToken: TOKEN,
    MetadataOptions: { HttpTokens: "required", HttpEndpoint: "enabled" },
    TagSpecifications: [
      { ResourceType: "instance", Tags: TAGS },
      { ResourceType: "volume", Tags: TAGS },
    ],
  });
});

Deno.test("runInstancesInput() maps the 5.x fixture's section as the provider did", () => {
  const deployment = parseDeployment(v5);
  const section = selectSection(deployment, "ec2", "ec2-eu-west-1");
  const spec = toLaunchSpec(section.attributes);
  const tags = instanceTags(42, "ec2-eu-west-1", deployment.name, spec.tags, "one-42-token");
  assert.deepEqual(runInstancesInput(spec, TOKEN, tags), {
    ImageId: "ami-0abcdef1234567890",
    InstanceType: "t3.micro",
    MinCount: 1,
    MaxCount: 1,
    ClientToken: TOKEN,
    KeyName: "oneadmin-eu",
    SecurityGroupIds: ["sg-0a1b2c3d4e5f60718", "sg-1234abcd"],
    SubnetId: "subnet-0f1e2d3c4b5a69788",
    Placement: { AvailabilityZone: "eu-west-1b", Tenancy: "default" },
    EbsOptimized: true,
    UserData: "IyEvYmluL3NoCmVjaG8gImhlbGxvIGZyb20gT3Blbk5lYnVsYSIgPiAvZXRjL21vdGQK",
    MetadataOptions: { HttpTokens: "required", HttpEndpoint: "enabled" },
    TagSpecifications: [
      { ResourceType: "instance", Tags: tags },
      { ResourceType: "volume", Tags: tags },
    ],
  });
});

Deno.test("runInstancesInput() maps names, private address, placement group and EBS_OPTIMIZED=no", () => {
  const input = inputWith({
    SECURITYGROUPS: "default,web",
    PRIVATEIP: "10.0.1.25",
    PLACEMENTGROUP: "hpc",
    EBS_OPTIMIZED: "no",
  });
  assert.deepEqual(input.SecurityGroups, ["default", "web"]);
  assert.equal(input.SecurityGroupIds, undefined);
  assert.equal(input.PrivateIpAddress, "10.0.1.25");
  assert.deepEqual(input.Placement, { GroupName: "hpc" });
  assert.equal(input.EbsOptimized, false, "an explicit no is sent, not dropped");
});

Deno.test("runInstancesInput() maps BLOCKDEVICEMAPPING entries to EBS, NoDevice and VirtualName", () => {
  const input = inputWith({
    BLOCKDEVICEMAPPING:
      "/dev/sdb=:100:true:gp3:4000 /dev/sdc=snap-0123456789abcdef0::false /dev/sdd=none /dev/sde=ephemeral1",
  });
  assert.deepEqual(input.BlockDeviceMappings, [
    {
      DeviceName: "/dev/sdb",
      Ebs: { VolumeSize: 100, DeleteOnTermination: true, VolumeType: "gp3", Iops: 4000 },
    },
    {
      DeviceName: "/dev/sdc",
      Ebs: { SnapshotId: "snap-0123456789abcdef0", DeleteOnTermination: false },
    },
    { DeviceName: "/dev/sdd", NoDevice: "" },
    { DeviceName: "/dev/sde", VirtualName: "ephemeral1" },
  ]);
  assert.equal(inputWith({}).BlockDeviceMappings, undefined);
});

Deno.test("runInstancesInput() puts the root volume first, on the AMI's root device", () => {
  const attributes = {
    ROOTVOLUMESIZE: "50",
    ROOTVOLUMETYPE: "gp3",
    BLOCKDEVICEMAPPING: "/dev/sdf=:10",
  };
  assert.deepEqual(inputWith(attributes, "/dev/sda1").BlockDeviceMappings, [
    { DeviceName: "/dev/sda1", Ebs: { VolumeSize: 50, VolumeType: "gp3" } },
    { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 10 } },
  ]);
  assert.deepEqual(
    inputWith({ ROOTVOLUMETYPE: "io1", ROOTVOLUMEIOPS: "400", ROOTVOLUMEDEVICE: "/dev/xvda" })
      .BlockDeviceMappings,
    [{ DeviceName: "/dev/xvda", Ebs: { VolumeType: "io1", Iops: 400 } }],
  );
});

Deno.test("runInstancesInput() prefers ROOTVOLUMEDEVICE to the looked-up root device", () => {
  const input = inputWith({ ROOTVOLUMESIZE: "20", ROOTVOLUMEDEVICE: "/dev/xvda" }, "/dev/sda1");
  assert.equal(input.BlockDeviceMappings?.[0]?.DeviceName, "/dev/xvda");
});

Deno.test("runInstancesInput() refuses a root volume change whose device is unknown", () => {
  assertInvalid(
    () => inputWith({ ROOTVOLUMESIZE: "20" }),
    "Cannot change the root volume: the AMI's root device name is unknown; set ROOTVOLUMEDEVICE (e.g. /dev/xvda or /dev/sda1)",
  );
});

Deno.test("runInstancesInput() refuses BLOCKDEVICEMAPPING on the looked-up root device", () => {
  assertInvalid(
    () => inputWith({ ROOTVOLUMESIZE: "20", BLOCKDEVICEMAPPING: "sda1=:30" }, "/dev/sda1"),
    "Invalid BLOCKDEVICEMAPPING: sda1 is the AMI's root device, which the ROOTVOLUME keys also set; use one or the other",
  );
  // Without ROOTVOLUME keys the mapping alone may change the root volume.
  assert.deepEqual(
    inputWith({ BLOCKDEVICEMAPPING: "/dev/sda1=:30" }, "/dev/sda1").BlockDeviceMappings,
    [
      { DeviceName: "/dev/sda1", Ebs: { VolumeSize: 30 } },
    ],
  );
});

Deno.test("needsRootDeviceName() is true only for root changes without ROOTVOLUMEDEVICE", () => {
  assert.equal(needsRootDeviceName(toLaunchSpec(BASE)), false);
  assert.equal(needsRootDeviceName(toLaunchSpec({ ...BASE, ROOTVOLUMETYPE: "gp3" })), true);
  assert.equal(
    needsRootDeviceName(toLaunchSpec({ ...BASE, ROOTVOLUMETYPE: "gp3", ROOTVOLUMEDEVICE: "xvda" })),
    false,
  );
  assert.equal(needsRootDeviceName(toLaunchSpec({ ...BASE, ROOTVOLUMEDEVICE: "xvda" })), false);
});

Deno.test("runInstancesInput() sends the instance profile by name or by ARN", () => {
  assert.deepEqual(inputWith({ IAMINSTANCEPROFILE: "web" }).IamInstanceProfile, { Name: "web" });
  const arn = "arn:aws:iam::123456789012:instance-profile/app/web";
  assert.deepEqual(inputWith({ IAMINSTANCEPROFILE: arn }).IamInstanceProfile, { Arn: arn });
  assert.equal(inputWith({}).IamInstanceProfile, undefined);
});

Deno.test("runInstancesInput() requires IMDSv2 unless the template or CLOUD_INIT=no says otherwise", () => {
  assert.equal(DEFAULT_HTTP_TOKENS, "required");
  assert.equal(SHELL_CONTEXT_HTTP_TOKENS, "optional");
  assert.deepEqual(inputWith({ METADATA_HTTP_TOKENS: "optional" }).MetadataOptions, {
    HttpTokens: "optional",
    HttpEndpoint: "enabled",
  });
  assert.equal(inputWith({ CLOUD_INIT: "no" }).MetadataOptions?.HttpTokens, "optional");
  assert.equal(inputWith({ CLOUD_INIT: "yes" }).MetadataOptions?.HttpTokens, "required");
  assert.equal(
    inputWith({ CLOUD_INIT: "no", METADATA_HTTP_TOKENS: "required" }).MetadataOptions?.HttpTokens,
    "required",
  );
  assert.equal(httpTokensOf(toLaunchSpec(BASE, { METADATA_HTTP_TOKENS: "optional" })), "optional");
  assert.deepEqual(inputWith({ METADATA_HOP_LIMIT: "2" }).MetadataOptions, {
    HttpTokens: "required",
    HttpEndpoint: "enabled",
    HttpPutResponseHopLimit: 2,
  });
});

Deno.test("runInstancesInput() asks for Spot capacity and tags the Spot request", () => {
  const input = inputWith({ SPOT: "yes", SPOTPRICE: "0.05", SPOTTYPE: "persistent" });
  assert.deepEqual(input.InstanceMarketOptions, {
    MarketType: "spot",
    SpotOptions: {
      MaxPrice: "0.05",
      SpotInstanceType: "persistent",
      InstanceInterruptionBehavior: "stop",
    },
  });
  assert.deepEqual(input.TagSpecifications?.map((t) => t.ResourceType), [
    "instance",
    "volume",
    "spot-instances-request",
  ]);
  assert.deepEqual(inputWith({ SPOT: "yes" }).InstanceMarketOptions?.SpotOptions, {
    SpotInstanceType: "one-time",
    InstanceInterruptionBehavior: "terminate",
  });
  const onDemand = inputWith({});
  assert.equal(onDemand.InstanceMarketOptions, undefined);
  assert.equal(onDemand.TagSpecifications?.length, 2);
});

Deno.test("runInstancesInput() leaves the Elastic IP to the association after launch", () => {
  const input = inputWith({ ELASTICIP: "203.0.113.10" });
  assert.ok(!JSON.stringify(input).includes("203.0.113.10"));
});

Deno.test("runInstancesInput() does not share the caller's tag array", () => {
  const tags = [{ Key: "Name", Value: "a" }];
  const input = runInstancesInput(toLaunchSpec(BASE), TOKEN, tags);
  tags.push({ Key: "late", Value: "b" });
  assert.deepEqual(input.TagSpecifications?.[0]?.Tags, [{ Key: "Name", Value: "a" }]);
});

Deno.test("run_input.ts imports only types from the SDK", async () => {
  const source = await Deno.readTextFile(new URL("./run_input.ts", import.meta.url));
  const imports = [...source.matchAll(/^import\s+(type\s+)?[^;]*?from\s+"([^"]+)";/gms)];
  const sdk = imports.filter((m) => m[2]?.startsWith("@aws-sdk/"));
  assert.ok(sdk.length > 0, "the SDK types are imported");
  for (const m of sdk) assert.ok(m[1], `value import from ${m[2]}`);
});
