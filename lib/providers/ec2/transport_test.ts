import assert from "node:assert/strict";
import { TransportError } from "./errors.ts";
import {
  actionOf,
  answerProblem,
  CheckedHandler,
  CLOUDWATCH_ANSWERS,
  endpointOf,
  type HandlerLike,
  jsonAnswerProblem,
  MAX_ANSWER_BYTES,
  type RequestLike,
  type ResponseLike,
} from "./transport.ts";

const REQUEST: RequestLike = {
  protocol: "https:",
  hostname: "ec2.eu-west-1.amazonaws.com",
  path: "/",
  body: "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0",
};
const WHOLE = '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' +
  "<requestId>r</requestId><reservationSet/></DescribeInstancesResponse>\n";
const EC2_ERROR = '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>' +
  "<Code>InvalidInstanceID.NotFound</Code><Message>no</Message></Error></Errors>" +
  "<RequestID>r</RequestID></Response>";

Deno.test("actionOf() reads the action of an EC2 query and nothing else", () => {
  assert.equal(actionOf(REQUEST.body), "DescribeInstances");
  assert.equal(actionOf("Version=2016-11-15&Action=RunInstances"), undefined);
  assert.equal(actionOf(new Uint8Array()), undefined);
});

Deno.test("endpointOf() names scheme, host, port and a path other than /", () => {
  assert.equal(endpointOf(REQUEST), "https://ec2.eu-west-1.amazonaws.com");
  assert.equal(
    endpointOf({ protocol: "http:", hostname: "127.0.0.1", port: 8080, path: "/ec2/" }),
    "http://127.0.0.1:8080/ec2",
  );
});

Deno.test("answerProblem() accepts only the call's own answer, or EC2's error document", () => {
  assert.equal(answerProblem("DescribeInstances", 200, "text/xml", WHOLE), undefined);
  assert.equal(answerProblem("DescribeInstances", 400, "text/xml", EC2_ERROR), undefined);
  assert.equal(answerProblem("DescribeInstances", 503, "", `\uFEFF${EC2_ERROR}\n`), undefined);
  // Another call's answer is not an answer to this one.
  assert.equal(
    answerProblem("TerminateInstances", 200, "text/xml", WHOLE),
    "got HTTP 200 (text/xml), not an EC2 answer",
  );
  // An error document with a success status would read as an empty success.
  assert.equal(
    answerProblem("DescribeInstances", 200, "text/xml", EC2_ERROR),
    "got HTTP 200 (text/xml), not an EC2 answer",
  );
  // A success document with an error status is not EC2's either.
  assert.equal(
    answerProblem("DescribeInstances", 500, "text/xml", WHOLE),
    "got HTTP 500 (text/xml), not an EC2 answer",
  );
  assert.equal(
    answerProblem("DescribeInstances", 200, "text/xml", WHOLE.slice(0, -30)),
    "got HTTP 200 with an incomplete DescribeInstancesResponse, not a whole EC2 answer",
  );
  assert.equal(
    answerProblem("DescribeInstances", 400, "text/xml", EC2_ERROR.slice(0, -5)),
    "got HTTP 400 with an incomplete EC2 error, not a whole EC2 answer",
  );
  assert.equal(
    answerProblem("DescribeInstances", 200, "", " \n"),
    "got HTTP 200 with an empty body, not an EC2 answer",
  );
  // A root that merely starts with the expected name is another element.
  assert.equal(
    answerProblem(
      "DescribeInstances",
      200,
      "",
      "<DescribeInstancesResponseX></DescribeInstancesResponseX>",
    ),
    "got HTTP 200, not an EC2 answer",
  );
});

/** An inner handler answering with a status and a body stream, recording the abort signal. */
function fakeInner(
  answer: (signal: AbortSignal) => Promise<ResponseLike>,
): HandlerLike & { signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  return {
    signals,
    handle(_request, options) {
      const signal = options?.abortSignal as AbortSignal;
      signals.push(signal);
      return answer(signal).then((response) => ({ response }));
    },
  };
}

/** A body stream of chunks, optionally never ending. */
async function* chunks(parts: string[], stall = false): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
  if (stall) await new Promise(() => {});
}

const LIMITS = { requestMs: 50, connectMs: 20 };

Deno.test("CheckedHandler passes EC2's answer on, read whole", async () => {
  const handler = new CheckedHandler(
    fakeInner(() =>
      Promise.resolve({
        statusCode: 200,
        headers: { "Content-Type": "text/xml" },
        body: chunks([WHOLE.slice(0, 40), WHOLE.slice(40)]),
      })
    ),
    LIMITS,
  );
  const { response } = await handler.handle(REQUEST);
  assert.equal(new TextDecoder().decode(response.body as Uint8Array), WHOLE);
});

Deno.test("CheckedHandler aborts an attempt with no answer and says so with call and endpoint", async () => {
  const inner = fakeInner((signal) =>
    new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted"))))
  );
  const error = await new CheckedHandler(inner, LIMITS).handle(REQUEST).then(
    () => assert.fail("no error"),
    (e) => e,
  );
  assert.ok(error instanceof TransportError);
  assert.equal(error.name, "TimeoutError"); // what the SDK's retry strategy retries
  assert.equal(
    error.message,
    "DescribeInstances to https://ec2.eu-west-1.amazonaws.com got no answer within 0.05 s",
  );
  assert.equal(inner.signals[0]?.aborted, true);
});

