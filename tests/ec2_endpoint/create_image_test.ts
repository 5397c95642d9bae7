import {
  CreateImageCommand,
  type CreateImageCommandInput,
  CreateTagsCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  type EC2Client,
  type Image,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { AMAZON_LINUX_AMI, DEREGISTERED_AMI, PRIVATE_AMI } from "./mod.ts";
import { expectError, launchOne, ManualClock, withEndpoint } from "./testing.ts";

const TIMING = {
  pendingMs: 300,
  stoppingMs: 300,
  shuttingDownMs: 300,
  terminatedRetentionMs: 5_000,
  imageMs: 1_000,
};

async function describeImage(ec2: EC2Client, imageId: string): Promise<Image | undefined> {
  const out = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  return out.Images?.[0];
}

async function createImage(
  ec2: EC2Client,
  instanceId: string,
  extra: Partial<CreateImageCommandInput> = {},
): Promise<string> {
  const out = await ec2.send(
    new CreateImageCommand({ InstanceId: instanceId, Name: "one-42 golden (v1)", ...extra }),
  );
  return out.ImageId!;
}

Deno.test("CreateImage makes a pending AMI of the account that is available after imageMs", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const instanceId = await launchOne(ec2);
    clock.advance(300);
    const imageId = await createImage(ec2, instanceId, {
      Description: "burst base",
      TagSpecifications: [
        { ResourceType: "image", Tags: [{ Key: "role", Value: "golden" }] },
        { ResourceType: "snapshot", Tags: [{ Key: "made-by", Value: "one" }] },
      ],
    });
    assert.match(imageId, /^ami-[0-9a-f]{17}$/);
    const pending = await describeImage(ec2, imageId);
    assert.equal(pending?.State, "pending");
    assert.equal(pending?.Name, "one-42 golden (v1)");
    assert.equal(pending?.Description, "burst base");
    assert.equal(pending?.OwnerId, ep.accountId);
    assert.equal(pending?.Public, false);
    assert.equal(pending?.SourceInstanceId, instanceId);
    assert.equal(pending?.RootDeviceName, "/dev/xvda");
    assert.deepEqual(pending?.Tags, [{ Key: "role", Value: "golden" }]);
    const root = pending?.BlockDeviceMappings?.[0];
    assert.equal(root?.DeviceName, "/dev/xvda");
    assert.match(root?.Ebs?.SnapshotId ?? "", /^snap-[0-9a-f]{17}$/);
    assert.equal(root?.Ebs?.VolumeSize, 8);

    const mine = await ec2.send(new DescribeImagesCommand({ Owners: ["self"] }));
    assert.deepEqual(mine.Images?.map((i) => i.ImageId), [PRIVATE_AMI, imageId]);

    clock.advance(999);
    assert.equal((await describeImage(ec2, imageId))?.State, "pending");
    clock.advance(1);
    assert.equal((await describeImage(ec2, imageId))?.State, "available");
    const available = await ec2.send(
      new DescribeImagesCommand({
        Owners: ["self"],
        Filters: [{ Name: "state", Values: ["available"] }, {
          Name: "source-instance-id",
          Values: [instanceId],
        }],
      }),
    );
    assert.deepEqual(available.Images?.map((i) => i.ImageId), [imageId]);

    const [image] = ep.images().filter((i) => i.imageId === imageId);
    assert.equal(image?.sourceInstanceId, instanceId);
    assert.deepEqual(image?.snapshotTags, { [root!.Ebs!.SnapshotId!]: { "made-by": "one" } });
    assert.equal(ep.instances()[0]?.rebootCount, 1, "imaged with a reboot");
  });
});

Deno.test("CreateImage needs a running or stopped instance, and NoReboot spares the reboot", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const instanceId = await launchOne(ec2);
    await expectError(createImage(ec2, instanceId), "IncorrectInstanceState", 400);
    clock.advance(300);
    await createImage(ec2, instanceId, { Name: "running-no-reboot", NoReboot: true });
    assert.equal(ep.instances()[0]?.rebootCount, 0);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    await expectError(
      createImage(ec2, instanceId, { Name: "while-stopping" }),
      "IncorrectInstanceState",
    );
    clock.advance(300);
    await createImage(ec2, instanceId, { Name: "stopped" });
    assert.equal(ep.instances()[0]?.rebootCount, 0, "a stopped instance is not rebooted");
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    await expectError(
      createImage(ec2, instanceId, { Name: "while-shutting-down" }),
      "IncorrectInstanceState",
    );
  });
});

