import {
  DescribeInstancesCommand,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import {
  AMAZON_LINUX_AMI,
  ARM64_AMI,
  DEFAULT_SECURITY_GROUP,
  DEREGISTERED_AMI,
  INSTANCE_PROFILE,
  PRIVATE_SUBNET,
  SUBNET_A,
  SUBNET_B,
  WEB_SECURITY_GROUP,
} from "./mod.ts";
import { clientFor, expectError, LAUNCH, ManualClock, withEndpoint } from "./testing.ts";

function base64(bytes: number): string {
  return btoa("x".repeat(bytes));
}

Deno.test("RunInstances launches a pending instance that DescribeInstances returns with its tags", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    const out = await ec2.send(
      new RunInstancesCommand({
        ...LAUNCH,
        KeyName: "one-key",
        SecurityGroupIds: [WEB_SECURITY_GROUP],
        SubnetId: SUBNET_B,
        TagSpecifications: [
          { ResourceType: "instance", Tags: [{ Key: "Name", Value: "one-42 <web>" }] },
          { ResourceType: "volume", Tags: [{ Key: "opennebula:vm-id", Value: "42" }] },
        ],
      }),
    );
    const launched = out.Instances?.[0];
    assert.ok(launched?.InstanceId);
    assert.match(launched.InstanceId, /^i-[0-9a-f]{17}$/);
    assert.match(out.ReservationId ?? "", /^r-[0-9a-f]{17}$/);
    assert.equal(out.OwnerId, ep.accountId);
    assert.deepEqual(launched.State, { Code: 0, Name: "pending" });
    assert.equal(launched.Placement?.AvailabilityZone, "us-east-1b");
    assert.equal(launched.SubnetId, SUBNET_B);
    assert.match(launched.PrivateIpAddress ?? "", /^172\.31\.(1[6-9]|2\d|3[01])\.\d+$/);
    assert.equal(
      launched.PrivateDnsName,
      `ip-${launched.PrivateIpAddress!.replaceAll(".", "-")}.ec2.internal`,
    );
    assert.equal(launched.KeyName, "one-key");
    assert.deepEqual(launched.SecurityGroups, [{ GroupId: WEB_SECURITY_GROUP, GroupName: "web" }]);

    const described = await ec2.send(
      new DescribeInstancesCommand({ InstanceIds: [launched.InstanceId] }),
    );
    assert.equal(described.Reservations?.length, 1);
    assert.equal(described.Reservations[0]?.ReservationId, out.ReservationId);
    const instance = described.Reservations[0]?.Instances?.[0];
    assert.deepEqual(instance?.Tags, [{ Key: "Name", Value: "one-42 <web>" }]);
    assert.equal(instance?.ImageId, AMAZON_LINUX_AMI);
    const [snapshot] = ep.instances();
    assert.deepEqual(Object.values(snapshot!.volumeTags), [{ "opennebula:vm-id": "42" }]);
  });
});

Deno.test("RunInstances with the same ClientToken returns the same instance", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    const input = { ...LAUNCH, ClientToken: "one-42-deploy-0" };
    const first = await ec2.send(new RunInstancesCommand(input));
    const second = await ec2.send(new RunInstancesCommand(input));
    assert.equal(second.ReservationId, first.ReservationId);
    assert.equal(second.Instances?.[0]?.InstanceId, first.Instances?.[0]?.InstanceId);
    assert.equal(ep.instances().length, 1);
    assert.equal(ep.countCalls("RunInstances"), 2);
  });
});

Deno.test("RunInstances with the ClientToken of terminated instances fails with IdempotentInstanceTerminated and launches nothing", async () => {
  await withEndpoint({ timing: { shuttingDownMs: 0 } }, async (ep, ec2) => {
    const input = { ...LAUNCH, ClientToken: "one-43-deploy-0" };
    const first = await ec2.send(new RunInstancesCommand(input));
    const id = first.Instances![0]!.InstanceId!;
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await expectError(
      ec2.send(new RunInstancesCommand(input)),
      "IdempotentInstanceTerminated",
    );
    assert.equal(ep.instances().length, 1);
  });
});

Deno.test("RunInstances with a used ClientToken and other parameters fails with IdempotentParameterMismatch", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    await ec2.send(new RunInstancesCommand({ ...LAUNCH, ClientToken: "tok-1" }));
    await expectError(
      ec2.send(
        new RunInstancesCommand({ ...LAUNCH, InstanceType: "t3.small", ClientToken: "tok-1" }),
      ),
      "IdempotentParameterMismatch",
      400,
    );
    assert.equal(ep.instances().length, 1);
  });
});

