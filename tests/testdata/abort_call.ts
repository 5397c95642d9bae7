/**
 * Starts one EC2 call against an endpoint, aborts the API's signal once the request has been
 * sent (the endpoint says so by creating the marker file), then tries a second call; prints
 * what happened as JSON. Run as a process by `tests/endpoint_failures_test.ts`, since the SDK
 * needs the driver's own permissions.
 *
 * Usage: `abort_call.ts <endpoint url> <marker file>`
 *
 * @module
 */

import { createEc2Api } from "../../lib/providers/ec2/api.ts";

const [endpoint = "", marker = ""] = Deno.args;
const controller = new AbortController();
const api = createEc2Api({
  region: "us-east-1",
  endpoint,
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
  useInstanceMetadata: false,
}, { signal: controller.signal });
const message = (error: unknown) => error instanceof Error ? error.message : String(error);
const call = api.describeInstances({ InstanceIds: ["i-0123456789abcdef0"] }).then(
  () => "answered",
  message,
);
for (;;) {
  try {
    await Deno.stat(marker);
    break;
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
const started = Date.now();
controller.abort(new Error("time is up"));
const first = await call;
const seconds = (Date.now() - started) / 1000;
const second = await api.describeInstances({}).then(() => "answered", message);
console.log(JSON.stringify({ first, seconds, second }));
