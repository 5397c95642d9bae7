import assert from "node:assert/strict";
import { Ec2Error } from "./errors.ts";
import {
  canonicalRequest,
  formatAmzDate,
  parseAmzDate,
  sha256Hex,
  signingKey,
  signRequest,
  stringToSign,
  verifySignature,
} from "./sigv4.ts";

// The worked example of AWS's SigV4 documentation (IAM ListUsers, 2015-08-30).
const EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const EXAMPLE_AT = Date.UTC(2015, 7, 30, 12, 36, 0);

function exampleRequest() {
  return {
    method: "GET",
    url: new URL("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"),
    headers: new Headers({
      host: "iam.amazonaws.com",
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      "x-amz-date": "20150830T123600Z",
    }),
    body: new Uint8Array(),
  };
}

Deno.test("SigV4 reproduces the canonical request, key and signature of AWS's worked example", () => {
  const canonical = canonicalRequest(exampleRequest(), ["content-type", "host", "x-amz-date"]);
  assert.equal(
    sha256Hex(canonical),
    "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
  );
  const key = signingKey(EXAMPLE_SECRET, "20150830", "us-east-1", "iam");
  assert.equal(
    Array.from(key, (b) => b.toString(16).padStart(2, "0")).join(""),
    "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
  );
  const toSign = stringToSign("20150830T123600Z", "20150830/us-east-1/iam/aws4_request", canonical);
  assert.match(toSign, /^AWS4-HMAC-SHA256\n20150830T123600Z\n20150830\/us-east-1\/iam\//);
});

Deno.test("verifySignature accepts the worked example and rejects it with another secret", () => {
  const request = exampleRequest();
  request.headers.set(
    "authorization",
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
  );
  const options = { service: "iam", now: EXAMPLE_AT, maxSkewMs: 15 * 60_000 };
  const verified = verifySignature(request, { ...options, secretFor: () => EXAMPLE_SECRET });
  assert.equal(verified.accessKeyId, "AKIDEXAMPLE");
  assert.equal(verified.region, "us-east-1");
  assert.throws(
    () => verifySignature(request, { ...options, secretFor: () => `${EXAMPLE_SECRET}x` }),
    (e: unknown) => e instanceof Ec2Error && e.code === "SignatureDoesNotMatch" && e.status === 403,
  );
});

Deno.test("a request signed by signRequest verifies, and fails once its body changes", () => {
  const body = new TextEncoder().encode("Action=DescribeInstances&Version=2016-11-15");
  const request = {
    method: "POST",
    url: new URL("http://127.0.0.1:8080/"),
    headers: new Headers({ "content-type": "application/x-www-form-urlencoded" }),
    body,
  };
  const at = Date.UTC(2024, 0, 2, 3, 4, 5);
  signRequest(request, { accessKeyId: "AKID", secretAccessKey: "secret", region: "eu-west-1", at });
  const options = { service: "ec2", now: at, maxSkewMs: 60_000, secretFor: () => "secret" };
  assert.equal(verifySignature(request, options).region, "eu-west-1");
  const tampered = { ...request, body: new TextEncoder().encode("Action=RunInstances") };
  assert.throws(() => verifySignature(tampered, options), /signature we calculated/);
});

Deno.test("X-Amz-Date round-trips and rejects malformed dates", () => {
  const at = Date.UTC(2024, 11, 31, 23, 59, 58);
  assert.equal(formatAmzDate(at), "20241231T235958Z");
  assert.equal(parseAmzDate("20241231T235958Z"), at);
  assert.equal(parseAmzDate("2024-12-31T23:59:58Z"), undefined);
});
