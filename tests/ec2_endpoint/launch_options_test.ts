import {
  DescribeInstancesCommand,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  StopInstancesCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import {
  BACKUP_SNAPSHOT,
  DATA_SNAPSHOT,
  INSTANCE_PROFILE,
  MISSING_SNAPSHOT,
  OPS_INSTANCE_PROFILE,
  PRIVATE_AMI,
  UBUNTU_AMI,
} from "./mod.ts";
import {
  describeOne,
  expectError,
  LAUNCH,
  launchOne,
  ManualClock,
  withEndpoint,
} from "./testing.ts";

Deno.test("IamInstanceProfile must name an instance profile of the account, by name or ARN", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    const byName = await launchOne(ec2, { IamInstanceProfile: { Name: INSTANCE_PROFILE } });
    const opsArn = `arn:aws:iam::${ep.accountId}:instance-profile/ops/${OPS_INSTANCE_PROFILE}`;
    const byArn = await launchOne(ec2, { IamInstanceProfile: { Arn: opsArn } });
    assert.equal(
      (await describeOne(ec2, byName)).IamInstanceProfile?.Arn,
      `arn:aws:iam::${ep.accountId}:instance-profile/${INSTANCE_PROFILE}`,
    );
    assert.deepEqual(
      ep.instances().map((i) => [i.instanceId, i.iamInstanceProfileArn]),
      [
        [byName, `arn:aws:iam::${ep.accountId}:instance-profile/${INSTANCE_PROFILE}`],
        [byArn, opsArn],
      ],
    );
    const byBoth = await launchOne(ec2, {
      IamInstanceProfile: { Name: OPS_INSTANCE_PROFILE, Arn: opsArn },
    });
    assert.equal(
      ep.instances().find((i) => i.instanceId === byBoth)?.iamInstanceProfileArn,
      opsArn,
    );

    const unknown = await expectError(
      launchOne(ec2, { IamInstanceProfile: { Name: "no-such-role" } }),
      "InvalidParameterValue",
      400,
    );
    assert.equal(
      unknown.message,
      "Value (no-such-role) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
    );
    const foreign = await expectError(
      launchOne(ec2, {
        IamInstanceProfile: {
          Arn: `arn:aws:iam::999999999999:instance-profile/${INSTANCE_PROFILE}`,
        },
      }),
      "InvalidParameterValue",
    );
    assert.match(foreign.message, /Invalid IAM Instance Profile ARN/);
    await expectError(
      launchOne(ec2, {
        IamInstanceProfile: {
          Arn: `arn:aws:iam::${ep.accountId}:instance-profile/${OPS_INSTANCE_PROFILE}`,
        },
      }),
      "InvalidParameterValue",
      400,
    );
    await expectError(
      launchOne(ec2, { IamInstanceProfile: { Name: INSTANCE_PROFILE, Arn: opsArn } }),
      "InvalidParameterCombination",
      400,
    );
    assert.equal(ep.instances().length, 3);
  });
});

Deno.test("MetadataOptions.HttpTokens is echoed, and defaults from the AMI's IMDS support", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    const v2Ami = await launchOne(ec2);
    const plainAmi = await launchOne(ec2, { ImageId: UBUNTU_AMI });
    const required = await launchOne(ec2, {
      ImageId: UBUNTU_AMI,
      MetadataOptions: { HttpTokens: "required" },
    });
    const optional = await launchOne(ec2, { MetadataOptions: { HttpTokens: "optional" } });
    const tokens = async (id: string) => (await describeOne(ec2, id)).MetadataOptions?.HttpTokens;
    assert.equal(await tokens(v2Ami), "required");
    assert.equal(await tokens(plainAmi), "optional");
    assert.equal(await tokens(required), "required");
    assert.equal(await tokens(optional), "optional");
    assert.deepEqual(ep.instances().map((i) => i.metadataHttpTokens), [
      "required",
      "optional",
      "required",
      "optional",
    ]);
    const filtered = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: "metadata-options.http-tokens", Values: ["optional"] }],
      }),
    );
    assert.deepEqual(
      filtered.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId),
      [plainAmi, optional],
    );
    await expectError(
      launchOne(ec2, { MetadataOptions: { HttpTokens: "maybe" as never } }),
      "InvalidParameterValue",
      400,
    );
  });
});