Deno.test("CheckedHandler times out an answer whose body stalls after the headers", async () => {
  const inner = fakeInner(() =>
    Promise.resolve({ statusCode: 200, headers: {}, body: chunks([WHOLE.slice(0, 40)], true) })
  );
  await assert.rejects(
    new CheckedHandler(inner, LIMITS).handle(REQUEST),
    (e: unknown) => e instanceof TransportError && e.code === "TimeoutError",
  );
  assert.equal(inner.signals[0]?.aborted, true);
});

Deno.test("CheckedHandler refuses an answer over the size cap", async () => {
  const big = "x".repeat(1024 * 1024);
  const inner = fakeInner(() =>
    Promise.resolve({
      statusCode: 200,
      headers: {},
      body: chunks(Array(MAX_ANSWER_BYTES / big.length + 1).fill(big)),
    })
  );
  await assert.rejects(
    new CheckedHandler(inner, { requestMs: 5_000, connectMs: 20 }).handle(REQUEST),
    {
      name: "TransportError",
      message:
        "DescribeInstances to https://ec2.eu-west-1.amazonaws.com got HTTP 200 with an answer over 8 MiB",
    },
  );
});

Deno.test("CheckedHandler marks a non-EC2 answer with its status, so that 5xx are retried", async () => {
  const inner = fakeInner(() =>
    Promise.resolve({ statusCode: 503, headers: { "content-type": "text/html" }, body: "<html/>" })
  );
  const error = await new CheckedHandler(inner, LIMITS).handle(REQUEST).catch((e) => e);
  assert.ok(error instanceof TransportError);
  assert.equal(error.code, "NotAnEc2Answer");
  assert.deepEqual(error.$metadata, { httpStatusCode: 503 });
  assert.equal(error.problem, "got HTTP 503 (text/html), not an EC2 answer");
});

Deno.test("CheckedHandler words network errors and keeps their code for the retry strategy", async () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
    code: "ECONNREFUSED",
  });
  const timedOut = Object.assign(new Error("@smithy/node-http-handler - the request socket..."), {
    name: "TimeoutError",
  });
  const tls = Object.assign(new Error("certificate has expired"), { code: "CERT_HAS_EXPIRED" });
  const cases: [Error, string, string][] = [
    [refused, "ECONNREFUSED", "could not connect: ECONNREFUSED"],
    [timedOut, "TimeoutError", "could not connect within 0.02 s"],
    [tls, "CERT_HAS_EXPIRED", "failed: CERT_HAS_EXPIRED: certificate has expired"],
  ];
  for (const [cause, code, problem] of cases) {
    const error = await new CheckedHandler(fakeInner(() => Promise.reject(cause)), LIMITS)
      .handle(REQUEST).catch((e) => e);
    assert.ok(error instanceof TransportError);
    assert.deepEqual([error.code, error.problem, error.cause], [code, problem, cause]);
  }
});

const CLOUDWATCH_REQUEST: RequestLike = {
  protocol: "https:",
  hostname: "monitoring.eu-west-1.amazonaws.com",
  path: "/",
  headers: { "X-Amz-Target": "GraniteServiceVersion20100801.GetMetricData" },
  body: '{"MetricDataQueries":[]}',
};

Deno.test("CheckedHandler with CloudWatch's checks passes its JSON answer and names the action from x-amz-target", async () => {
  assert.equal(CLOUDWATCH_ANSWERS.actionOf(CLOUDWATCH_REQUEST), "GetMetricData");
  const answer = '{"MetricDataResults":[],"Messages":[]}';
  const ok = new CheckedHandler(
    fakeInner(() => Promise.resolve({ statusCode: 200, headers: {}, body: chunks([answer]) })),
    LIMITS,
    CLOUDWATCH_ANSWERS,
  );
  const { response } = await ok.handle(CLOUDWATCH_REQUEST);
  assert.equal(new TextDecoder().decode(response.body as Uint8Array), answer);
  const portal = new CheckedHandler(
    fakeInner(() =>
      Promise.resolve({
        statusCode: 200,
        headers: { "content-type": "text/html" },
        body: chunks(["<html>Sign in</html>"]),
      })
    ),
    LIMITS,
    CLOUDWATCH_ANSWERS,
  );
  const error = await portal.handle(CLOUDWATCH_REQUEST).catch((e) => e);
  assert.ok(error instanceof TransportError);
  assert.equal(
    error.message,
    "GetMetricData to https://monitoring.eu-west-1.amazonaws.com got HTTP 200 (text/html), not a CloudWatch answer",
  );
});

Deno.test("jsonAnswerProblem() takes an error status only with the service's error document, and a cut one as cut", () => {
  assert.equal(jsonAnswerProblem("CloudWatch", 400, "", '{"__type":"Throttling"}'), undefined);
  assert.equal(
    jsonAnswerProblem("CloudWatch", 502, "application/json", '{"message":"bad gateway"}'),
    "got HTTP 502 (application/json), not a CloudWatch answer",
  );
  assert.equal(
    jsonAnswerProblem("CloudWatch", 200, "", "[]"),
    "got HTTP 200, not a CloudWatch answer",
  );
  assert.match(jsonAnswerProblem("CloudWatch", 200, "", '{"Metric') ?? "", /incomplete/);
});
