/**
 * A small HTTP/1.1 server on a plain TCP listener (127.0.0.1 only), for the test servers that
 * must do what `Deno.serve` cannot: read a request and close the connection without writing
 * a single byte of an answer (a call applied whose answer is lost: the client learns nothing
 * but "connection closed", and a client that resends it silently does so where a test can see
 * it), or write the head and part of the body and then close. It reads keep-alive requests
 * with a `Content-Length` or chunked body (and answers `Expect: 100-continue`), and writes
 * each answer whole with a `Content-Length`.
 *
 * ```ts ignore
 * await using server = serveRaw((request) =>
 *   new URL(request.url).pathname === "/lost" ? CLOSE_BEFORE_ANSWER : new Response("ok")
 * );
 * ```
 *
 * @module
 */

/** Closes the connection once the request was read, before any byte of an answer. */
export const CLOSE_BEFORE_ANSWER = { close: "before-answer" } as const;

/** Writes the answer's head (announcing its whole length) and half its body, then closes. */
export interface CloseMidAnswer {
  /** What is cut. */
  readonly close: "mid-answer";
  /** The answer whose first half is written. */
  readonly response: Response;
}

/** What a handler answers: a response, or how the connection is closed instead. */
export type RawOutcome = Response | typeof CLOSE_BEFORE_ANSWER | CloseMidAnswer;

/** Answers one request. */
export type RawHandler = (request: Request) => RawOutcome | Promise<RawOutcome>;

/** A running server. */
export interface RawServer extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Requests read whole so far. */
  readonly requests: number;
  /** Stops listening, closes idle connections and waits for the requests in progress. */
  close(): Promise<void>;
}

/** Longest request head read (request line and headers). */
const MAX_HEAD_BYTES = 64 * 1024;
/** Largest request body read. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const CRLF = new Uint8Array([13, 10]);
const HEAD_END = new Uint8Array([13, 10, 13, 10]);
const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  412: "Precondition Failed",
  500: "Internal Server Error",
  503: "Service Unavailable",
};
/** Headers the server writes itself (or that mean nothing once the body is whole). */
const OWN_HEADERS = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

/**
 * Starts a server on 127.0.0.1.
 *
 * @param handler Answers each request.
 * @param options The port; 0 (default) picks a free one.
 * @returns The running server.
 */
