import {
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  RunInstancesCommand,
  type Tag,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import {
  AMAZON_LINUX_AMI,
  ARM64_AMI,
  DEFAULT_FIXTURES,
  DEREGISTERED_AMI,
  PRIVATE_AMI,
  UBUNTU_AMI,
} from "./mod.ts";
import { expectError, withEndpoint } from "./testing.ts";

Deno.test("DescribeImages lists public AMIs and the account's own; Owner=self only its own", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    const all = await ec2.send(new DescribeImagesCommand({}));
    assert.deepEqual(all.Images?.map((i) => i.ImageId), [
      AMAZON_LINUX_AMI,
      UBUNTU_AMI,
      ARM64_AMI,
      PRIVATE_AMI,
    ]);
    const mine = await ec2.send(new DescribeImagesCommand({ Owners: ["self"] }));
    assert.deepEqual(mine.Images?.map((i) => [i.ImageId, i.Public]), [[PRIVATE_AMI, false]]);
    const amazon = await ec2.send(new DescribeImagesCommand({ Owners: ["amazon"] }));
    assert.deepEqual(amazon.Images?.map((i) => i.ImageId), [AMAZON_LINUX_AMI, ARM64_AMI]);
    const image = all.Images?.[0];
    assert.equal(image?.State, "available");
    assert.equal(image?.Architecture, "x86_64");
    assert.equal(image?.RootDeviceName, "/dev/xvda");
    assert.equal(image?.ImageOwnerAlias, "amazon");
  });
});

Deno.test("DescribeImages by id finds known AMIs and rejects missing or malformed ids", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    const out = await ec2.send(new DescribeImagesCommand({ ImageIds: [UBUNTU_AMI] }));
    assert.equal(
      out.Images?.[0]?.Name,
      "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241004",
    );
    const error = await expectError(
      ec2.send(new DescribeImagesCommand({ ImageIds: [DEREGISTERED_AMI] })),
      "InvalidAMIID.NotFound",
      400,
    );
    assert.match(error.message, new RegExp(DEREGISTERED_AMI));
    await expectError(
      ec2.send(new DescribeImagesCommand({ ImageIds: ["ami-bogus"] })),
      "InvalidAMIID.Malformed",
      400,
    );
  });
});

Deno.test("DescribeImages filters by name pattern and architecture", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    const out = await ec2.send(
      new DescribeImagesCommand({
        Filters: [{ Name: "name", Values: ["al2023-ami-*"] }, {
          Name: "architecture",
          Values: ["arm64"],
        }],
      }),
    );
    assert.deepEqual(out.Images?.map((i) => i.ImageId), [ARM64_AMI]);
  });
});

Deno.test("DescribeInstanceTypes reports vCPUs and memory of the types asked for", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    const out = await ec2.send(
      new DescribeInstanceTypesCommand({ InstanceTypes: ["t3.micro", "c5.xlarge"] }),
    );
    assert.deepEqual(
      out.InstanceTypes?.map((
        t,
      ) => [t.InstanceType, t.VCpuInfo?.DefaultVCpus, t.MemoryInfo?.SizeInMiB]),
      [["t3.micro", 2, 1024], ["c5.xlarge", 4, 8192]],
    );
    assert.deepEqual(out.InstanceTypes?.[0]?.ProcessorInfo?.SupportedArchitectures, ["x86_64"]);
    await expectError(
      ec2.send(
        new DescribeInstanceTypesCommand({ InstanceTypes: ["t3.micro", "z9.mega" as never] }),
      ),
      "InvalidInstanceType",
      400,
    );
  });
});

Deno.test("DescribeInstanceTypes pages with MaxResults 5-100 and filters", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    const first = await ec2.send(new DescribeInstanceTypesCommand({ MaxResults: 5 }));
    assert.equal(first.InstanceTypes?.length, 5);
    assert.ok(first.NextToken);
    const rest = await ec2.send(
      new DescribeInstanceTypesCommand({ MaxResults: 5, NextToken: first.NextToken }),
    );
    const names = [...first.InstanceTypes!, ...rest.InstanceTypes!].map((t) => t.InstanceType);
    assert.deepEqual(names, DEFAULT_FIXTURES.instanceTypes.map((t) => t.instanceType));
    assert.equal(rest.NextToken, undefined);
    await expectError(
      ec2.send(new DescribeInstanceTypesCommand({ MaxResults: 101 })),
      "InvalidParameterValue",
      400,
    );
    const arm = await ec2.send(
      new DescribeInstanceTypesCommand({
        Filters: [{ Name: "processor-info.supported-architecture", Values: ["arm64"] }],
      }),
    );
    assert.deepEqual(arm.InstanceTypes?.map((t) => t.InstanceType), ["t4g.micro"]);
    const four = await ec2.send(
      new DescribeInstanceTypesCommand({
        Filters: [{ Name: "vcpu-info.default-vcpus", Values: ["4"] }],
      }),
    );
    assert.deepEqual(four.InstanceTypes?.map((t) => t.InstanceType), ["c5.xlarge"]);
  });
});

Deno.test("CreateTags adds and overwrites instance tags that DescribeInstances then shows", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: AMAZON_LINUX_AMI,
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "old" }] }],
      }),
    );
    const id = run.Instances![0]!.InstanceId!;
    const volume = run.Instances![0]!.BlockDeviceMappings![0]!.Ebs!.VolumeId!;
    await ec2.send(
      new CreateTagsCommand({
        Resources: [id, volume],
        Tags: [{ Key: "Name", Value: "new" }, { Key: "team", Value: "" }],
      }),
    );
    const out = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: "tag:Name", Values: ["new"] }] }),
    );
    assert.deepEqual(out.Reservations?.[0]?.Instances?.[0]?.Tags, [
      { Key: "Name", Value: "new" },
      { Key: "team", Value: "" },
    ]);
    assert.deepEqual(ep.instances()[0]?.volumeTags[volume], { Name: "new", team: "" });
  });
});

Deno.test("CreateTags refuses unknown resources, reserved keys and more than 50 tags", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    const tags: Tag[] = [{ Key: "a", Value: "b" }];
    await expectError(
      ec2.send(new CreateTagsCommand({ Resources: ["i-0000000000000000a"], Tags: tags })),
      "InvalidInstanceID.NotFound",
      400,
    );
    await expectError(
      ec2.send(new CreateTagsCommand({ Resources: ["foo-1"], Tags: tags })),
      "InvalidID",
      400,
    );
    await expectError(
      ec2.send(
        new CreateTagsCommand({
          Resources: [AMAZON_LINUX_AMI],
          Tags: [{ Key: "aws:x", Value: "" }],
        }),
      ),
      "InvalidParameterValue",
      400,
    );
    const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: "v" }));
    await expectError(
      ec2.send(new CreateTagsCommand({ Resources: [AMAZON_LINUX_AMI], Tags: many })),
      "TagLimitExceeded",
      400,
    );
  });
});

Deno.test("CreateTags on an AMI shows in DescribeImages and its tag filters", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    await ec2.send(
      new CreateTagsCommand({ Resources: [UBUNTU_AMI], Tags: [{ Key: "golden", Value: "yes" }] }),
    );
    const out = await ec2.send(
      new DescribeImagesCommand({ Filters: [{ Name: "tag:golden", Values: ["yes"] }] }),
    );
    assert.deepEqual(out.Images?.map((i) => [i.ImageId, i.Tags]), [[UBUNTU_AMI, [{
      Key: "golden",
      Value: "yes",
    }]]]);
  });
});