Deno.test("CreateImage refuses bad or taken names, unknown instances and other tag types, creating nothing", async (t) => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const instanceId = await launchOne(ec2);
    clock.advance(300);
    await createImage(ec2, instanceId, { Name: "taken" });
    const before = ep.images().length;
    const cases: [string, Partial<CreateImageCommandInput>, string][] = [
      ["a name of 2 characters", { Name: "ab" }, "InvalidAMIName.Malformed"],
      ["a name of 129 characters", { Name: "x".repeat(129) }, "InvalidAMIName.Malformed"],
      ["a name with '|'", { Name: "bad|name" }, "InvalidAMIName.Malformed"],
      [
        "the name of a fixture AMI",
        { Name: "one-hybrid-base-2024-10" },
        "InvalidAMIName.Duplicate",
      ],
      ["a name already used", { Name: "taken" }, "InvalidAMIName.Duplicate"],
      ["an unknown instance", { InstanceId: "i-0000000000000000a" }, "InvalidInstanceID.NotFound"],
      ["a malformed instance id", { InstanceId: "i-xyz" }, "InvalidInstanceID.Malformed"],
      ["a description of 256 characters", {
        Description: "d".repeat(256),
      }, "InvalidParameterValue"],
      ["an instance tag specification", {
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "a", Value: "b" }] }],
      }, "InvalidParameterValue"],
    ];
    for (const [what, change, code] of cases) {
      await t.step(`${what} → ${code}`, async () => {
        await expectError(
          createImage(ec2, instanceId, { Name: "fine-name", ...change }),
          code,
          400,
        );
      });
    }
    assert.equal(ep.images().length, before);
    await createImage(ec2, instanceId, { Name: "Name (with) [all] allowed/chars-'@_." });
  });
});

Deno.test("an image launches only once available, with its volumes and a root no smaller than its snapshot", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const source = await launchOne(ec2, {
      BlockDeviceMappings: [
        { DeviceName: "/dev/xvda", Ebs: { VolumeSize: 20 } },
        { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 30, DeleteOnTermination: false } },
      ],
    });
    clock.advance(300);
    const imageId = await createImage(ec2, source);
    const launch = (extra: Record<string, unknown> = {}) =>
      ec2.send(
        new RunInstancesCommand({
          ImageId: imageId,
          InstanceType: "t3.micro",
          MinCount: 1,
          MaxCount: 1,
          ...extra,
        }),
      );
    const pending = await expectError(launch(), "InvalidAMIID.Unavailable", 400);
    assert.match(pending.message, /pending/);
    clock.advance(1_000);
    const out = await launch();
    const launched = ep.instances().find((i) => i.instanceId === out.Instances![0]!.InstanceId);
    const image = ep.images().find((i) => i.imageId === imageId)!;
    assert.deepEqual(
      launched?.blockDevices.map((
        d,
      ) => [d.deviceName, d.sizeGiB, d.snapshotId, d.deleteOnTermination]),
      image.blockDevices.map((d) => [d.deviceName, d.sizeGiB, d.snapshotId, d.deleteOnTermination]),
    );
    assert.deepEqual(launched?.blockDevices.map((d) => d.sizeGiB), [20, 30]);
    assert.equal(launched?.blockDevices[1]?.deleteOnTermination, false);
    const small = await expectError(
      launch({ BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { VolumeSize: 10 } }] }),
      "InvalidBlockDeviceMapping",
      400,
    );
    assert.match(small.message, /smaller than snapshot '.*', expect size >= 20GB/);
    const dropped = await launch({
      BlockDeviceMappings: [{ DeviceName: "/dev/sdf", NoDevice: "" }],
    });
    const lean = ep.instances().find((i) => i.instanceId === dropped.Instances![0]!.InstanceId);
    assert.deepEqual(lean?.blockDevices.map((d) => d.deviceName), ["/dev/xvda"]);
  });
});

Deno.test("CreateImage's mappings may drop a volume, change DeleteOnTermination or add one, but not resize", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const source = await launchOne(ec2, {
      BlockDeviceMappings: [
        { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 30 } },
        { DeviceName: "/dev/sdg", Ebs: { VolumeSize: 40 } },
      ],
    });
    clock.advance(300);
    await expectError(
      createImage(ec2, source, {
        BlockDeviceMappings: [{ DeviceName: "/dev/sdf", Ebs: { VolumeSize: 50 } }],
      }),
      "InvalidBlockDeviceMapping",
    );
    await expectError(
      createImage(ec2, source, {
        BlockDeviceMappings: [{ DeviceName: "/dev/sdf", Ebs: { VolumeType: "io1", Iops: 100 } }],
      }),
      "InvalidBlockDeviceMapping",
    );
    const imageId = await createImage(ec2, source, {
      BlockDeviceMappings: [
        { DeviceName: "/dev/sdf", Ebs: { DeleteOnTermination: false } },
        { DeviceName: "/dev/sdg", NoDevice: "" },
        { DeviceName: "/dev/sdh", Ebs: { VolumeSize: 5 } },
      ],
    });
    const image = ep.images().find((i) => i.imageId === imageId)!;
    assert.deepEqual(
      image.blockDevices.map((
        d,
      ) => [d.deviceName, d.sizeGiB, d.deleteOnTermination, !!d.snapshotId]),
      [
        ["/dev/xvda", 8, true, true],
        ["/dev/sdf", 30, false, true],
        ["/dev/sdh", 5, true, false],
      ],
    );
  });
});

