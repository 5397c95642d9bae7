/**
 * The built actions against endpoints that are not EC2, or not only EC2: a silent one, proxies
 * and portals answering something else, and one whose error messages echo the caller's secrets.
 * Each is a tiny raw HTTP server on 127.0.0.1 written here; exit code, stdout and stderr are
 * checked exactly.
 */

import assert from "node:assert/strict";
import { actionData, vmDeployment } from "./deployments.ts";
import {
  type ActionResult,
  fenced,
  oneBase64,
  runAction,
  runSdkScript,
  writeLocalConfig,
} from "./harness.ts";
import { writeDeployment } from "./deployments.ts";

const HOST = "aws-test";
const ID = "i-0123456789abcdef0";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
const TOKEN = "FwoGZXIvYXdzEXAMPLEsessionTOKENvalue0123456789";

const tmp = await Deno.makeTempDir({ prefix: "hybrid-endpoint-failures-" });
const home = `${tmp}/home`;
await Deno.mkdir(home);
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

/** A raw HTTP server: answers each request with `answer(request)`, or never when it is null. */
interface RawEndpoint extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Requests received so far. */
  readonly requests: string[];
  /** Times a client hung up on a request left unanswered. */
  readonly hangUps: () => number;
}

/** Starts a raw endpoint on 127.0.0.1. */
function rawEndpoint(answer: (request: string) => string | null): RawEndpoint {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const requests: string[] = [];
  let hangUps = 0;
  const serve = async (conn: Deno.Conn) => {
    open.add(conn);
    try {
      const request = await readRequest(conn);
      if (request === undefined) return;
      requests.push(request);
      const response = answer(request);
      if (response === null) {
        // Silent: hold the connection, reading until the client gives up on it.
        while (await conn.read(new Uint8Array(1024)) !== null);
        hangUps++;
        return;
      }
      const bytes = new TextEncoder().encode(response);
      for (let offset = 0; offset < bytes.length;) {
        offset += await conn.write(bytes.subarray(offset));
      }
    } catch {
      // The client went away; nothing to do.
    } finally {
      open.delete(conn);
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  };
  const accepting = (async () => {
    const serving: Promise<void>[] = [];
    try {
      for await (const conn of listener) serving.push(serve(conn));
    } catch {
      // The listener was closed.
    }
    await Promise.all(serving);
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    requests,
    hangUps: () => hangUps,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of open) conn.close();
      open.clear();
      await accepting;
    },
  };
}

/** Reads one HTTP request (headers and a Content-Length body); undefined if the peer left. */
async function readRequest(conn: Deno.Conn): Promise<string | undefined> {
  let text = "";
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(16 * 1024);
  for (;;) {
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? 0);
      if (new TextEncoder().encode(text.slice(end + 4)).length >= length) return text;
    }
    const n = await conn.read(buffer);
    if (n === null) return undefined;
    text += decoder.decode(buffer.subarray(0, n), { stream: true });
  }
}

/** An HTTP/1.1 response with a body. */
function http(status: string, contentType: string, body: string): string {
  const length = new TextEncoder().encode(body).length;
  return `HTTP/1.1 ${status}\r\nContent-Type: ${contentType}\r\nContent-Length: ${length}\r\n` +
    `Connection: close\r\n\r\n${body}`;
}

/** The EC2 action a request asks for. */
function actionIn(request: string): string {
  return /\r\n\r\nAction=([A-Za-z]+)/.exec(request)?.[1] ?? "?";
}

/**
 * Writes a configuration for one endpoint; `keys` false leaves credentials to the SDK chain;
 * `actionTimeoutSeconds` bounds the retries of an endpoint that keeps failing.
 */