Deno.test("a Spot launch gets a Spot request id and lifecycle; persistent Spot Instances can be stopped", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: { pendingMs: 300 } }, async (ep, ec2) => {
    const id = await launchOne(ec2, {
      InstanceMarketOptions: {
        MarketType: "spot",
        SpotOptions: {
          MaxPrice: "0.0031",
          SpotInstanceType: "persistent",
          InstanceInterruptionBehavior: "stop",
        },
      },
    });
    const described = await describeOne(ec2, id);
    assert.equal(described.InstanceLifecycle, "spot");
    assert.match(described.SpotInstanceRequestId ?? "", /^sir-[0-9a-z]{8}$/);
    const [snapshot] = ep.instances();
    assert.equal(snapshot?.instanceLifecycle, "spot");
    assert.equal(snapshot?.spotInstanceRequestId, described.SpotInstanceRequestId);
    assert.equal(snapshot?.spotInstanceType, "persistent");
    clock.advance(300);
    const stop = await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    assert.equal(stop.StoppingInstances?.[0]?.CurrentState?.Name, "stopping");

    const onDemand = await launchOne(ec2);
    assert.equal(
      ep.instances().find((i) => i.instanceId === onDemand)?.instanceLifecycle,
      undefined,
    );
    const spots = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: "instance-lifecycle", Values: ["spot"] }] }),
    );
    assert.deepEqual(spots.Reservations?.map((r) => r.Instances?.[0]?.InstanceId), [id]);
  });
});

Deno.test("Spot options are checked as documented, the price against the type's Spot price", async (t) => {
  await withEndpoint({}, async (ep, ec2) => {
    const spot = (
      SpotOptions: Record<string, unknown>,
      extra: Partial<RunInstancesCommandInput> = {},
    ) =>
      ec2.send(
        new RunInstancesCommand({
          ...LAUNCH,
          ...extra,
          InstanceMarketOptions: { MarketType: "spot", SpotOptions },
        }),
      );
    const cases: [string, Record<string, unknown>, string][] = [
      ["persistent with terminate (the default)", {
        SpotInstanceType: "persistent",
      }, "InvalidParameterCombination"],
      ["persistent with terminate", {
        SpotInstanceType: "persistent",
        InstanceInterruptionBehavior: "terminate",
      }, "InvalidParameterCombination"],
      [
        "one-time with stop",
        { InstanceInterruptionBehavior: "stop" },
        "InvalidParameterCombination",
      ],
      ["one-time with hibernate", {
        SpotInstanceType: "one-time",
        InstanceInterruptionBehavior: "hibernate",
      }, "InvalidParameterCombination"],
      ["an unknown request type", { SpotInstanceType: "forever" }, "InvalidParameterValue"],
      ["an unknown behavior", { InstanceInterruptionBehavior: "pause" }, "InvalidParameterValue"],
      ["a price below USD 0.001", { MaxPrice: "0.0005" }, "InvalidParameterValue"],
      ["a price that is no number", { MaxPrice: "cheap" }, "InvalidParameterValue"],
      ["ValidUntil on a one-time request", {
        ValidUntil: new Date(Date.now() + 3_600_000),
      }, "InvalidParameterCombination"],
    ];
    for (const [what, options, code] of cases) {
      await t.step(`${what} → ${code}`, async () => {
        await expectError(spot(options), code, 400);
      });
    }
    await t.step("a price below the type's Spot price → SpotMaxPriceTooLow", async () => {
      const error = await expectError(spot({ MaxPrice: "0.003" }), "SpotMaxPriceTooLow", 400);
      assert.equal(
        error.message,
        "Your Spot request price of 0.003 is lower than the minimum required Spot request fulfillment price of 0.0031.",
      );
      await expectError(
        spot({ MaxPrice: "0.03" }, { InstanceType: "m5.large" }),
        "SpotMaxPriceTooLow",
      );
    });
    assert.equal(ep.instances().length, 0);
    await spot({ MaxPrice: "0.0031" });
    await spot({ MaxPrice: "0.5" }, { InstanceType: "m5.large" });
    await spot({
      SpotInstanceType: "persistent",
      InstanceInterruptionBehavior: "hibernate",
      ValidUntil: new Date(Date.now() + 3_600_000),
    });
    assert.equal(ep.instances().length, 3);
  });
});

