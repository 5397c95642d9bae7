/** Signatures checked with the SDK's signer, and the answers to calls it does not implement. */

import { DeleteTagsCommand, DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { startEc2Endpoint, TEST_CREDENTIALS } from "./mod.ts";
import { clientFor, expectError } from "./testing.ts";

Deno.test("the right secret is accepted and a wrong one refused with AuthFailure (401)", async () => {
  await using ep = await startEc2Endpoint();
  const good = clientFor(ep);
  const bad = clientFor(ep, {
    credentials: { ...TEST_CREDENTIALS, secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEY" },
  });
  const out = await good.send(new DescribeInstancesCommand({}));
  assert.deepEqual(out.Reservations, []);
  await expectError(bad.send(new DescribeInstancesCommand({})), "AuthFailure", 401);
  assert.deepEqual(ep.calls.map((c) => [c.status, c.region]), [[200, "us-east-1"], [
    401,
    undefined,
  ]]);
  good.destroy();
  bad.destroy();
});

Deno.test("an unknown access key, a session token and an unsigned request", async () => {
  await using ep = await startEc2Endpoint();
  const unknown = clientFor(ep, { credentials: { ...TEST_CREDENTIALS, accessKeyId: "AKIAOTHER" } });
  await expectError(unknown.send(new DescribeInstancesCommand({})), "AuthFailure", 401);
  const session = clientFor(ep, { credentials: { ...TEST_CREDENTIALS, sessionToken: "FwoG/x" } });
  await session.send(new DescribeInstancesCommand({}));
  const response = await fetch(ep.url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "Action=DescribeInstances&Version=2016-11-15",
  });
  const text = await response.text();
  assert.equal(response.status, 401);
  assert.match(text, /^<\?xml .*<Response><Errors><Error><Code>AuthFailure<\/Code>/s);
  assert.match(text, /<RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/);
  unknown.destroy();
  session.destroy();
});

Deno.test("a call the driver never makes is refused with InvalidAction", async () => {
  await using ep = await startEc2Endpoint();
  const ec2 = clientFor(ep);
  const call = ec2.send(new DeleteTagsCommand({ Resources: ["i-0123456789abcdef0"] }));
  await expectError(call, "InvalidAction", 400);
  assert.equal(ep.calls[0]?.errorCode, "InvalidAction");
  ec2.destroy();
});
