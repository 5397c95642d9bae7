/** The raw HTTP/1.1 test server: answers, keep-alive, bodies, and connections closed on purpose. */

import assert from "node:assert/strict";
import { CLOSE_BEFORE_ANSWER, serveRaw } from "./raw_http.ts";

/** Writes raw bytes on a new connection and reads all that comes back until the server closes. */
async function exchange(port: number, text: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(text));
    let received = "";
    const chunk = new Uint8Array(4096);
    for (let n = await conn.read(chunk); n !== null; n = await conn.read(chunk)) {
      received += new TextDecoder().decode(chunk.subarray(0, n));
    }
    return received;
  } finally {
    conn.close();
  }
}

Deno.test("requests on one kept-alive connection are answered in turn, bodies by length or chunks", async () => {
  await using server = serveRaw(async (request) =>
    new Response(`${request.method} ${new URL(request.url).pathname} ${await request.text()}`, {
      headers: { "x-seen": "1" },
    })
  );
  const received = await exchange(
    server.port,
    "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" +
      "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n" +
      "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  const answers = received.split(/(?=HTTP\/1\.1 )/);
  assert.equal(answers.length, 3, received);
  assert.match(answers[0]!, /^HTTP\/1\.1 200 OK\r\n.*x-seen: 1\r\n.*\r\n\r\nPOST \/a abc$/s);
  assert.match(answers[1]!, /\r\n\r\nPOST \/b def$/);
  assert.match(answers[2]!, /connection: close\r\n\r\nGET \/c $/);
  assert.equal(server.requests, 3);
});

Deno.test("fetch gets the answer, status and headers", async () => {
  await using server = serveRaw(() => new Response("<x/>", { status: 503 }));
  const response = await fetch(`${server.url}/`, { method: "POST", body: "Action=Test" });
  assert.equal(response.status, 503);
  assert.equal(await response.text(), "<x/>");
});

Deno.test("a connection closed before the answer carries not one byte back, the request read", async () => {
  await using server = serveRaw(() => CLOSE_BEFORE_ANSWER);
  const received = await exchange(server.port, "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
  assert.equal(received, "");
  assert.equal(server.requests, 1);
});

Deno.test("a cut answer announces its whole length and sends half the body", async () => {
  await using server = serveRaw(() => ({
    close: "mid-answer",
    response: new Response("abcdefgh"),
  }));
  const received = await exchange(server.port, "GET / HTTP/1.1\r\n\r\n");
  assert.match(received, /^HTTP\/1\.1 200 OK\r\n.*content-length: 8\r\n.*\r\n\r\nabcd$/s);
});

Deno.test("closing waits for the request in progress and ends idle connections", async () => {
  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  const server = serveRaw(async () => {
    await held;
    return new Response("late");
  });
  const idle = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const busy = exchange(server.port, "GET / HTTP/1.1\r\n\r\n");
  while (server.requests === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const closed = server.close();
  release();
  await closed;
  assert.match(await busy, /connection: close\r\n\r\nlate$/);
  assert.equal(await idle.read(new Uint8Array(1)), null);
  idle.close();
});
