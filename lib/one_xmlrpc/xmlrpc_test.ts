import assert from "node:assert/strict";
import { InvalidInputError } from "../util/errors.ts";
import {
  encodeMethodCall,
  parseMethodResponse,
  XmlRpcClient,
  XmlRpcError,
  XmlRpcFault,
  type XmlRpcValue,
} from "./xmlrpc.ts";

/** A one-shot local server: answers each request with `reply`, records what it received. */
async function serve(
  reply: (request: Request) => Response | Promise<Response>,
): Promise<
  { url: string; received: { method: string; type: string; body: string }[] } & AsyncDisposable
> {
  const received: { method: string; type: string; body: string }[] = [];
  const { promise, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: ({ port }) => resolve(port) },
    async (request) => {
      received.push({
        method: request.method,
        type: request.headers.get("content-type") ?? "",
        body: await request.text(),
      });
      return await reply(request);
    },
  );
  const port = await promise;
  return {
    url: `http://127.0.0.1:${port}/RPC2`,
    received,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function response(value: string): string {
  return `<?xml version="1.0"?>\r\n<methodResponse><params><param><value>${value}</value></param></params></methodResponse>\r\n`;
}

async function rejection(promise: Promise<unknown>): Promise<XmlRpcError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof XmlRpcError, `expected an XmlRpcError, got ${error}`);
    return error;
  }
  assert.fail("the call succeeded");
}

Deno.test("encodeMethodCall() encodes strings (escaped), 32-bit ints, doubles and booleans", () => {
  assert.equal(
    encodeMethodCall("one.vm.info", ["a<b>&c\r", -(2 ** 31), 2 ** 31 - 1, 1.5, false]),
    '<?xml version="1.0"?><methodCall><methodName>one.vm.info</methodName><params>' +
      "<param><value><string>a&lt;b&gt;&amp;c&#13;</string></value></param>" +
      "<param><value><int>-2147483648</int></value></param>" +
      "<param><value><int>2147483647</int></value></param>" +
      "<param><value><double>1.5</double></value></param>" +
      "<param><value><boolean>0</boolean></value></param></params></methodCall>",
  );
});

Deno.test("encodeMethodCall() refuses what XML-RPC cannot carry", () => {
  assert.throws(() => encodeMethodCall("m", [2 ** 31]), /parameter 0 does not fit a 32-bit int/);
  assert.throws(() => encodeMethodCall("m", [1, NaN]), /parameter 1 is not a finite number/);
  assert.throws(() => encodeMethodCall("m", ["a\x00b"]), /parameter 0 contains a character/);
  assert.throws(() => encodeMethodCall("m<x>", []), /Invalid XML-RPC method name/);
});

Deno.test("parseMethodResponse() reads every value type, an untyped value as a string", () => {
  const value = parseMethodResponse(response(
    "<struct><member><name>s</name><value><string> a&amp;b </string></value></member>" +
      "<member><name>plain</name><value>untyped</value></member>" +
      "<member><name>i</name><value><i4>-7</i4></value></member>" +
      "<member><name>i8</name><value><i8>4294967296</i8></value></member>" +
      "<member><name>d</name><value><double>2.5</double></value></member>" +
      "<member><name>b</name><value><boolean>0</boolean></value></member>" +
      "<member><name>n</name><value><nil/></value></member>" +
      "<member><name>t</name><value><dateTime.iso8601>20240101T00:00:00</dateTime.iso8601></value></member>" +
      "<member><name>bytes</name><value><base64>AAH/</base64></value></member>" +
      "<member><name>a</name><value><array><data>\r\n<value><int>1</int></value>\r\n</data></array></value></member>" +
      "<member><name>__proto__</name><value><int>2</int></value></member>" +
      "</struct>",
  ));
  assert.ok(value.ok);
  const struct = value.value as Record<string, XmlRpcValue>;
  const { bytes, ...rest } = struct;
  assert.deepEqual(Object.fromEntries(Object.entries(rest).filter(([k]) => k !== "__proto__")), {
    s: " a&b ",
    plain: "untyped",
    i: -7,
    i8: 4294967296,
    d: 2.5,
    b: false,
    n: null,
    t: "20240101T00:00:00",
    a: [1],
  });
  assert.deepEqual(bytes, new Uint8Array([0, 1, 255]));
  assert.equal(Object.getOwnPropertyDescriptor(struct, "__proto__")?.value, 2);
  assert.equal(Object.getPrototypeOf(struct), Object.prototype);
});

