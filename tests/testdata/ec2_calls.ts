/**
 * Makes EC2 calls through the driver's API (the SDK, its retries, its HTTP layer) against an
 * endpoint, one after the other in one process, and prints what each did as a JSON line:
 * `{"call":"describeInstances","ok":true}` or `{"call":...,"ok":false,"name":...,"kind":...,
 * "attempts":N}`. Run by `tests/exact_requests_test.ts` as a process of its own, since the SDK
 * needs permissions the test runner does not have.
 *
 * Usage: deno run ... ec2_calls.ts <endpoint> <deadline seconds> <call>...
 * where a call is `describeInstances` or `runInstances`.
 *
 * @module
 */

import { createEc2Api } from "../../lib/providers/ec2/api.ts";
import { failureKind } from "../../lib/providers/ec2/errors.ts";

const [endpoint = "", seconds = "10", ...calls] = Deno.args;
const deadline = Date.now() + Number(seconds) * 1000;
const api = createEc2Api({
  region: "us-east-1",
  endpoint,
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
  useInstanceMetadata: false,
}, { deadline: () => deadline });
for (const call of calls) {
  try {
    if (call === "runInstances") {
      await api.runInstances({ ImageId: "ami-0123456789abcdef0", MinCount: 1, MaxCount: 1 });
    } else {
      await api.describeInstances({});
    }
    console.log(JSON.stringify({ call, ok: true }));
  } catch (error) {
    console.log(JSON.stringify({
      call,
      ok: false,
      name: (error as Error).name,
      kind: failureKind(error) ?? null,
      attempts: (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? null,
    }));
  }
}
