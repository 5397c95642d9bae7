/** CreateImage and DescribeImages; Elastic IP addresses seeded as fixtures and associated. */

import {
  AssociateAddressCommand,
  CreateImageCommand,
  DescribeAddressesCommand,
  DescribeImagesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { AMAZON_LINUX_AMI, DEREGISTERED_AMI, startEc2Endpoint } from "./mod.ts";
import { clientFor, expectError, launchOne, ManualClock } from "./testing.ts";

Deno.test("CreateImage makes a tagged, pending AMI that is available after imageMs", async () => {
  const clock = new ManualClock();
  await using ep = await startEc2Endpoint({
    clock: clock.now,
    timing: { pendingMs: 0, imageMs: 500 },
  });
  const ec2 = clientFor(ep);
  const id = await launchOne(ec2);
  const tags = [{ Key: "opennebula:vm-id", Value: "9" }];
  const create = (Name: string, NoReboot?: boolean) =>
    ec2.send(
      new CreateImageCommand({
        InstanceId: id,
        Name,
        ...(NoReboot === undefined ? {} : { NoReboot }),
        TagSpecifications: [{ ResourceType: "image", Tags: tags }, {
          ResourceType: "snapshot",
          Tags: tags,
        }],
      }),
    );
  const { ImageId } = await create("one-9-checkpoint", true);
  assert.equal(ep.instances()[0]!.rebootCount, 0, "NoReboot spares the reboot");
  await expectError(create("one-9-checkpoint"), "InvalidAMIName.Duplicate", 400);
  await create("one-9-second");
  assert.equal(ep.instances()[0]!.rebootCount, 1);
  const describe = async () =>
    (await ec2.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0]!;
  assert.equal((await describe()).State, "pending");
  await expectError(launchOne(ec2, { ImageId: ImageId! }), "InvalidAMIID.Unavailable");
  clock.advance(500);
  const image = await describe();
  assert.deepEqual([image.State, image.SourceInstanceId, image.RootDeviceName], [
    "available",
    id,
    "/dev/xvda",
  ]);
  assert.deepEqual(image.Tags, [{ Key: "opennebula:vm-id", Value: "9" }]);
  assert.equal(
    ep.images("us-east-1").find((i) => i.imageId === ImageId)?.tags["opennebula:vm-id"],
    "9",
  );
  await launchOne(ec2, { ImageId: ImageId! });
  await expectError(
    ec2.send(new DescribeImagesCommand({ ImageIds: [AMAZON_LINUX_AMI, DEREGISTERED_AMI] })),
    "InvalidAMIID.NotFound",
  );
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  await expectError(create("one-9-late"), "IncorrectInstanceState");
  ec2.destroy();
});

Deno.test("Elastic IPs seeded as fixtures are associated, described, kept from other instances and freed on termination", async () => {
  const seeded = { allocationId: "eipalloc-0123456789abcdef0", publicIp: "198.51.100.7" };
  await using ep = await startEc2Endpoint({
    timing: { pendingMs: 0, shuttingDownMs: 0 },
    fixtures: { addresses: [seeded] },
  });
  const ec2 = clientFor(ep);
  const first = await launchOne(ec2);
  const second = await launchOne(ec2);
  const associate = (InstanceId: string, AllowReassociation?: boolean) =>
    ec2.send(
      new AssociateAddressCommand({
        InstanceId,
        AllocationId: seeded.allocationId,
        ...(AllowReassociation === undefined ? {} : { AllowReassociation }),
      }),
    );
  const { AssociationId } = await associate(first);
  assert.match(AssociationId ?? "", /^eipassoc-[0-9a-f]{17}$/);
  assert.equal((await associate(first, false)).AssociationId, AssociationId, "already there");
  await expectError(associate(second, false), "Resource.AlreadyAssociated", 400);
  const byIp = await ec2.send(new DescribeAddressesCommand({ PublicIps: [seeded.publicIp] }));
  assert.deepEqual(
    byIp.Addresses!.map((a) => [a.AllocationId, a.InstanceId, a.AssociationId]),
    [[seeded.allocationId, first, AssociationId]],
  );
  assert.equal(
    ep.instances().find((i) => i.instanceId === first)?.publicIpAddress,
    seeded.publicIp,
  );
  await expectError(
    ec2.send(new DescribeAddressesCommand({ PublicIps: ["203.0.113.10"] })),
    "InvalidAddress.NotFound",
  );
  await expectError(
    ec2.send(new DescribeAddressesCommand({ AllocationIds: ["eipalloc-0000000000000000f"] })),
    "InvalidAllocationID.NotFound",
  );
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [first] }));
  assert.deepEqual(ep.addresses("us-east-1"), [
    { ...seeded, region: "us-east-1", instanceId: undefined, associationId: undefined },
  ]);
  ec2.destroy();
});