Deno.test("ClientTokens are per region: the same token launches again in another region", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    const input = { ...LAUNCH, ClientToken: "same-everywhere" };
    const east = await ec2.send(new RunInstancesCommand(input));
    const westClient = clientFor(ep, { region: "eu-west-1" });
    try {
      const west = await westClient.send(new RunInstancesCommand(input));
      assert.notEqual(west.Instances?.[0]?.InstanceId, east.Instances?.[0]?.InstanceId);
      assert.equal(west.Instances?.[0]?.Placement?.AvailabilityZone, "eu-west-1a");
      assert.match(west.Instances?.[0]?.PrivateDnsName ?? "", /\.eu-west-1\.compute\.internal$/);
    } finally {
      westClient.destroy();
    }
    assert.equal(ep.instances("us-east-1").length, 1);
    assert.equal(ep.instances("eu-west-1").length, 1);
  });
});

Deno.test("DescribeInstances shows the ClientToken and filters by client-token", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    const mine = await ec2.send(new RunInstancesCommand({ ...LAUNCH, ClientToken: "find-me" }));
    await ec2.send(new RunInstancesCommand({ ...LAUNCH, ClientToken: "not-me" }));
    const out = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: "client-token", Values: ["find-me"] }] }),
    );
    const found = out.Reservations?.flatMap((r) => r.Instances ?? []) ?? [];
    assert.deepEqual(found.map((i) => i.InstanceId), [mine.Instances?.[0]?.InstanceId]);
    assert.equal(found[0]?.ClientToken, "find-me");
  });
});

Deno.test("RunInstances refuses invalid requests with EC2's error codes and launches nothing", async (t) => {
  await withEndpoint({}, async (ep, ec2) => {
    const cases: [string, Partial<RunInstancesCommandInput>, string][] = [
      ["a malformed AMI id", { ImageId: "ami-xyz" }, "InvalidAMIID.Malformed"],
      ["an AMI that does not exist", { ImageId: DEREGISTERED_AMI }, "InvalidAMIID.NotFound"],
      ["an unknown instance type", { InstanceType: "t9.huge" as never }, "InvalidParameterValue"],
      ["an arm64 AMI on an x86_64 type", { ImageId: ARM64_AMI }, "InvalidParameterValue"],
      ["an unknown key pair", { KeyName: "nope" }, "InvalidKeyPair.NotFound"],
      [
        "an unknown security group id",
        { SecurityGroupIds: ["sg-0000000000000000f"] },
        "InvalidGroup.NotFound",
      ],
      ["an unknown security group name", { SecurityGroups: ["db"] }, "InvalidGroup.NotFound"],
      ["an unknown subnet", { SubnetId: "subnet-0000000000000000f" }, "InvalidSubnetID.NotFound"],
      ["a group of another VPC", {
        SubnetId: PRIVATE_SUBNET,
        SecurityGroupIds: [DEFAULT_SECURITY_GROUP],
      }, "InvalidParameter"],
      [
        "an unknown Availability Zone",
        { Placement: { AvailabilityZone: "us-east-1z" } },
        "InvalidParameterValue",
      ],
      ["user data that is not base64", { UserData: "not base64!" }, "InvalidParameterValue"],
      [
        "user data over 16 KB decoded",
        { UserData: base64(16 * 1024 + 1) },
        "InvalidParameterValue",
      ],
      [
        "a ClientToken over 64 characters",
        { ClientToken: "x".repeat(65) },
        "InvalidParameterValue",
      ],
      ["MinCount above MaxCount", { MinCount: 3, MaxCount: 2 }, "InvalidParameterValue"],
      [
        "a private IP outside the subnet",
        { SubnetId: SUBNET_A, PrivateIpAddress: "10.9.9.9" },
        "InvalidParameterValue",
      ],
      [
        "a private IP with MaxCount 2",
        { PrivateIpAddress: "172.31.0.50", MaxCount: 2 },
        "InvalidParameterCombination",
      ],
      ["an untaggable resource type", {
        TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "a", Value: "b" }] }],
      }, "InvalidParameterValue"],
      ["a reserved aws: tag key", {
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "aws:x", Value: "b" }] }],
      }, "InvalidParameterValue"],
    ];
    for (const [what, change, code] of cases) {
      await t.step(`${what} → ${code}`, async () => {
        await expectError(ec2.send(new RunInstancesCommand({ ...LAUNCH, ...change })), code, 400);
      });
    }
    await t.step("without ImageId → MissingParameter", async () => {
      await expectError(
        ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1 })),
        "MissingParameter",
        400,
      );
    });
    assert.equal(ep.instances().length, 0);
  });
});

Deno.test("RunInstances accepts user data of exactly 16 KB", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    await ec2.send(new RunInstancesCommand({ ...LAUNCH, UserData: base64(16 * 1024) }));
    assert.equal(ep.instances()[0]?.userData, base64(16 * 1024));
  });
});