function writeConfig(
  name: string,
  url: string,
  keys: boolean,
  actionTimeoutSeconds?: number,
): Promise<string> {
  const path = `${tmp}/${name}.json`;
  const timeouts = actionTimeoutSeconds === undefined
    ? {}
    : { actionTimeoutSeconds, stateWaitSeconds: actionTimeoutSeconds - 10 };
  if (keys) {
    return writeLocalConfig(path, url, { accessKeyId: "AKIDEXAMPLE", secretAccessKey: SECRET }, {
      defaults: { sessionToken: TOKEN, notFoundRetrySeconds: 1, ...timeouts },
    });
  }
  return Deno.writeTextFile(
    path,
    JSON.stringify({ defaults: { region: "us-east-1", endpoint: url, notFoundRetrySeconds: 1 } }),
  ).then(() => path);
}

/** The actions under test, each as oned runs it, with the line its failure starts with. */
const ACTIONS: {
  name: string;
  doing: string;
  call: string;
  run(env: Record<string, string>): Promise<ActionResult>;
}[] = [
  {
    name: "poll",
    doing: "Cannot list the instances",
    call: "DescribeInstances",
    // Long after the deploy: an unknown id would be reported as gone, so only EC2 may say so.
    run: (env) =>
      runAction("poll", [ID, HOST, "7", HOST], {
        stdin: oneBase64(actionData(7, HOST, ID, { stime: Math.floor(Date.now() / 1000) - 3600 })),
        env,
      }),
  },
  {
    name: "shutdown",
    doing: `Cannot terminate ${ID}`,
    call: "TerminateInstances",
    run: (env) =>
      runAction("shutdown", [ID, HOST, "7", HOST], {
        stdin: oneBase64(actionData(7, HOST, ID, { lcmState: 12 })),
        env,
      }),
  },
  {
    name: "cancel",
    doing: `Cannot terminate ${ID}`,
    call: "TerminateInstances",
    run: (env) =>
      runAction("cancel", [ID, HOST, "7", HOST], {
        stdin: oneBase64(actionData(7, HOST, ID, { lcmState: 13 })),
        env,
      }),
  },
  {
    name: "reboot",
    doing: `Cannot reboot ${ID}`,
    call: "RebootInstances",
    run: (env) => runAction("reboot", [ID, HOST, "7", HOST], { env }),
  },
  {
    name: "deploy",
    doing: "Cannot launch instance",
    call: "DescribeInstances",
    run: async (env) => {
      const xml = vmDeployment(8, { AMI: "ami-0123456789abcdef0", INSTANCETYPE: "t3.micro" });
      const path = await writeDeployment(tmp, 8, xml);
      return runAction("deploy", [path, HOST, "8", HOST], { stdin: oneBase64(xml), env });
    },
  },
];

/** Asserts the one failure line, on stdout and fenced on stderr, with exit code 1. */
function assertFails(result: ActionResult, line: string): void {
  assert.deepEqual(result, { code: 1, stdout: `${line}\n`, stderr: fenced(line) });
}

/** The attempts a failure line names (one when it names none), and the line without them. */
function attemptsIn(line: string): { line: string; attempts: number } {
  const match = / \((\d+) attempts in \d+\.\d s\)$/.exec(line);
  if (!match) return { line, attempts: 1 };
  return { line: line.slice(0, match.index), attempts: Number(match[1]) };
}

const NOT_EC2: {
  kind: string;
  answer: (action: string) => string;
  problem: string;
  /** Whether it is asked again (a server error, a cut answer) until the deadline is near. */
  retried: boolean;
}[] = [
  {
    kind: "an empty HTTP 200",
    answer: () => http("200 OK", "text/xml", ""),
    problem: "got HTTP 200 with an empty body, not an EC2 answer",
    retried: false,
  },
  {
    kind: "a proxy's HTML 502 page",
    answer: () =>
      http(
        "502 Bad Gateway",
        "text/html; charset=utf-8",
        "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1>\n<p>Deserialization error $response</p></body></html>",
      ),
    problem: "got HTTP 502 (text/html), not an EC2 answer",
    retried: true,
  },
  {
    kind: "a captive portal's unrelated XML 200",
    answer: () =>
      http(
        "200 OK",
        "application/xml",
        '<?xml version="1.0"?>\n<WISPAccessGatewayParam><Redirect><LoginURL>http://portal/</LoginURL></Redirect></WISPAccessGatewayParam>',
      ),
    problem: "got HTTP 200 (application/xml), not an EC2 answer",
    retried: false,
  },
  {
    kind: "EC2's answer cut short",
    answer: (action) =>
      http(
        "200 OK",
        "text/xml;charset=UTF-8",
        `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>0f1e2d3c-aaaa-bbbb-cccc-000000000000</requestId><instancesSet><item>`,
      ),
    problem: "got HTTP 200 with an incomplete {action}Response, not a whole EC2 answer",
    retried: true,
  },
];