Deno.test("parseMethodResponse() reads a fault's code and string", () => {
  assert.deepEqual(
    parseMethodResponse(
      "<methodResponse><fault><value><struct>" +
        "<member><name>faultCode</name><value><int>-506</int></value></member>" +
        "<member><name>faultString</name><value><string>no such method</string></value></member>" +
        "</struct></value></fault></methodResponse>",
    ),
    { ok: false, faultCode: -506, faultString: "no such method" },
  );
});

Deno.test("parseMethodResponse() throws, saying what is wrong, on a document that is not a response", () => {
  const cases: [string, RegExp][] = [
    ["<methodCall/>", /the root element is <methodCall>, not <methodResponse>/],
    [
      "<methodResponse>",
      /Invalid XML at line 1, column 1: element <methodResponse> is never closed/,
    ],
    [
      "<methodResponse></methodResponse>",
      /<methodResponse> must hold exactly one <params> or <fault>/,
    ],
    [response("<boolean>2</boolean>"), /<boolean> is neither 0 nor 1/],
    [response("<int>1.5</int>"), /<int> is not an integer/],
    [response("<double>x</double>"), /<double> is not a number/],
    [response("<float>1</float>"), /unknown value type <float>/],
    [response("<array></array>"), /<array> has no <data>/],
    [response("<int>1</int><int>2</int>"), /<value> must hold exactly one type element/],
    [
      "<methodResponse><fault><value><int>1</int></value></fault></methodResponse>",
      /<fault> lacks an int faultCode and a string faultString/,
    ],
  ];
  for (const [xml, expected] of cases) assert.throws(() => parseMethodResponse(xml), expected, xml);
});

Deno.test("XmlRpcClient.call() POSTs the encoded call as text/xml and returns the value", async () => {
  await using server = await serve(() =>
    new Response(response("<array><data><value><boolean>1</boolean></value></data></array>"))
  );
  const client = new XmlRpcClient(server.url, { label: "oned" });
  assert.deepEqual(await client.call("one.vm.info", ["u:p", 7]), [true]);
  assert.deepEqual(server.received, [{
    method: "POST",
    type: "text/xml",
    body: encodeMethodCall("one.vm.info", ["u:p", 7]),
  }]);
});

Deno.test("XmlRpcClient.call() fails naming the server on a fault, an HTTP error or a non-XML-RPC answer", async () => {
  let reply = () => new Response("", { status: 500, statusText: "Internal Server Error" });
  await using server = await serve(() => reply());
  const client = new XmlRpcClient(server.url, { label: "oned" });

  let error = await rejection(client.call("one.vm.info", []));
  assert.equal(error.code, "HttpStatus");
  assert.equal(
    error.message,
    `oned at ${server.url} answered one.vm.info with HTTP 500 Internal Server Error`,
  );

  reply = () =>
    new Response(
      "<methodResponse><fault><value><struct><member><name>faultCode</name><value><i4>-501</i4></value></member>" +
        "<member><name>faultString</name><value>Type mismatch</value></member></struct></value></fault></methodResponse>",
    );
  error = await rejection(client.call("one.vm.info", []));
  assert.equal(error.code, "Fault");
  assert.equal(
    error.message,
    `oned at ${server.url} answered one.vm.info with fault -501: Type mismatch`,
  );
  // The fault's own code and text, for telling a timeout (-505) from an unknown method (-506).
  assert.ok(error instanceof XmlRpcFault);
  assert.deepEqual([error.faultCode, error.faultString], [-501, "Type mismatch"]);

  reply = () => new Response("<html><body>Welcome</body></html>");
  error = await rejection(client.call("one.vm.info", []));
  assert.equal(error.code, "InvalidResponse");
  assert.equal(
    error.message,
    `oned at ${server.url} answered one.vm.info with something that is not an XML-RPC response: the root element is <html>, not <methodResponse>`,
  );
});

