/** CreateTags, as EC2 documents it: adds or overwrites tags, checks everything before tagging. */

import { CreateTagsCommand, DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { startEc2Endpoint } from "./mod.ts";
import { clientFor, expectError, launchOne } from "./testing.ts";

Deno.test("CreateTags adds a tag, overwrites one of the same key, and leaves the others; DescribeInstances filters by the new value", async () => {
  await using ep = await startEc2Endpoint({ timing: { pendingMs: 0 } });
  const ec2 = clientFor(ep);
  const id = await launchOne(ec2, {
    TagSpecifications: [{
      ResourceType: "instance",
      Tags: [{ Key: "opennebula:host", Value: "a" }, { Key: "Name", Value: "web" }],
    }],
  });
  const out = await ec2.send(
    new CreateTagsCommand({
      Resources: [id],
      Tags: [{ Key: "opennebula:host", Value: "b" }, { Key: "team", Value: "" }],
    }),
  );
  assert.equal(out.$metadata.httpStatusCode, 200);
  assert.deepEqual(ep.instances()[0]!.tags, { "opennebula:host": "b", Name: "web", team: "" });
  const found = await ec2.send(
    new DescribeInstancesCommand({ Filters: [{ Name: "tag:opennebula:host", Values: ["b"] }] }),
  );
  assert.deepEqual(found.Reservations?.flatMap((r) => r.Instances!.map((i) => i.InstanceId)), [
    id,
  ]);
});

Deno.test("CreateTags refuses unknown or malformed resources, missing or bad tags and a 51st tag, tagging nothing", async () => {
  await using ep = await startEc2Endpoint({ timing: { pendingMs: 0 } });
  const ec2 = clientFor(ep);
  const id = await launchOne(ec2);
  const tag = (Resources: string[], Tags: { Key: string; Value: string }[]) =>
    ec2.send(new CreateTagsCommand({ Resources, Tags }));
  const one = [{ Key: "k", Value: "v" }];
  await expectError(tag([id, "i-0123456789abcdef0"], one), "InvalidInstanceID.NotFound");
  await expectError(tag(["i-nothex"], one), "InvalidInstanceID.Malformed");
  await expectError(tag(["ami-00000000"], one), "InvalidAMIID.NotFound");
  await expectError(tag(["vol-1"], one), "InvalidID");
  await expectError(tag([], one), "MissingParameter");
  await expectError(tag([id], []), "MissingParameter");
  await expectError(tag([id], [{ Key: "aws:x", Value: "v" }]), "InvalidParameterValue");
  await expectError(tag([id], [{ Key: "k".repeat(129), Value: "v" }]), "InvalidParameterValue");
  await expectError(tag([id], [{ Key: "k", Value: "v".repeat(257) }]), "InvalidParameterValue");
  const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: "v" }));
  await expectError(tag([id], many), "TagLimitExceeded");
  assert.deepEqual(ep.instances()[0]!.tags, {}, "nothing tagged");
  await tag([id], one);
  assert.deepEqual(ep.instances()[0]!.tags, { k: "v" });
});
