import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  CreateTagsCommand,
  DescribeAddressesCommand,
  type DescribeAddressesCommandInput,
  DisassociateAddressCommand,
  type EC2Client,
  ReleaseAddressCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import {
  EIP_ADDRESS_A,
  EIP_ADDRESS_B,
  EIP_ADDRESS_C,
  EIP_ALLOCATION_A,
  EIP_ALLOCATION_B,
  EIP_ALLOCATION_C,
  PRIVATE_SUBNET,
} from "./mod.ts";
import { describeOne, expectError, launchOne, ManualClock, withEndpoint } from "./testing.ts";

const TIMING = { pendingMs: 300, stoppingMs: 300, shuttingDownMs: 300 };

async function allocations(ec2: EC2Client, input: DescribeAddressesCommandInput = {}) {
  const out = await ec2.send(new DescribeAddressesCommand(input));
  return out.Addresses?.map((a) => a.AllocationId) ?? [];
}

async function associate(ec2: EC2Client, allocationId: string, instanceId: string) {
  const out = await ec2.send(
    new AssociateAddressCommand({ AllocationId: allocationId, InstanceId: instanceId }),
  );
  return out.AssociationId!;
}

/** Launches an instance and lets it reach running. */
async function running(ec2: EC2Client, clock: ManualClock, extra = {}): Promise<string> {
  const id = await launchOne(ec2, extra);
  clock.advance(300);
  return id;
}

Deno.test("DescribeAddresses lists the fixture Elastic IPs, by address, allocation id and filters", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    const all = await ec2.send(new DescribeAddressesCommand({}));
    assert.deepEqual(all.Addresses?.map((a) => [a.AllocationId, a.PublicIp, a.Domain]), [
      [EIP_ALLOCATION_A, EIP_ADDRESS_A, "vpc"],
      [EIP_ALLOCATION_B, EIP_ADDRESS_B, "vpc"],
      [EIP_ALLOCATION_C, EIP_ADDRESS_C, "vpc"],
    ]);
    assert.equal(all.Addresses?.[0]?.InstanceId, undefined);
    assert.equal(all.Addresses?.[0]?.NetworkBorderGroup, "us-east-1");
    assert.deepEqual(all.Addresses?.[2]?.Tags, [{ Key: "Name", Value: "one-burst-spare" }]);
    assert.deepEqual(await allocations(ec2, { PublicIps: [EIP_ADDRESS_B] }), [EIP_ALLOCATION_B]);
    assert.deepEqual(
      await allocations(ec2, { AllocationIds: [EIP_ALLOCATION_C, EIP_ALLOCATION_A] }),
      [EIP_ALLOCATION_A, EIP_ALLOCATION_C],
    );
    const by = (Name: string, ...Values: string[]) =>
      allocations(ec2, { Filters: [{ Name, Values }] });
    assert.deepEqual(await by("public-ip", "203.0.113.1?"), [
      EIP_ALLOCATION_A,
      EIP_ALLOCATION_B,
      EIP_ALLOCATION_C,
    ]);
    assert.deepEqual(await by("allocation-id", EIP_ALLOCATION_B), [EIP_ALLOCATION_B]);
    assert.deepEqual(await by("domain", "vpc"), [
      EIP_ALLOCATION_A,
      EIP_ALLOCATION_B,
      EIP_ALLOCATION_C,
    ]);
    assert.deepEqual(await by("tag:Name", "one-burst-*"), [EIP_ALLOCATION_C]);
    assert.deepEqual(await by("instance-id", "i-*"), []);
    await expectError(by("no-such-filter", "x"), "InvalidParameterValue", 400);
  });
});

Deno.test("DescribeAddresses of an unknown address or allocation fails with InvalidAddress.NotFound / InvalidAllocationID.NotFound", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    await expectError(
      allocations(ec2, { PublicIps: ["198.51.100.99"] }),
      "InvalidAddress.NotFound",
      400,
    );
    await expectError(
      allocations(ec2, { PublicIps: ["not-an-ip"] }),
      "InvalidAddress.Malformed",
      400,
    );
    const error = await expectError(
      allocations(ec2, { AllocationIds: [EIP_ALLOCATION_A, "eipalloc-00000000000000000"] }),
      "InvalidAllocationID.NotFound",
      400,
    );
    assert.match(error.message, /eipalloc-00000000000000000/);
  });
});

