/** RunInstances: token deduplication, what reaches the instance, and the errors the driver meets. */

import { RunInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import {
  DATA_SNAPSHOT,
  DEREGISTERED_AMI,
  INSTANCE_PROFILE,
  startEc2Endpoint,
  SUBNET_B,
  UBUNTU_AMI,
} from "./mod.ts";
import { clientFor, expectError, launchOne } from "./testing.ts";

Deno.test("a ClientToken returns the same instance, refuses other parameters and a terminated launch", async () => {
  await using ep = await startEc2Endpoint({ timing: { pendingMs: 0, shuttingDownMs: 0 } });
  const ec2 = clientFor(ep);
  const id = await launchOne(ec2, { ClientToken: "token-1" });
  assert.equal(await launchOne(ec2, { ClientToken: "token-1" }), id);
  assert.equal(ep.instances().length, 1);
  assert.equal(ep.instances()[0]!.clientToken, "token-1");
  await expectError(
    launchOne(ec2, { ClientToken: "token-1", InstanceType: "t3.small" }),
    "IdempotentParameterMismatch",
    400,
  );
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  await expectError(
    launchOne(ec2, { ClientToken: "token-1" }),
    "IdempotentInstanceTerminated",
    400,
  );
  assert.notEqual(await launchOne(ec2, { ClientToken: "token-2" }), id);
  assert.equal(ep.instances().length, 2);
  ec2.destroy();
});

Deno.test("subnet, groups, key, tags, volumes, instance profile, IMDS and Spot reach the instance", async () => {
  await using ep = await startEc2Endpoint();
  const ec2 = clientFor(ep);
  const tags = [{ Key: "Name", Value: "one-1" }];
  await launchOne(ec2, {
    ImageId: UBUNTU_AMI,
    SubnetId: SUBNET_B,
    SecurityGroups: ["web"],
    KeyName: "ops",
    PrivateIpAddress: "172.31.16.50",
    UserData: btoa("#cloud-config\n"),
    TagSpecifications: [{ ResourceType: "instance", Tags: tags }, {
      ResourceType: "volume",
      Tags: tags,
    }],
    BlockDeviceMappings: [
      { DeviceName: "/dev/sda1", Ebs: { VolumeSize: 30, VolumeType: "gp3" } },
      { DeviceName: "/dev/sdf", Ebs: { SnapshotId: DATA_SNAPSHOT, DeleteOnTermination: false } },
    ],
    IamInstanceProfile: { Name: INSTANCE_PROFILE },
    InstanceMarketOptions: { MarketType: "spot", SpotOptions: { MaxPrice: "0.01" } },
  });
  const [i] = ep.instances("us-east-1");
  assert.deepEqual(
    [i!.subnetId, i!.availabilityZone, i!.privateIpAddress, i!.keyName, i!.tags],
    [SUBNET_B, "us-east-1b", "172.31.16.50", "ops", { Name: "one-1" }],
  );
  assert.deepEqual(i!.securityGroupIds, ["sg-0fedcba9876543210"]);
  assert.deepEqual(Object.values(i!.volumeTags), [{ Name: "one-1" }, { Name: "one-1" }]);
  assert.deepEqual(
    i!.blockDevices.map((
      d,
    ) => [d.deviceName, d.sizeGiB, d.volumeType, d.snapshotId, d.deleteOnTermination]),
    [
      ["/dev/sda1", 30, "gp3", "snap-0123456789abcdef0", true],
      ["/dev/sdf", 20, "gp2", DATA_SNAPSHOT, false],
    ],
  );
  assert.equal(
    i!.iamInstanceProfileArn,
    "arn:aws:iam::123456789012:instance-profile/one-burst-role",
  );
  assert.equal(i!.metadataHttpTokens, "optional", "Ubuntu's AMI does not require IMDSv2");
  assert.deepEqual([i!.instanceLifecycle, i!.spotInstanceType], ["spot", "one-time"]);
  assert.match(i!.spotInstanceRequestId ?? "", /^sir-[0-9a-f]{8}$/);
  assert.equal(i!.userData, btoa("#cloud-config\n"));
  ec2.destroy();
});

Deno.test("RunInstances refuses what EC2 refuses, with its codes, and launches nothing", async (t) => {
  await using ep = await startEc2Endpoint();
  const ec2 = clientFor(ep);
  const cases: [string, Parameters<typeof launchOne>[1]][] = [
    ["InvalidAMIID.NotFound", { ImageId: DEREGISTERED_AMI }],
    ["InvalidAMIID.Malformed", { ImageId: "ami-nothex" }],
    ["InvalidParameterValue", { InstanceType: "t4g.micro" }],
    ["InvalidKeyPair.NotFound", { KeyName: "nobody" }],
    ["InvalidSubnetID.NotFound", { SubnetId: "subnet-0123456789abcdef0" }],
    ["InvalidGroup.NotFound", { SecurityGroupIds: ["sg-0000000000000000a"] }],
    ["InvalidParameterValue", { UserData: btoa("x".repeat(16 * 1024 + 1)) }],
    ["InvalidSnapshot.NotFound", {
      BlockDeviceMappings: [{
        DeviceName: "/dev/sdf",
        Ebs: { SnapshotId: "snap-0deadbeefdeadbee0" },
      }],
    }],
    ["InvalidBlockDeviceMapping", {
      BlockDeviceMappings: [{
        DeviceName: "/dev/sdf",
        Ebs: { SnapshotId: DATA_SNAPSHOT, VolumeSize: 10 },
      }],
    }],
    ["InvalidParameterValue", { IamInstanceProfile: { Name: "nobody" } }],
    ["SpotMaxPriceTooLow", {
      InstanceMarketOptions: { MarketType: "spot", SpotOptions: { MaxPrice: "0.002" } },
    }],
  ];
  for (const [code, extra] of cases) {
    await t.step(`${code}: ${JSON.stringify(extra).slice(0, 60)}`, async () => {
      await expectError(launchOne(ec2, extra), code, 400);
    });
  }
  await launchOne(ec2, { UserData: btoa("x".repeat(16 * 1024)) });
  assert.equal(ep.instances().length, 1, "only the last, valid launch made an instance");
  const noImage = ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1 }));
  await expectError(noImage, "MissingParameter", 400);
  ec2.destroy();
});