Deno.test("a launch's volumes come from the AMI, with the request's mappings applied and shown", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    const plain = await launchOne(ec2);
    const [root] = ep.instances()[0]!.blockDevices;
    assert.deepEqual(
      [
        root?.deviceName,
        root?.sizeGiB,
        root?.volumeType,
        root?.snapshotId,
        root?.deleteOnTermination,
      ],
      ["/dev/xvda", 8, "gp3", "snap-0abcdef1234567890", true],
    );
    const mapped = await launchOne(ec2, {
      BlockDeviceMappings: [
        { DeviceName: "/dev/xvda", Ebs: { VolumeSize: 30, Iops: 6000, Throughput: 250 } },
        { DeviceName: "/dev/sdf", Ebs: { SnapshotId: DATA_SNAPSHOT, DeleteOnTermination: false } },
        { DeviceName: "/dev/sdg", Ebs: { VolumeSize: 100, VolumeType: "io2", Iops: 20_000 } },
        { DeviceName: "/dev/sdh", Ebs: { VolumeSize: 500, VolumeType: "st1" } },
        { DeviceName: "/dev/sdi", VirtualName: "ephemeral0" },
        { DeviceName: "/dev/sdj", NoDevice: "" },
      ],
    });
    const devices = ep.instances().find((i) => i.instanceId === mapped)!.blockDevices;
    assert.deepEqual(
      devices.map((
        d,
      ) => [d.deviceName, d.sizeGiB, d.volumeType, d.iops, d.snapshotId, d.deleteOnTermination]),
      [
        ["/dev/xvda", 30, "gp3", 6000, "snap-0abcdef1234567890", true],
        ["/dev/sdf", 20, "gp2", undefined, DATA_SNAPSHOT, false],
        ["/dev/sdg", 100, "io2", 20_000, undefined, true],
        ["/dev/sdh", 500, "st1", undefined, undefined, true],
      ],
    );
    const described = await describeOne(ec2, mapped);
    assert.deepEqual(
      described.BlockDeviceMappings?.map((b) => [b.DeviceName, b.Ebs?.DeleteOnTermination]),
      [["/dev/xvda", true], ["/dev/sdf", false], ["/dev/sdg", true], ["/dev/sdh", true]],
    );
    assert.deepEqual(
      described.BlockDeviceMappings?.map((b) => b.Ebs?.VolumeId),
      devices.map((d) => d.volumeId),
    );
    assert.equal(ep.instances().find((i) => i.instanceId === plain)?.blockDevices.length, 1);
  });
});