Deno.test("an associated Elastic IP becomes the instance's public address and stays across stop and start", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const id = await running(ec2, clock);
    const poolAddress = (await describeOne(ec2, id)).PublicIpAddress;
    assert.ok(poolAddress);
    const associationId = await associate(ec2, EIP_ALLOCATION_A, id);
    assert.match(associationId, /^eipassoc-[0-9a-f]{17}$/);
    const described = await describeOne(ec2, id);
    assert.equal(described.PublicIpAddress, EIP_ADDRESS_A);
    assert.equal(described.PublicDnsName, "ec2-203-0-113-10.compute-1.amazonaws.com");
    assert.equal(described.NetworkInterfaces?.[0]?.Association?.IpOwnerId, ep.accountId);
    const [address] = (await ec2.send(
      new DescribeAddressesCommand({ AllocationIds: [EIP_ALLOCATION_A] }),
    )).Addresses!;
    assert.equal(address?.InstanceId, id);
    assert.equal(address?.AssociationId, associationId);
    assert.equal(address?.PrivateIpAddress, described.PrivateIpAddress);
    assert.equal(address?.NetworkInterfaceId, described.NetworkInterfaces?.[0]?.NetworkInterfaceId);
    assert.equal(address?.NetworkInterfaceOwnerId, ep.accountId);

    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    clock.advance(300);
    const stopped = await describeOne(ec2, id);
    assert.equal(stopped.State?.Name, "stopped");
    assert.equal(stopped.PublicIpAddress, EIP_ADDRESS_A);
    await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    clock.advance(300);
    assert.equal((await describeOne(ec2, id)).PublicIpAddress, EIP_ADDRESS_A);
    const [snapshot] = ep.instances();
    assert.deepEqual(snapshot?.elasticIp, {
      publicIp: EIP_ADDRESS_A,
      allocationId: EIP_ALLOCATION_A,
      associationId,
    });
    assert.equal(snapshot?.publicIpAddress, EIP_ADDRESS_A);
    assert.deepEqual(
      ep.addresses().filter((a) => a.instanceId === id).map((a) => a.allocationId),
      [EIP_ALLOCATION_A],
    );
  });
});

Deno.test("AssociateAddress takes a running or stopped instance, not a pending or terminated one", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (_ep, ec2) => {
    const id = await launchOne(ec2);
    const error = await expectError(
      associate(ec2, EIP_ALLOCATION_A, id),
      "IncorrectInstanceState",
      400,
    );
    assert.match(error.message, /pending/);
    clock.advance(300);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    clock.advance(300);
    await associate(ec2, EIP_ALLOCATION_A, id);
    assert.equal((await describeOne(ec2, id)).PublicIpAddress, EIP_ADDRESS_A);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    clock.advance(300);
    await expectError(associate(ec2, EIP_ALLOCATION_B, id), "IncorrectInstanceState");
  });
});

Deno.test("termination disassociates the Elastic IP, which stays allocated", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const id = await running(ec2, clock);
    await associate(ec2, EIP_ALLOCATION_B, id);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    clock.advance(300);
    const address = ep.addresses().find((a) => a.allocationId === EIP_ALLOCATION_B);
    assert.equal(address?.instanceId, undefined);
    assert.equal((await describeOne(ec2, id)).PublicIpAddress, undefined);
  });
});

Deno.test("an associated address moves to another instance unless AllowReassociation is false", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (_ep, ec2) => {
    const first = await running(ec2, clock);
    const second = await running(ec2, clock);
    const firstAssociation = await associate(ec2, EIP_ALLOCATION_A, first);
    assert.equal(
      await associate(ec2, EIP_ALLOCATION_A, first),
      firstAssociation,
      "repeating is no error",
    );
    const error = await expectError(
      ec2.send(
        new AssociateAddressCommand({
          AllocationId: EIP_ALLOCATION_A,
          InstanceId: second,
          AllowReassociation: false,
        }),
      ),
      "Resource.AlreadyAssociated",
      400,
    );
    assert.match(error.message, new RegExp(firstAssociation));
    assert.equal((await describeOne(ec2, first)).PublicIpAddress, EIP_ADDRESS_A);

    const moved = await associate(ec2, EIP_ALLOCATION_A, second);
    assert.notEqual(moved, firstAssociation);
    assert.equal((await describeOne(ec2, second)).PublicIpAddress, EIP_ADDRESS_A);
    const left = (await describeOne(ec2, first)).PublicIpAddress;
    assert.ok(left && left !== EIP_ADDRESS_A, "the first instance gets a pool address again");
    await ec2.send(new DisassociateAddressCommand({ AssociationId: firstAssociation }));
    assert.equal(
      (await describeOne(ec2, second)).PublicIpAddress,
      EIP_ADDRESS_A,
      "disassociating the old association again is a no-op",
    );
    await expectError(
      ec2.send(new DisassociateAddressCommand({ AssociationId: "eipassoc-0000000000000000a" })),
      "InvalidAssociationID.NotFound",
      400,
    );
  });
});

