import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  type EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { AMAZON_LINUX_AMI, PRIVATE_SUBNET, SUBNET_B, UBUNTU_AMI } from "./mod.ts";
import { expectError, ManualClock, withEndpoint } from "./testing.ts";

async function launch(
  ec2: EC2Client,
  count: number,
  extra: Record<string, unknown> = {},
): Promise<string[]> {
  const out = await ec2.send(
    new RunInstancesCommand({
      ImageId: AMAZON_LINUX_AMI,
      InstanceType: "t3.micro",
      MinCount: count,
      MaxCount: count,
      ...extra,
    }),
  );
  return out.Instances!.map((i) => i.InstanceId!);
}

async function describeIds(ec2: EC2Client, input: DescribeInstancesCommandInput) {
  const out = await ec2.send(new DescribeInstancesCommand(input));
  return out.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!) ?? [];
}

Deno.test("DescribeInstances with MaxResults and NextToken returns every instance exactly once", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    const launched = [
      ...(await launch(ec2, 4)),
      ...(await launch(ec2, 4)),
      ...(await launch(ec2, 4)),
    ];
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: token }));
      const ids = out.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!) ??
        [];
      assert.ok(ids.length <= 5);
      seen.push(...ids);
      token = out.NextToken;
      if (pages++ === 0) launched.push(...(await launch(ec2, 1)));
    } while (token);
    assert.equal(pages, 3);
    assert.equal(new Set(seen).size, seen.length, "no instance twice");
    assert.deepEqual([...seen].sort(), [...launched].sort());
  });
});

Deno.test("DescribeInstances groups instances by reservation", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    const three = await launch(ec2, 3);
    const one = await launch(ec2, 1);
    const out = await ec2.send(new DescribeInstancesCommand({}));
    assert.deepEqual(out.Reservations?.map((r) => r.Instances?.map((i) => i.InstanceId)), [
      three,
      one,
    ]);
    assert.deepEqual(out.Reservations?.[0]?.Instances?.map((i) => i.AmiLaunchIndex), [0, 1, 2]);
  });
});

Deno.test("DescribeInstances rejects MaxResults combined with InstanceIds, as documented", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    const [id] = await launch(ec2, 1);
    await expectError(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: [id!], MaxResults: 5 })),
      "InvalidParameterCombination",
      400,
    );
  });
});

Deno.test("DescribeInstances rejects MaxResults outside 5-1000 and foreign NextTokens", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    await expectError(
      ec2.send(new DescribeInstancesCommand({ MaxResults: 4 })),
      "InvalidParameterValue",
      400,
    );
    await expectError(
      ec2.send(new DescribeInstancesCommand({ MaxResults: 1001 })),
      "InvalidParameterValue",
      400,
    );
    await expectError(
      ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: "bm90LWEtdG9rZW4" })),
      "InvalidPaginationToken",
      400,
    );
  });
});

Deno.test("DescribeInstances filters by tags, state, image, type, subnet and VPC", async () => {
  const clock = new ManualClock();
  await withEndpoint({ clock: clock.now }, async (_ep, ec2) => {
    const tag = (name: string, env?: string) => ({
      TagSpecifications: [{
        ResourceType: "instance" as const,
        Tags: [{ Key: "Name", Value: name }, ...(env ? [{ Key: "env", Value: env }] : [])],
      }],
    });
    const [web1] = await launch(ec2, 1, tag("web-1", "prod"));
    const [web2] = await launch(ec2, 1, { ...tag("web-2"), SubnetId: SUBNET_B });
    const [db] = await launch(ec2, 1, {
      ...tag("db-1", "prod"),
      ImageId: UBUNTU_AMI,
      InstanceType: "m5.large",
    });
    const [hidden] = await launch(ec2, 1, { SubnetId: PRIVATE_SUBNET });
    clock.advance(1_000);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [web2!] }));
    const by = (Name: string, ...Values: string[]) =>
      describeIds(ec2, { Filters: [{ Name, Values }] });

    assert.deepEqual(await by("tag:Name", "web-*"), [web1, web2]);
    assert.deepEqual(await by("tag:Name", "web-1", "db-1"), [web1, db]);
    assert.deepEqual(await by("tag-key", "env"), [web1, db]);
    assert.deepEqual(await by("tag-value", "prod"), [web1, db]);
    assert.deepEqual(await by("instance-state-name", "stopping"), [web2]);
    assert.deepEqual(await by("instance-state-name", "running"), [web1, db, hidden]);
    assert.deepEqual(await by("instance-state-code", "64"), [web2]);
    assert.deepEqual(await by("image-id", UBUNTU_AMI), [db]);
    assert.deepEqual(await by("instance-type", "m5.*"), [db]);
    assert.deepEqual(await by("subnet-id", SUBNET_B), [web2]);
    assert.deepEqual(await by("vpc-id", "vpc-0f0e0d0c0b0a09080"), [hidden]);
    assert.deepEqual(await by("availability-zone", "us-east-1b"), [web2]);
    assert.deepEqual(
      await describeIds(ec2, {
        Filters: [{ Name: "tag:env", Values: ["prod"] }, {
          Name: "instance-type",
          Values: ["t3.micro"],
        }],
      }),
      [web1],
    );
    assert.deepEqual(
      await describeIds(ec2, {
        InstanceIds: [web1!, db!],
        Filters: [{ Name: "image-id", Values: [UBUNTU_AMI] }],
      }),
      [db],
    );
    await expectError(by("no-such-filter", "x"), "InvalidParameterValue", 400);
  });
});

Deno.test("DescribeInstances of unknown or malformed ids fails with InvalidInstanceID.NotFound / .Malformed", async () => {
  await withEndpoint({}, async (_ep, ec2) => {
    const [id] = await launch(ec2, 1);
    const missing = ["i-0000000000000000a", "i-0000000000000000b"];
    const error = await expectError(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: [id!, ...missing] })),
      "InvalidInstanceID.NotFound",
      400,
    );
    assert.match(error.message, /i-0000000000000000a, i-0000000000000000b/);
    await expectError(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: ["i-nothex"] })),
      "InvalidInstanceID.Malformed",
      400,
    );
  });
});

Deno.test("a new instance is unknown to every call for visibilityDelayMs, then visible", async () => {
  const clock = new ManualClock();
  await withEndpoint(
    { clock: clock.now, timing: { visibilityDelayMs: 2_000 } },
    async (ep, ec2) => {
      const [id] = await launch(ec2, 1, { ClientToken: "eventually" });
      assert.deepEqual(await describeIds(ec2, {}), []);
      await expectError(
        ec2.send(new DescribeInstancesCommand({ InstanceIds: [id!] })),
        "InvalidInstanceID.NotFound",
      );
      await expectError(
        ec2.send(new TerminateInstancesCommand({ InstanceIds: [id!] })),
        "InvalidInstanceID.NotFound",
      );
      await expectError(
        ec2.send(new CreateTagsCommand({ Resources: [id!], Tags: [{ Key: "a", Value: "b" }] })),
        "InvalidInstanceID.NotFound",
      );
      assert.equal(ep.instances()[0]?.visible, false);
      const replay = await ec2.send(
        new RunInstancesCommand({
          ImageId: AMAZON_LINUX_AMI,
          InstanceType: "t3.micro",
          MinCount: 1,
          MaxCount: 1,
          ClientToken: "eventually",
        }),
      );
      assert.equal(replay.Instances?.[0]?.InstanceId, id, "the launch's replay knows it");
      clock.advance(2_000);
      assert.deepEqual(await describeIds(ec2, { InstanceIds: [id!] }), [id]);
    },
  );
});