Deno.test("block device mappings are checked against the volume types' limits and the snapshots", async (t) => {
  await withEndpoint({}, async (ep, ec2) => {
    const cases: [string, Partial<RunInstancesCommandInput>, string][] = [
      ["a root smaller than the AMI's snapshot", {
        ImageId: PRIVATE_AMI,
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { VolumeSize: 10 } }],
      }, "InvalidBlockDeviceMapping"],
      ["a volume smaller than its snapshot", {
        BlockDeviceMappings: [{
          DeviceName: "/dev/sdf",
          Ebs: { SnapshotId: BACKUP_SNAPSHOT, VolumeSize: 50 },
        }],
      }, "InvalidBlockDeviceMapping"],
      ["an unknown snapshot", {
        BlockDeviceMappings: [{ DeviceName: "/dev/sdf", Ebs: { SnapshotId: MISSING_SNAPSHOT } }],
      }, "InvalidSnapshot.NotFound"],
      ["a malformed snapshot id", {
        BlockDeviceMappings: [{ DeviceName: "/dev/sdf", Ebs: { SnapshotId: "snap-1" } }],
      }, "InvalidSnapshotID.Malformed"],
      ["io1 without iops", {
        BlockDeviceMappings: [{
          DeviceName: "/dev/sdf",
          Ebs: { VolumeSize: 10, VolumeType: "io1" },
        }],
      }, "InvalidParameterCombination"],
      ["gp2 with iops", {
        BlockDeviceMappings: [{
          DeviceName: "/dev/sdf",
          Ebs: { VolumeSize: 10, VolumeType: "gp2", Iops: 300 },
        }],
      }, "InvalidParameterCombination"],
      ["io1 iops beyond 50 per GiB", {
        BlockDeviceMappings: [{
          DeviceName: "/dev/sdf",
          Ebs: { VolumeSize: 10, VolumeType: "io1", Iops: 5000 },
        }],
      }, "InvalidParameterValue"],
      ["io2 iops beyond 256,000", {
        BlockDeviceMappings: [{
          DeviceName: "/dev/sdf",
          Ebs: { VolumeSize: 1000, VolumeType: "io2", Iops: 300_000 },
        }],
      }, "InvalidParameterValue"],
      ["gp3 throughput beyond 2,000", {
        BlockDeviceMappings: [{
          DeviceName: "/dev/sdf",
          Ebs: { VolumeSize: 10, Throughput: 3000, VolumeType: "gp3" },
        }],
      }, "InvalidParameterValue"],
      ["throughput on gp2", {
        BlockDeviceMappings: [{ DeviceName: "/dev/sdf", Ebs: { VolumeSize: 10, Throughput: 200 } }],
      }, "InvalidParameterCombination"],
      ["st1 under 125 GiB", {
        BlockDeviceMappings: [{
          DeviceName: "/dev/sdf",
          Ebs: { VolumeSize: 100, VolumeType: "st1" },
        }],
      }, "InvalidParameterValue"],
      ["standard over 1,024 GiB", {
        BlockDeviceMappings: [{
          DeviceName: "/dev/sdf",
          Ebs: { VolumeSize: 2000, VolumeType: "standard" },
        }],
      }, "InvalidParameterValue"],
      ["gp2 over 16,384 GiB", {
        BlockDeviceMappings: [{ DeviceName: "/dev/sdf", Ebs: { VolumeSize: 16_385 } }],
      }, "InvalidParameterValue"],
      ["an unknown volume type", {
        BlockDeviceMappings: [{
          DeviceName: "/dev/sdf",
          Ebs: { VolumeSize: 8, VolumeType: "gp9" as never },
        }],
      }, "InvalidParameterValue"],
      ["a new volume without size or snapshot", {
        BlockDeviceMappings: [{ DeviceName: "/dev/sdf", Ebs: { DeleteOnTermination: true } }],
      }, "InvalidBlockDeviceMapping"],
      ["NoDevice on the root device", {
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", NoDevice: "" }],
      }, "InvalidBlockDeviceMapping"],
      ["an invalid device name", {
        BlockDeviceMappings: [{ DeviceName: "upload", Ebs: { VolumeSize: 8 } }],
      }, "InvalidBlockDeviceMapping"],
      ["a device named twice", {
        BlockDeviceMappings: [
          { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 8 } },
          { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 9 } },
        ],
      }, "InvalidBlockDeviceMapping"],
      ["an invalid virtual name", {
        BlockDeviceMappings: [{ DeviceName: "/dev/sdf", VirtualName: "scratch" }],
      }, "InvalidParameterValue"],
    ];
    for (const [what, change, code] of cases) {
      await t.step(`${what} → ${code}`, async () => {
        await expectError(ec2.send(new RunInstancesCommand({ ...LAUNCH, ...change })), code, 400);
      });
    }
    const snapshot = await expectError(
      launchOne(ec2, {
        ImageId: PRIVATE_AMI,
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { VolumeSize: 10 } }],
      }),
      "InvalidBlockDeviceMapping",
    );
    assert.match(
      snapshot.message,
      /Volume of size 10GB is smaller than snapshot 'snap-[0-9a-f]{17}', expect size >= 16GB/,
    );
    assert.equal(ep.instances().length, 0);
  });
});

Deno.test("HibernationOptions needs an encrypted root, and StopInstances Hibernate needs it configured", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: { pendingMs: 300 } }, async (_ep, ec2) => {
    await expectError(
      launchOne(ec2, { HibernationOptions: { Configured: true } }),
      "UnsupportedHibernationConfiguration",
      400,
    );
    const sleeper = await launchOne(ec2, {
      HibernationOptions: { Configured: true },
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { Encrypted: true, VolumeSize: 16 } }],
    });
    const plain = await launchOne(ec2);
    assert.equal((await describeOne(ec2, sleeper)).HibernationOptions?.Configured, true);
    assert.equal((await describeOne(ec2, plain)).HibernationOptions?.Configured, false);
    clock.advance(300);
    await expectError(
      ec2.send(new StopInstancesCommand({ InstanceIds: [sleeper, plain], Hibernate: true })),
      "UnsupportedHibernationConfiguration",
      400,
    );
    assert.equal((await describeOne(ec2, sleeper)).State?.Name, "running", "nothing stopped");
    const out = await ec2.send(
      new StopInstancesCommand({ InstanceIds: [sleeper], Hibernate: true }),
    );
    assert.equal(out.StoppingInstances?.[0]?.CurrentState?.Name, "stopping");
  });
});