for (const { kind, answer, problem } of NOT_EC2.filter((n) => !n.retried)) {
  Deno.test(`an endpoint answering ${kind} fails poll, shutdown, cancel, reboot and deploy at once, naming call and endpoint`, async () => {
    await using ep = rawEndpoint((request) => answer(actionIn(request)));
    const env = { HOME: home, HYBRID_DRIVER_CONFIG: await writeConfig("not-ec2", ep.url, true) };
    for (const action of ACTIONS) {
      ep.requests.length = 0;
      const result = await action.run(env);
      assertFails(
        result,
        `${action.doing}: ${action.call} to ${ep.url} ${problem.replace("{action}", action.call)}`,
      );
      assert.deepEqual(ep.requests.map(actionIn), [action.call], action.name);
    }
  });
}

for (const { kind, answer, problem } of NOT_EC2.filter((n) => n.retried)) {
  Deno.test(`an endpoint answering ${kind} is asked again until the deadline is near, then poll, shutdown, cancel, reboot and deploy fail naming call, endpoint and attempts`, async () => {
    await Promise.all(ACTIONS.map(async (action) => {
      await using ep = rawEndpoint((request) => answer(actionIn(request)));
      const env = {
        HOME: home,
        HYBRID_DRIVER_CONFIG: await writeConfig(`retried-${action.name}`, ep.url, true, 15),
      };
      const result = await action.run(env);
      assert.equal(result.code, 1, action.name);
      const { line, attempts } = attemptsIn(result.stdout.trimEnd());
      assert.equal(
        line,
        `${action.doing}: ${action.call} to ${ep.url} ${problem.replace("{action}", action.call)}`,
      );
      assert.equal(result.stderr, fenced(result.stdout.trimEnd()));
      assert.ok(attempts >= 2, `${action.name} asked again`);
      assert.equal(
        ep.requests.map(actionIn).filter((call) => call === action.call).length,
        attempts,
        `${action.name}: requests seen = attempts made`,
      );
    }));
  });
}

Deno.test("a well-formed DescribeInstances answer that leaves the instance out is not taken as gone", async () => {
  await using ep = rawEndpoint(() =>
    http(
      "200 OK",
      "text/xml;charset=UTF-8",
      '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet/></DescribeInstancesResponse>',
    )
  );
  const env = { HOME: home, HYBRID_DRIVER_CONFIG: await writeConfig("empty-set", ep.url, true) };
  assertFails(
    await ACTIONS[0]!.run(env),
    `Cannot describe ${ID}: DescribeInstances answered without it and without InvalidInstanceID.NotFound; not taken as gone`,
  );
});

Deno.test("a silent endpoint fails every action before its deadline, naming call, endpoint and attempts", async () => {
  await using ep = rawEndpoint(() => null);
  const env = { HOME: home, HYBRID_DRIVER_CONFIG: await writeConfig("silent", ep.url, true, 15) };
  const results = await Promise.all(ACTIONS.map((action) => action.run(env)));
  ACTIONS.forEach((action, i) => {
    const result = results[i]!;
    assert.equal(result.code, 1, action.name);
    const { line } = attemptsIn(result.stdout.trimEnd());
    assert.match(
      line,
      new RegExp(
        `^${
          escape(`${action.doing}: ${action.call} to ${ep.url} got no answer within `)
        }\\d+(\\.\\d+)? s$`,
      ),
    );
  });
});