Deno.test("associating a second address with an instance disassociates the first", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const id = await running(ec2, clock);
    await associate(ec2, EIP_ALLOCATION_A, id);
    await associate(ec2, EIP_ALLOCATION_B, id);
    assert.equal((await describeOne(ec2, id)).PublicIpAddress, EIP_ADDRESS_B);
    assert.deepEqual(
      ep.addresses().map((a) => [a.allocationId, a.instanceId]),
      [[EIP_ALLOCATION_A, undefined], [EIP_ALLOCATION_B, id], [EIP_ALLOCATION_C, undefined]],
    );
  });
});

Deno.test("DisassociateAddress gives a running instance a new pool address and is idempotent", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const id = await running(ec2, clock);
    const hidden = await running(ec2, clock, { SubnetId: PRIVATE_SUBNET });
    const associationId = await associate(ec2, EIP_ALLOCATION_A, id);
    await ec2.send(new DisassociateAddressCommand({ AssociationId: associationId }));
    const after = (await describeOne(ec2, id)).PublicIpAddress;
    assert.ok(after && after !== EIP_ADDRESS_A);
    assert.equal(ep.instances()[0]?.elasticIp, undefined);
    await ec2.send(new DisassociateAddressCommand({ AssociationId: associationId }));

    await associate(ec2, EIP_ALLOCATION_B, hidden);
    assert.equal((await describeOne(ec2, hidden)).PublicIpAddress, EIP_ADDRESS_B);
    await ec2.send(new DisassociateAddressCommand({ PublicIp: EIP_ADDRESS_B }));
    assert.equal(
      (await describeOne(ec2, hidden)).PublicIpAddress,
      undefined,
      "a subnet without public addresses gives none",
    );
  });
});

Deno.test("AssociateAddress resolves the address and instance as documented, or fails with their errors", async (t) => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (_ep, ec2) => {
    const id = await running(ec2, clock);
    const eni = (await describeOne(ec2, id)).NetworkInterfaces![0]!.NetworkInterfaceId!;
    await t.step("by PublicIp and NetworkInterfaceId", async () => {
      await ec2.send(
        new AssociateAddressCommand({ PublicIp: EIP_ADDRESS_C, NetworkInterfaceId: eni }),
      );
      assert.equal((await describeOne(ec2, id)).PublicIpAddress, EIP_ADDRESS_C);
    });
    const cases: [string, Record<string, unknown>, string][] = [
      ["an unknown allocation", {
        AllocationId: "eipalloc-0000000000000000f",
        InstanceId: id,
      }, "InvalidAllocationID.NotFound"],
      [
        "an unknown address",
        { PublicIp: "198.51.100.7", InstanceId: id },
        "InvalidAddress.NotFound",
      ],
      ["an unknown instance", {
        AllocationId: EIP_ALLOCATION_A,
        InstanceId: "i-0000000000000000f",
      }, "InvalidInstanceID.NotFound"],
      ["an unknown interface", {
        AllocationId: EIP_ALLOCATION_A,
        NetworkInterfaceId: "eni-0000000000000000f",
      }, "InvalidNetworkInterfaceID.NotFound"],
      ["both instance and interface", {
        AllocationId: EIP_ALLOCATION_A,
        InstanceId: id,
        NetworkInterfaceId: eni,
      }, "InvalidParameterCombination"],
      ["no address", { InstanceId: id }, "MissingParameter"],
      ["another private address", {
        AllocationId: EIP_ALLOCATION_A,
        InstanceId: id,
        PrivateIpAddress: "172.31.9.9",
      }, "InvalidParameterValue"],
    ];
    for (const [what, input, code] of cases) {
      await t.step(`${what} → ${code}`, async () => {
        await expectError(ec2.send(new AssociateAddressCommand(input)), code, 400);
      });
    }
    assert.equal((await describeOne(ec2, id)).PublicIpAddress, EIP_ADDRESS_C, "unchanged");
  });
});