Deno.test("XmlRpcClient.call() does not follow a redirect: the server it names gets nothing (the call carries credentials) and the call fails saying where it was sent", async () => {
  await using elsewhere = await serve(() =>
    new Response(response("<array><data><value><boolean>1</boolean></value></data></array>"))
  );
  let status = 302;
  await using server = await serve(() =>
    new Response(null, { status, headers: { location: `${elsewhere.url}?moved=1` } })
  );
  const client = new XmlRpcClient(server.url, { label: "the partner cloud" });
  for (
    const [code, text] of [[302, "Found"], [307, "Temporary Redirect"], [
      308,
      "Permanent Redirect",
    ]] as const
  ) {
    status = code;
    const error = await rejection(client.call("one.user.info", ["partner:s3cret", -1]));
    assert.equal(error.code, "Redirect");
    assert.equal(
      error.message,
      `the partner cloud at ${server.url} answered one.user.info with HTTP ${code} ${text}, a redirect to ${elsewhere.url}, which is not followed: calls carry credentials and go only to the URL configured`,
    );
  }
  assert.equal(server.received.length, 3);
  assert.deepEqual(elsewhere.received, [], "the server redirected to got no request");
});

Deno.test("XmlRpcClient.call() fails on an answer over its size cap, declared or streamed", async () => {
  const big = response(`<string>${"x".repeat(500)}</string>`);
  let chunked = false;
  await using server = await serve(() =>
    chunked ? new Response(ReadableStream.from([new TextEncoder().encode(big)])) : new Response(big)
  );
  const client = new XmlRpcClient(server.url, { maxResponseBytes: 200 });
  const declared = await rejection(client.call("m", []));
  assert.equal(declared.code, "TooLarge");
  assert.equal(
    declared.message,
    `the XML-RPC server at ${server.url} answered m with more than 200 bytes`,
  );
  chunked = true;
  assert.equal((await rejection(client.call("m", []))).message, declared.message);
  assert.equal(typeof (await new XmlRpcClient(server.url).call("m", [])), "string");
});

Deno.test("XmlRpcClient.call() fails within its time limit when the server does not answer", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  await using server = await serve(async () => {
    await released;
    return new Response("late");
  });
  const client = new XmlRpcClient(server.url, { label: "oned", timeoutMs: 300 });
  const started = performance.now();
  const error = await rejection(client.call("one.vm.info", []));
  release();
  assert.equal(error.code, "Timeout");
  assert.equal(error.message, `oned at ${server.url} did not answer one.vm.info within 0.3 s`);
  assert.ok(performance.now() - started < 5_000, "gives up well before 5 s");
});

Deno.test("XmlRpcClient.call() fails with the network's reason when nothing listens", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  const url = `http://127.0.0.1:${port}/RPC2`;
  const error = await rejection(new XmlRpcClient(url, { label: "oned" }).call("one.vm.info", []));
  assert.equal(error.code, "Unreachable");
  assert.equal(
    error.message,
    `oned at ${url} cannot be reached: Connection refused (os error 111)`,
  );
});

Deno.test("new XmlRpcClient() refuses an endpoint that is not an http(s) URL", () => {
  for (const url of ["localhost:2633/RPC2", "ftp://host/RPC2", ""]) {
    assert.throws(
      () => new XmlRpcClient(url, { label: "oned" }),
      (e: unknown) =>
        e instanceof InvalidInputError &&
        e.message ===
          `The endpoint of oned is not an http:// or https:// URL: ${JSON.stringify(url)}`,
    );
  }
});