Deno.test("a deregistered image shows as deregistered, cannot launch, then is gone once unused", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (_ep, ec2) => {
    const source = await launchOne(ec2);
    clock.advance(300);
    const imageId = await createImage(ec2, source, { Name: "short-lived" });
    clock.advance(1_000);
    const user = await launchOne(ec2, { ImageId: imageId });
    const out = await ec2.send(new DeregisterImageCommand({ ImageId: imageId }));
    assert.equal(out.Return, true);
    assert.equal((await describeImage(ec2, imageId))?.State, "deregistered");
    await expectError(launchOne(ec2, { ImageId: imageId }), "InvalidAMIID.Unavailable", 400);
    await expectError(
      ec2.send(new DeregisterImageCommand({ ImageId: imageId })),
      "InvalidAMIID.Unavailable",
      400,
    );
    await expectError(
      createImage(ec2, source, { Name: "short-lived" }),
      "InvalidAMIName.Duplicate",
    );

    clock.advance(1_000);
    const listed = await ec2.send(new DescribeImagesCommand({ Owners: ["self"] }));
    assert.ok(!listed.Images?.some((i) => i.ImageId === imageId), "no longer listed");
    const byId = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    assert.deepEqual(byId.Images, [], "an empty result while an instance uses it");
    await expectError(launchOne(ec2, { ImageId: imageId }), "InvalidAMIID.NotFound");
    await createImage(ec2, source, { Name: "short-lived" });

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [user] }));
    clock.advance(300 + 5_000);
    await expectError(describeImage(ec2, imageId), "InvalidAMIID.NotFound", 400);
    await expectError(
      ec2.send(new DeregisterImageCommand({ ImageId: imageId })),
      "InvalidAMIID.NotFound",
    );
  });
});

Deno.test("DeregisterImage refuses others' and unknown images, and may delete the image's snapshots", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const other = await expectError(
      ec2.send(new DeregisterImageCommand({ ImageId: AMAZON_LINUX_AMI })),
      "AuthFailure",
      400,
    );
    assert.match(other.message, /Not authorized for image:ami-0abcdef1234567890/);
    await expectError(
      ec2.send(new DeregisterImageCommand({ ImageId: DEREGISTERED_AMI })),
      "InvalidAMIID.NotFound",
    );
    await expectError(
      ec2.send(new DeregisterImageCommand({ ImageId: "ami-12" })),
      "InvalidAMIID.Malformed",
    );
    const source = await launchOne(ec2);
    clock.advance(300);
    const imageId = await createImage(ec2, source);
    const snapshotId = ep.images().find((i) => i.imageId === imageId)!.blockDevices[0]!.snapshotId!;
    const out = await ec2.send(
      new DeregisterImageCommand({ ImageId: imageId, DeleteAssociatedSnapshots: true }),
    );
    assert.deepEqual(out.DeleteSnapshotResults, [{
      SnapshotId: snapshotId,
      ReturnCode: "success",
    }]);
    await expectError(
      launchOne(ec2, {
        BlockDeviceMappings: [{ DeviceName: "/dev/sdf", Ebs: { SnapshotId: snapshotId } }],
      }),
      "InvalidSnapshot.NotFound",
    );
  });
});

Deno.test("CreateTags tags a created image and its snapshots; a deregistered image no more", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const source = await launchOne(ec2);
    clock.advance(300);
    const imageId = await createImage(ec2, source);
    const snapshotId = ep.images().find((i) => i.imageId === imageId)!.blockDevices[0]!.snapshotId!;
    await ec2.send(
      new CreateTagsCommand({
        Resources: [imageId, snapshotId],
        Tags: [{ Key: "release", Value: "2024.10" }],
      }),
    );
    const tagged = await ec2.send(
      new DescribeImagesCommand({ Filters: [{ Name: "tag:release", Values: ["2024.10"] }] }),
    );
    assert.deepEqual(tagged.Images?.map((i) => i.ImageId), [imageId]);
    assert.deepEqual(ep.images().find((i) => i.imageId === imageId)?.snapshotTags, {
      [snapshotId]: { release: "2024.10" },
    });
    await expectError(
      ec2.send(
        new CreateTagsCommand({
          Resources: ["snap-0000000000000000a"],
          Tags: [{ Key: "a", Value: "" }],
        }),
      ),
      "InvalidSnapshot.NotFound",
    );
    await ec2.send(new DeregisterImageCommand({ ImageId: imageId }));
    clock.advance(1_000);
    await expectError(
      ec2.send(new CreateTagsCommand({ Resources: [imageId], Tags: [{ Key: "a", Value: "" }] })),
      "InvalidAMIID.NotFound",
    );
  });
});