Deno.test("RunInstances launches up to MaxCount within capacity and answers InsufficientInstanceCapacity below MinCount", async () => {
  await withEndpoint({ capacity: { "t3.micro": 3 } }, async (ep, ec2) => {
    const out = await ec2.send(new RunInstancesCommand({ ...LAUNCH, MinCount: 1, MaxCount: 5 }));
    assert.equal(out.Instances?.length, 3);
    assert.deepEqual(out.Instances?.map((i) => i.AmiLaunchIndex), [0, 1, 2]);
    const error = await expectError(
      ec2.send(new RunInstancesCommand(LAUNCH)),
      "InsufficientInstanceCapacity",
      500,
    );
    assert.match(error.message, /sufficient t3\.micro capacity/);
    await ec2.send(new RunInstancesCommand({ ...LAUNCH, InstanceType: "t3.small" }));
    assert.equal(ep.instances().length, 4);
  });
});

Deno.test("RunInstances beyond the instance limit fails with InstanceLimitExceeded", async () => {
  await withEndpoint({ instanceLimit: 2 }, async (_ep, ec2) => {
    await ec2.send(new RunInstancesCommand({ ...LAUNCH, MaxCount: 2 }));
    await expectError(ec2.send(new RunInstancesCommand(LAUNCH)), "InstanceLimitExceeded", 400);
  });
});

Deno.test("a private IP address already in use is refused with InvalidIPAddress.InUse", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    const input = { ...LAUNCH, SubnetId: SUBNET_A, PrivateIpAddress: "172.31.0.50" };
    const out = await ec2.send(new RunInstancesCommand(input));
    assert.equal(out.Instances?.[0]?.PrivateIpAddress, "172.31.0.50");
    await expectError(ec2.send(new RunInstancesCommand(input)), "InvalidIPAddress.InUse", 400);
  });
});

Deno.test("RunInstances echoes placement, IAM profile, IMDS, volumes, EBS optimisation and Spot options", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    const out = await ec2.send(
      new RunInstancesCommand({
        ...LAUNCH,
        Placement: { AvailabilityZone: "us-east-1b", GroupName: "burst", Tenancy: "default" },
        IamInstanceProfile: { Name: INSTANCE_PROFILE },
        MetadataOptions: { HttpTokens: "optional", HttpPutResponseHopLimit: 3 },
        BlockDeviceMappings: [
          { DeviceName: "/dev/xvda", Ebs: { VolumeSize: 20, DeleteOnTermination: true } },
          { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 100, DeleteOnTermination: false } },
          { DeviceName: "/dev/sdg", NoDevice: "" },
        ],
        EbsOptimized: true,
        InstanceMarketOptions: {
          MarketType: "spot",
          SpotOptions: { SpotInstanceType: "one-time" },
        },
      }),
    );
    const i = out.Instances![0]!;
    assert.deepEqual(i.Placement, {
      AvailabilityZone: "us-east-1b",
      GroupName: "burst",
      Tenancy: "default",
    });
    assert.equal(i.SubnetId, SUBNET_B);
    assert.equal(
      i.IamInstanceProfile?.Arn,
      `arn:aws:iam::${ep.accountId}:instance-profile/${INSTANCE_PROFILE}`,
    );
    assert.match(i.IamInstanceProfile?.Id ?? "", /^AIPA[A-Z2-7]{17}$/);
    assert.equal(i.MetadataOptions?.HttpTokens, "optional");
    assert.equal(i.MetadataOptions?.HttpPutResponseHopLimit, 3);
    assert.deepEqual(
      i.BlockDeviceMappings?.map((b) => [b.DeviceName, b.Ebs?.DeleteOnTermination]),
      [
        ["/dev/xvda", true],
        ["/dev/sdf", false],
      ],
    );
    assert.equal(i.EbsOptimized, true);
    assert.equal(i.InstanceLifecycle, "spot");
    assert.match(i.SpotInstanceRequestId ?? "", /^sir-/);
  });
});

Deno.test("an instance gets a public address when running, and none in a subnet without them", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now }, async (_ep, ec2) => {
    const pub = await ec2.send(new RunInstancesCommand({ ...LAUNCH, SubnetId: SUBNET_A }));
    const priv = await ec2.send(new RunInstancesCommand({ ...LAUNCH, SubnetId: PRIVATE_SUBNET }));
    assert.equal(pub.Instances?.[0]?.PublicIpAddress, undefined);
    clock.advance(1_000);
    const out = await ec2.send(
      new DescribeInstancesCommand({
        InstanceIds: [pub.Instances![0]!.InstanceId!, priv.Instances![0]!.InstanceId!],
      }),
    );
    const [a, b] = out.Reservations!.map((r) => r.Instances![0]!);
    assert.match(a?.PublicIpAddress ?? "", /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(
      a?.PublicDnsName,
      `ec2-${a!.PublicIpAddress!.replaceAll(".", "-")}.compute-1.amazonaws.com`,
    );
    assert.equal(b?.PublicIpAddress, undefined);
    assert.equal(b?.PublicDnsName, "");
    assert.equal(b?.VpcId, "vpc-0f0e0d0c0b0a09080");
  });
});
