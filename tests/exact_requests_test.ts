/**
 * Exactly the requests the driver counts: a raw HTTP server that keeps connections alive, reads
 * each request, and then answers or closes the connection without a byte. Every request the
 * server reads must be an attempt the driver's retry logic made (and noted on its error); no
 * layer below it (the SDK, Deno's `node:http`) may send one again unseen.
 */

import assert from "node:assert/strict";
import { runSdkScript } from "./harness.ts";

const OK_DESCRIBE = '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' +
  "<requestId>r</requestId><reservationSet/></DescribeInstancesResponse>";
const THROTTLED = '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>' +
  "<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors>" +
  "<RequestID>r</RequestID></Response>";
const OK_RUN = '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<RunInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' +
  "<requestId>r</requestId><reservationId>r-1</reservationId><instancesSet><item>" +
  "<instanceId>i-0123456789abcdef0</instanceId><instanceState><code>0</code><name>pending</name>" +
  "</instanceState></item></instancesSet></RunInstancesResponse>";

/** What the server does with the n-th request it reads (from 1): an answer, or `close`. */
type Reply = { status: string; body: string } | "close";

/** A keep-alive HTTP/1.1 server that records the action of every request it reads. */
function keepAliveServer(reply: (n: number, action: string) => Reply) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const actions: string[] = [];
  const conns = new Set<Deno.Conn>();
  const serve = async (conn: Deno.Conn) => {
    conns.add(conn);
    const buffer = new Uint8Array(64 * 1024);
    let text = "";
    try {
      for (;;) {
        const end = text.indexOf("\r\n\r\n");
        const length = Number(/content-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
        if (end < 0 || text.length < end + 4 + length) {
          const n = await conn.read(buffer);
          if (n === null) return;
          text += new TextDecoder().decode(buffer.subarray(0, n));
          continue;
        }
        const body = text.slice(end + 4, end + 4 + length);
        text = text.slice(end + 4 + length);
        const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body)?.[1] ?? "?";
        actions.push(action);
        const answer = reply(actions.length, action);
        if (answer === "close") return;
        const bytes = new TextEncoder().encode(answer.body);
        await conn.write(
          new TextEncoder().encode(
            `HTTP/1.1 ${answer.status}\r\ncontent-type: text/xml;charset=UTF-8\r\n` +
              `content-length: ${bytes.length}\r\nconnection: keep-alive\r\n\r\n`,
          ),
        );
        await conn.write(bytes);
      }
    } catch {
      // The client went away.
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  };
  (async () => {
    for await (const conn of listener) serve(conn);
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    actions,
    [Symbol.dispose]() {
      listener.close();
      for (const conn of conns) conn.close();
    },
  };
}

const home = await Deno.makeTempDir({ prefix: "hybrid-exact-requests-" });
globalThis.addEventListener("unload", () => Deno.removeSync(home, { recursive: true }));

/** What one call of `testdata/ec2_calls.ts` did. */
interface CallOutcome {
  readonly call: string;
  readonly ok: boolean;
  readonly name?: string;
  readonly kind?: string | null;
  readonly attempts?: number | null;
}

/**
 * Makes the calls, in order, in a process of their own through the driver's API, against the
 * server, with an action deadline `seconds` from the start.
 */
async function callsAgainst(
  url: string,
  seconds: number,
  ...calls: string[]
): Promise<CallOutcome[]> {
  const printed = await runSdkScript("ec2_calls.ts", [url, String(seconds), ...calls], home);
  return printed.trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test("a kept-alive connection closed unanswered is sent again only by the driver's retries: requests seen = attempts made", async () => {
  using server = keepAliveServer((n) =>
    n === 1 ? { status: "200 OK", body: OK_DESCRIBE } : "close"
  );
  const [first, second] = await callsAgainst(
    server.url,
    6,
    "describeInstances",
    "describeInstances",
  );
  assert.equal(first?.ok, true);
  assert.equal(second?.ok, false);
  assert.equal(second?.kind, "lost");
  const attempts = second?.attempts ?? 0;
  assert.ok(attempts >= 2, `the call was retried (${attempts})`);
  assert.equal(server.actions.length - 1, attempts);
});

Deno.test("a RunInstances whose connection closes unanswered is sent once: its outcome is unknown, not retried blindly", async () => {
  using server = keepAliveServer((n) =>
    n === 1 ? { status: "200 OK", body: OK_DESCRIBE } : "close"
  );
  const [, run] = await callsAgainst(server.url, 6, "describeInstances", "runInstances");
  assert.equal(run?.kind, "lost");
  assert.deepEqual(server.actions, ["DescribeInstances", "RunInstances"]);
});

Deno.test("a throttled RunInstances is sent again (EC2 did nothing), each sending seen once", async () => {
  using server = keepAliveServer((n) =>
    n <= 2
      ? { status: "503 Service Unavailable", body: THROTTLED }
      : { status: "200 OK", body: OK_RUN }
  );
  assert.deepEqual(await callsAgainst(server.url, 10, "runInstances"), [
    { call: "runInstances", ok: true },
  ]);
  assert.deepEqual(server.actions, ["RunInstances", "RunInstances", "RunInstances"]);
});

Deno.test("throttling alone does not fail a call that still has time: it is asked until the deadline is near", async () => {
  using server = keepAliveServer(() => ({ status: "503 Service Unavailable", body: THROTTLED }));
  const [outcome] = await callsAgainst(server.url, 8, "describeInstances");
  assert.equal(outcome?.name, "RequestLimitExceeded");
  assert.equal(outcome?.attempts, server.actions.length);
  // Pauses of 0.25-0.5, 0.5-1 and 1-2 s fit in the 6 s the deadline leaves: more than the
  // SDK's 3 attempts.
  assert.ok(server.actions.length >= 4, `${server.actions.length} requests`);
});