Deno.test("the host's action timeout bounds a call's retries: the last attempt gets what is left, and requests seen = attempts made", async () => {
  await using ep = rawEndpoint(() => null);
  const env = {
    HOME: home,
    HYBRID_DRIVER_CONFIG: await writeConfig("silent-15s", ep.url, true, 15),
  };
  const result = await ACTIONS[0]!.run(env);
  const { line, attempts } = attemptsIn(result.stdout.trimEnd());
  assert.match(
    line,
    new RegExp(
      `^Cannot list the instances: DescribeInstances to ${
        escape(ep.url)
      } got no answer within 2\\.\\d+ s$`,
    ),
  );
  // One attempt of 10 s, then one of what is left of the 13 s (15 s, less 2 s to report).
  assert.equal(attempts, 2);
  assert.equal(ep.requests.length, 2);
});

/** A string as a literal part of a regular expression. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

Deno.test("an aborted signal ends the EC2 call in flight at once and sends no other", async () => {
  const marker = `${tmp}/request-seen`;
  await using ep = rawEndpoint(() => {
    Deno.writeTextFileSync(marker, "");
    return null;
  });
  const printed = await runSdkScript("abort_call.ts", [ep.url, marker], home);
  const result = JSON.parse(printed);
  assert.notEqual(result.first, "answered");
  // An attempt lasts up to 10 s; the abort ends it at once.
  assert.ok(result.seconds < 3, `the call ended ${result.seconds} s after the abort`);
  assert.equal(result.second, "time is up");
  assert.equal(ep.requests.length, 1);
  assert.equal(ep.hangUps(), 1);
});

/** An endpoint whose AuthFailure message echoes the secret key it knows and the token it got. */
function echoingEndpoint(): RawEndpoint {
  return rawEndpoint((request) => {
    const token = /\r\nx-amz-security-token:\s*([^\r]*)/i.exec(request)?.[1] ?? "none";
    return http(
      "401 Unauthorized",
      "text/xml;charset=UTF-8",
      `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>AuthFailure</Code><Message>Key ${SECRET} with token ${token} was not accepted</Message></Error></Errors><RequestID>0f1e2d3c-aaaa-bbbb-cccc-000000000000</RequestID></Response>`,
    );
  });
}

const ECHOED =
  `Cannot list the instances: AuthFailure: Key *** with token *** was not accepted (host ${HOST}, region us-east-1)`;

/** Runs poll against an echoing endpoint and checks that neither secret came through. */
async function assertPollRedacted(env: Record<string, string>, ep: RawEndpoint): Promise<void> {
  const result = await ACTIONS[0]!.run(env);
  assert.equal(ep.requests.length, 1);
  assert.match(ep.requests[0]!, new RegExp(`\r\nx-amz-security-token: ${TOKEN}\r\n`, "i"));
  assertFails(result, ECHOED);
}

Deno.test("secrets from the configuration file never reach the output, even when EC2 echoes them", async () => {
  await using ep = echoingEndpoint();
  const env = { HOME: home, HYBRID_DRIVER_CONFIG: await writeConfig("echo-config", ep.url, true) };
  await assertPollRedacted(env, ep);
});

Deno.test("secrets from AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN never reach the output", async () => {
  await using ep = echoingEndpoint();
  await assertPollRedacted({
    HOME: home,
    HYBRID_DRIVER_CONFIG: await writeConfig("echo-env", ep.url, false),
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: SECRET,
    AWS_SESSION_TOKEN: TOKEN,
  }, ep);
});

Deno.test("secrets from the shared credentials file never reach the output", async () => {
  await using ep = echoingEndpoint();
  const profileHome = `${tmp}/profile-home`;
  await Deno.mkdir(`${profileHome}/.aws`, { recursive: true });
  await Deno.writeTextFile(
    `${profileHome}/.aws/credentials`,
    `[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = ${SECRET}\naws_session_token = ${TOKEN}\n`,
  );
  await assertPollRedacted({
    HOME: profileHome,
    HYBRID_DRIVER_CONFIG: await writeConfig("echo-profile", ep.url, false),
  }, ep);
});