Deno.test("AllocateAddress allocates tagged addresses up to the quota, and ReleaseAddress gives them back", async () => {
  await withEndpoint({ elasticIpLimit: 4 }, async (ep, ec2) => {
    const out = await ec2.send(
      new AllocateAddressCommand({
        Domain: "vpc",
        TagSpecifications: [{ ResourceType: "elastic-ip", Tags: [{ Key: "vm", Value: "42" }] }],
      }),
    );
    assert.match(out.AllocationId ?? "", /^eipalloc-[0-9a-f]{17}$/);
    assert.match(out.PublicIp ?? "", /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(out.Domain, "vpc");
    assert.equal(out.PublicIpv4Pool, "amazon");
    assert.deepEqual(await allocations(ec2, { Filters: [{ Name: "tag:vm", Values: ["42"] }] }), [
      out.AllocationId,
    ]);
    await expectError(ec2.send(new AllocateAddressCommand({})), "AddressLimitExceeded", 400);

    await ec2.send(new ReleaseAddressCommand({ AllocationId: out.AllocationId }));
    assert.equal(ep.addresses().length, 3);
    await expectError(
      ec2.send(new ReleaseAddressCommand({ AllocationId: out.AllocationId })),
      "InvalidAllocationID.NotFound",
      400,
    );
    const recovered = await ec2.send(new AllocateAddressCommand({ Address: out.PublicIp }));
    assert.equal(recovered.PublicIp, out.PublicIp);
    assert.notEqual(recovered.AllocationId, out.AllocationId);
    await expectError(
      ec2.send(
        new ReleaseAddressCommand({
          AllocationId: EIP_ALLOCATION_A,
          NetworkBorderGroup: "eu-west-1",
        }),
      ),
      "InvalidAddress.NotFound",
    );
  });
});

Deno.test("ReleaseAddress of an associated address disassociates it in the default VPC and fails elsewhere", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now, timing: TIMING }, async (ep, ec2) => {
    const inDefault = await running(ec2, clock);
    const inPrivate = await running(ec2, clock, { SubnetId: PRIVATE_SUBNET });
    await associate(ec2, EIP_ALLOCATION_A, inDefault);
    await associate(ec2, EIP_ALLOCATION_B, inPrivate);
    await expectError(
      ec2.send(new ReleaseAddressCommand({ AllocationId: EIP_ALLOCATION_B })),
      "InvalidIPAddress.InUse",
      400,
    );
    await ec2.send(new ReleaseAddressCommand({ AllocationId: EIP_ALLOCATION_A }));
    assert.notEqual((await describeOne(ec2, inDefault)).PublicIpAddress, EIP_ADDRESS_A);
    assert.deepEqual(ep.addresses().map((a) => a.allocationId), [
      EIP_ALLOCATION_B,
      EIP_ALLOCATION_C,
    ]);
  });
});

Deno.test("CreateTags tags an Elastic IP by allocation id, and refuses an unknown one", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    await ec2.send(
      new CreateTagsCommand({ Resources: [EIP_ALLOCATION_A], Tags: [{ Key: "vm", Value: "7" }] }),
    );
    assert.deepEqual(ep.addresses()[0]?.tags, { vm: "7" });
    await expectError(
      ec2.send(
        new CreateTagsCommand({
          Resources: ["eipalloc-0000000000000000f"],
          Tags: [{ Key: "vm", Value: "7" }],
        }),
      ),
      "InvalidAllocationID.NotFound",
    );
  });
});

Deno.test("Elastic IP addresses are per region", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    await ec2.send(new AllocateAddressCommand({}));
    await ec2.send(new DescribeAddressesCommand({}));
    assert.equal(ep.addresses("us-east-1").length, 4);
    assert.equal(ep.addresses("eu-west-1").length, 0, "a region not yet used has none to show");
  });
});
