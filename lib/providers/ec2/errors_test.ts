import assert from "node:assert/strict";
import { CloudError, CredentialsError, DriverError, NotFoundError } from "../../util/errors.ts";
import { noteAttempts } from "../../util/retry.ts";
import { errorCode, isNotFound, isTransient, toDriverError, TransportError } from "./errors.ts";

function sdkError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}
const where = { host: "aws", region: "us-east-1" };

Deno.test("errorCode() reads EC2 codes from the name and network codes from code", () => {
  assert.equal(errorCode(sdkError("InvalidAMIID.NotFound", "x")), "InvalidAMIID.NotFound");
  assert.equal(
    errorCode(Object.assign(new Error("connect"), { code: "ECONNREFUSED" })),
    "ECONNREFUSED",
  );
  assert.equal(errorCode("text"), undefined);
  assert.equal(errorCode(undefined), undefined);
});

Deno.test("isNotFound() and isTransient() classify by code", () => {
  assert.ok(isNotFound(sdkError("InvalidInstanceID.NotFound", "")));
  assert.ok(!isNotFound(sdkError("InvalidAMIID.NotFound", "")));
  for (const code of ["RequestLimitExceeded", "InternalError", "Unavailable", "ECONNRESET"]) {
    assert.ok(isTransient(sdkError(code, "")), code);
    assert.ok(isTransient(new CloudError(code, "x")), code);
  }
  const silent = new TransportError({
    call: "DescribeInstances",
    endpoint: "http://127.0.0.1:1",
    problem: "got no answer within 10 s",
    code: "TimeoutError",
  });
  assert.ok(isTransient(silent));
  for (const code of ["AuthFailure", "InvalidAMIID.NotFound", "NotAnEc2Answer"]) {
    assert.ok(!isTransient(sdkError(code, "")), code);
  }
  assert.ok(!isTransient(null));
});

Deno.test("toDriverError() sorts SDK errors into the driver's classes, keeping the code and cause", () => {
  const notFound = sdkError("InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist");
  const converted = toDriverError(notFound, "Cannot describe i-1", where);
  assert.ok(converted instanceof NotFoundError);
  assert.equal(
    converted.message,
    "Cannot describe i-1: InvalidInstanceID.NotFound: The instance ID 'i-1' does not exist",
  );
  assert.equal(converted.cause, notFound);

  const auth = toDriverError(sdkError("AuthFailure", "bad keys"), "Cannot launch instance", where);
  assert.ok(auth instanceof CredentialsError);
  assert.equal(
    auth.message,
    "Cannot launch instance: AuthFailure: bad keys (host aws, region us-east-1)",
  );

  const capacity = toDriverError(
    sdkError("InsufficientInstanceCapacity", "none left"),
    "Cannot launch instance",
    where,
  );
  assert.ok(capacity instanceof CloudError);
  assert.equal((capacity as CloudError).code, "InsufficientInstanceCapacity");
});

Deno.test("toDriverError() explains missing credentials and region in words", () => {
  assert.match(
    toDriverError(
      sdkError("CredentialsProviderError", "Could not load credentials from any providers"),
      "Cannot x",
      where,
    ).message,
    /^Cannot x: no AWS credentials for host aws, region us-east-1 /,
  );
  assert.equal(
    toDriverError(new Error("Region is missing"), "Cannot x", { host: "aws" }).message,
    'Cannot x: no AWS region for host aws; set "region" in the driver configuration or AWS_REGION',
  );
});

Deno.test("toDriverError() names unreachable endpoints and keeps driver errors as they are", () => {
  const network = toDriverError(
    Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }),
    "Cannot x",
    where,
  );
  assert.equal(
    network.message,
    "Cannot x: cannot reach the EC2 endpoint for host aws, region us-east-1: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9",
  );
  const own = new DriverError("already described");
  assert.equal(toDriverError(own, "Cannot x", where), own);
});

Deno.test("toDriverError() reports a transport failure in one line with call, endpoint and attempts", () => {
  const silent = new TransportError({
    call: "DescribeInstances",
    endpoint: "http://127.0.0.1:9",
    problem: "got no answer within 10 s",
    code: "TimeoutError",
  });
  noteAttempts(silent, "DescribeInstances", 3, 21_400);
  const converted = toDriverError(silent, "Cannot describe i-1", where);
  assert.ok(converted instanceof CloudError && !(converted instanceof NotFoundError));
  assert.equal(converted.code, "TimeoutError");
  assert.equal(
    converted.message,
    "Cannot describe i-1: DescribeInstances to http://127.0.0.1:9 got no answer within 10 s (3 attempts in 21.4 s)",
  );
  assert.equal(errorCode(silent), "TimeoutError");

  const portal = new TransportError({
    call: "TerminateInstances",
    endpoint: "http://127.0.0.1:9",
    problem: "got HTTP 200 (text/html), not an EC2 answer",
    code: "NotAnEc2Answer",
  }, { status: 200 });
  portal.$metadata.attempts = 1;
  assert.equal(
    toDriverError(portal, "Cannot terminate i-1", where).message,
    "Cannot terminate i-1: TerminateInstances to http://127.0.0.1:9 got HTTP 200 (text/html), not an EC2 answer",
  );
});

Deno.test("toDriverError() never repeats the SDK's deserialization internals", () => {
  const sdk = Object.assign(
    new Error(
      "Unexpected end of input\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.",
    ),
    { $metadata: { httpStatusCode: 200 } },
  );
  assert.equal(
    toDriverError(sdk, "Cannot x", where).message,
    "Cannot x: the answer from the EC2 endpoint for host aws, region us-east-1 could not be read (HTTP 200)",
  );
});
