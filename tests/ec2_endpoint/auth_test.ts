import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { startEc2Endpoint, TEST_CREDENTIALS } from "./mod.ts";
import { clientFor, expectError, rawRequest, withEndpoint } from "./testing.ts";

const DESCRIBE = "Action=DescribeInstances&Version=2016-11-15";

Deno.test("a request without an Authorization header fails with AuthFailure (401)", async () => {
  await withEndpoint({}, async (ep) => {
    const response = await rawRequest(ep, DESCRIBE, { sign: false });
    assert.equal(response.status, 401);
    assert.equal(response.code, "AuthFailure");
    assert.match(response.text, /AWS was not able to validate the provided access credentials/);
  });
});

Deno.test("an unparseable Authorization header fails with AuthFailure", async () => {
  await withEndpoint({}, async (ep) => {
    const response = await rawRequest(ep, DESCRIBE, {
      sign: false,
      headers: { authorization: "AWS4-HMAC-SHA256 garbage", "x-amz-date": "20240101T000000Z" },
    });
    assert.deepEqual([response.status, response.code], [401, "AuthFailure"]);
  });
});

Deno.test("an unknown access key fails with AuthFailure, through raw requests and the SDK", async () => {
  await withEndpoint({}, async (ep) => {
    const response = await rawRequest(ep, DESCRIBE, {
      sign: { accessKeyId: "AKIAUNKNOWNKEY000000" },
    });
    assert.deepEqual([response.status, response.code], [401, "AuthFailure"]);
    const stranger = clientFor(ep, {
      credentials: {
        accessKeyId: "AKIAUNKNOWNKEY000000",
        secretAccessKey: TEST_CREDENTIALS.secretAccessKey,
      },
    });
    try {
      await expectError(stranger.send(new DescribeInstancesCommand({})), "AuthFailure", 401);
    } finally {
      stranger.destroy();
    }
  });
});

Deno.test("a wrong secret fails with SignatureDoesNotMatch (403)", async () => {
  await withEndpoint({}, async (ep) => {
    const wrong = clientFor(ep, {
      credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: "not-the-secret" },
    });
    try {
      await expectError(wrong.send(new DescribeInstancesCommand({})), "SignatureDoesNotMatch", 403);
    } finally {
      wrong.destroy();
    }
  });
});

Deno.test("a body changed after signing fails with SignatureDoesNotMatch", async () => {
  await withEndpoint({}, async (ep) => {
    const response = await rawRequest(ep, DESCRIBE, {
      afterSigning: (request) => {
        request.body = `${DESCRIBE}&MaxResults=5`;
      },
    });
    assert.deepEqual([response.status, response.code], [403, "SignatureDoesNotMatch"]);
  });
});

Deno.test("a credential scoped to another service fails with SignatureDoesNotMatch", async () => {
  await withEndpoint({}, async (ep) => {
    const response = await rawRequest(ep, DESCRIBE, { sign: { service: "s3" } });
    assert.deepEqual([response.status, response.code], [403, "SignatureDoesNotMatch"]);
  });
});

Deno.test("an X-Amz-Date more than 15 minutes off fails with RequestExpired; 14 minutes is fine", async () => {
  await withEndpoint({}, async (ep) => {
    const late = await rawRequest(ep, DESCRIBE, { sign: { at: Date.now() - 16 * 60_000 } });
    assert.deepEqual([late.status, late.code], [400, "RequestExpired"]);
    const early = await rawRequest(ep, DESCRIBE, { sign: { at: Date.now() + 16 * 60_000 } });
    assert.equal(early.code, "RequestExpired");
    const fine = await rawRequest(ep, DESCRIBE, { sign: { at: Date.now() - 14 * 60_000 } });
    assert.equal(fine.status, 200);
  });
});

Deno.test("temporary credentials with a session token are accepted", async () => {
  await withEndpoint({}, async (ep) => {
    const temporary = clientFor(ep, {
      credentials: { ...TEST_CREDENTIALS, sessionToken: "FwoGZXIvYXdzEXAMPLE" },
    });
    try {
      const out = await temporary.send(new DescribeInstancesCommand({}));
      assert.deepEqual(out.Reservations, []);
    } finally {
      temporary.destroy();
    }
  });
});

Deno.test("an endpoint accepts the access keys given in its options", async () => {
  const custom = { accessKeyId: "AKIACUSTOMKEY0000001", secretAccessKey: "custom-secret" };
  await using ep = await startEc2Endpoint({ credentials: [custom] });
  const ok = await rawRequest(ep, DESCRIBE, { sign: custom });
  assert.equal(ok.status, 200);
  const old = await rawRequest(ep, DESCRIBE);
  assert.equal(old.code, "AuthFailure");
});

Deno.test("success and error answers are EC2's XML documents with a request id", async () => {
  await withEndpoint({}, async (ep) => {
    const ok = await rawRequest(ep, DESCRIBE);
    assert.match(
      ok.text,
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<DescribeInstancesResponse xmlns="http:\/\/ec2\.amazonaws\.com\/doc\/2016-11-15\/"><requestId>[0-9a-f-]{36}<\/requestId><reservationSet><\/reservationSet><\/DescribeInstancesResponse>$/,
    );
    const bad = await rawRequest(
      ep,
      "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=bogus",
    );
    assert.match(
      bad.text,
      /<Response><Errors><Error><Code>InvalidInstanceID\.Malformed<\/Code><Message>Invalid id: &quot;bogus&quot;[^<]*<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/,
    );
    const call = ep.calls.at(-1)!;
    assert.equal(call.errorCode, "InvalidInstanceID.Malformed");
    assert.ok(bad.text.includes(call.requestId));
  });
});

Deno.test("malformed requests: no Action, an unknown Action, no Version, a broken escape", async () => {
  await withEndpoint({}, async (ep) => {
    const cases: [string, number, string][] = [
      ["Version=2016-11-15", 400, "MissingAction"],
      ["Action=LaunchRockets&Version=2016-11-15", 400, "InvalidAction"],
      ["Action=DescribeInstances", 400, "MissingParameter"],
      [
        "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=%ZZ",
        400,
        "MalformedQueryString",
      ],
    ];
    for (const [body, status, code] of cases) {
      const response = await rawRequest(ep, body);
      assert.deepEqual([response.status, response.code], [status, code], body);
    }
    const unknown = await rawRequest(ep, "Action=LaunchRockets&Version=2016-11-15");
    assert.match(unknown.text, /The action LaunchRockets is not valid for this web service\./);
  });
});

Deno.test("a signed GET with the parameters in the query string is answered like a POST", async () => {
  await withEndpoint({}, async (ep) => {
    const response = await rawRequest(ep, DESCRIBE, { method: "GET" });
    assert.equal(response.status, 200);
    assert.match(response.text, /<DescribeInstancesResponse /);
  });
});

Deno.test("the call log records the region, access key, status and error of each request", async () => {
  await withEndpoint({}, async (ep, ec2) => {
    await ec2.send(new DescribeInstancesCommand({}));
    await rawRequest(ep, DESCRIBE, { sign: false });
    const [ok, denied] = ep.calls;
    assert.equal(ok?.action, "DescribeInstances");
    assert.equal(ok?.region, "us-east-1");
    assert.equal(ok?.accessKeyId, TEST_CREDENTIALS.accessKeyId);
    assert.equal(ok?.status, 200);
    assert.equal(ok?.errorCode, undefined);
    assert.equal(ok?.params["Version"], "2016-11-15");
    assert.deepEqual([denied?.status, denied?.errorCode, denied?.region], [
      401,
      "AuthFailure",
      undefined,
    ]);
  });
});