export function serveRaw(handler: RawHandler, options: { port?: number } = {}): RawServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: options.port ?? 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const idle = new Set<Deno.Conn>();
  const open = new Set<Promise<void>>();
  let requests = 0;
  let closing = false;
  const context: ConnectionContext = {
    handler,
    port,
    idle,
    closing: () => closing,
    counted: () => requests++,
  };
  const accepting = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return; // closed
      }
      const served = serveConnection(conn, context).finally(() => open.delete(served));
      open.add(served);
    }
  })();
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      closing = true;
      listener.close();
      await accepting;
      for (const conn of idle) closeQuietly(conn);
      await Promise.all(open);
    })();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get requests() {
      return requests;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

interface ConnectionContext {
  readonly handler: RawHandler;
  readonly port: number;
  /** Connections waiting for their next request. */
  readonly idle: Set<Deno.Conn>;
  readonly closing: () => boolean;
  readonly counted: () => void;
}

async function serveConnection(conn: Deno.Conn, context: ConnectionContext): Promise<void> {
  const reader = new ConnReader(conn);
  try {
    while (!context.closing()) {
      context.idle.add(conn);
      const head = await reader.readUntil(HEAD_END, MAX_HEAD_BYTES);
      context.idle.delete(conn);
      if (head === undefined) return;
      const parsed = parseHead(new TextDecoder().decode(head), context.port);
      if (!parsed) {
        await writeAll(conn, headOf(new Response(null, { status: 400 }), 0, false));
        return;
      }
      if (parsed.headers.get("expect")?.toLowerCase() === "100-continue") {
        await writeAll(conn, new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n"));
      }
      const body = await readBody(reader, parsed.headers);
      if (body === undefined) return;
      context.counted();
      const request = new Request(parsed.url, {
        method: parsed.method,
        headers: parsed.headers,
        ...(parsed.method === "GET" || parsed.method === "HEAD" ? {} : { body }),
      });
      let outcome: RawOutcome;
      try {
        outcome = await context.handler(request);
      } catch (error) {
        console.error("raw_http: handler failed:", error);
        outcome = new Response("Internal Server Error", { status: 500 });
      }
      if (!(outcome instanceof Response)) {
        if (outcome.close === "mid-answer") {
          const bytes = await answer(outcome.response, parsed.method, true);
          await writeAll(conn, bytes.head);
          await writeAll(conn, bytes.body.subarray(0, Math.floor(bytes.body.length / 2)));
        }
        return;
      }
      const keepAlive = parsed.keepAlive && !context.closing();
      const bytes = await answer(outcome, parsed.method, keepAlive);
      await writeAll(conn, concat(bytes.head, bytes.body));
      if (!keepAlive) return;
    }
  } catch {
    // The client went away, or sent something unreadable: the connection ends.
  } finally {
    context.idle.delete(conn);
    closeQuietly(conn);
  }
}

interface ParsedHead {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly keepAlive: boolean;
}

function parseHead(text: string, port: number): ParsedHead | undefined {
  const lines = text.split("\r\n");
  const match = /^([A-Z]+) (\S+) HTTP\/1\.([01])$/.exec(lines.shift() ?? "");
  if (!match) return undefined;
  const [, method, target, minor] = match;
  const headers = new Headers();
  try {
    for (const line of lines) {
      if (line === "") continue;
      const colon = line.indexOf(":");
      if (colon <= 0) return undefined;
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
  } catch {
    return undefined;
  }
  const connection = headers.get("connection")?.toLowerCase() ?? "";
  const keepAlive = minor === "1"
    ? !connection.includes("close")
    : connection.includes("keep-alive");
  const url = /^https?:\/\//.test(target!)
    ? target!
    : `http://${headers.get("host") ?? `127.0.0.1:${port}`}${target}`;
  return { method: method!, url, headers, keepAlive };
}

/** The body announced by the headers; `undefined` when the connection ended first. */
async function readBody(
  reader: ConnReader,
  headers: Headers,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const line = await reader.readUntil(CRLF, 1024);
      if (line === undefined) return undefined;
      const size = parseInt(new TextDecoder().decode(line).split(";")[0]!.trim(), 16);
      if (!Number.isFinite(size) || size < 0 || (total += size) > MAX_BODY_BYTES) {
        throw new Error("bad chunk size");
      }
      if (size === 0) {
        // Trailers, up to the empty line.
        for (;;) {
          const trailer = await reader.readUntil(CRLF, MAX_HEAD_BYTES);
          if (trailer === undefined) return undefined;
          if (trailer.length === 2) return concat(...parts);
        }
      }
      const chunk = await reader.readExactly(size + 2);
      if (chunk === undefined) return undefined;
      parts.push(chunk.subarray(0, size));
    }
  }
  const length = Number(headers.get("content-length") ?? "0");
  if (!Number.isInteger(length) || length < 0 || length > MAX_BODY_BYTES) {
    throw new Error("bad content length");
  }
  return await reader.readExactly(length);
}

async function answer(
  response: Response,
  method: string,
  keepAlive: boolean,
): Promise<{ head: Uint8Array; body: Uint8Array }> {
  const body = method === "HEAD" ? new Uint8Array() : new Uint8Array(await response.arrayBuffer());
  return { head: headOf(response, body.length, keepAlive), body };
}

function headOf(response: Response, length: number, keepAlive: boolean): Uint8Array {
  const reason = response.statusText || REASONS[response.status] || "Status";
  let head = `HTTP/1.1 ${response.status} ${reason}\r\n`;
  for (const [name, value] of response.headers) {
    if (!OWN_HEADERS.has(name)) head += `${name}: ${value}\r\n`;
  }
  head += `content-length: ${length}\r\nconnection: ${keepAlive ? "keep-alive" : "close"}\r\n\r\n`;
  return new TextEncoder().encode(head);
}

/** Buffered reads from a connection. */
class ConnReader {
  #buffer: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  readonly #conn: Deno.Conn;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Bytes up to and including `delimiter`; `undefined` at the end of the stream. */
  async readUntil(
    delimiter: Uint8Array,
    max: number,
  ): Promise<Uint8Array<ArrayBuffer> | undefined> {
    for (;;) {
      const at = indexOf(this.#buffer, delimiter);
      if (at >= 0) return this.#take(at + delimiter.length);
      if (this.#buffer.length > max) throw new Error("line too long");
      if (!await this.#fill()) return undefined;
    }
  }

  /** Exactly `n` bytes; `undefined` when the stream ends first. */
  async readExactly(n: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
    while (this.#buffer.length < n) if (!await this.#fill()) return undefined;
    return this.#take(n);
  }

  #take(n: number): Uint8Array<ArrayBuffer> {
    const taken = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.slice(n);
    return taken;
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(16 * 1024);
    const n = await this.#conn.read(chunk);
    if (n === null) return false;
    this.#buffer = concat(this.#buffer, chunk.subarray(0, n));
    return true;
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
