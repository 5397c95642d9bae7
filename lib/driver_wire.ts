/**
 * How a driver process and the warm driver server talk over their Unix socket: frames of a
 * 4-byte big-endian length and that many bytes of JSON. The client sends the request
 * (`{action, argv}`), the server acknowledges it once it will run it, the client sends how its
 * standard input ended, and the server replies with the action's output.
 *
 * @module
 */

import type { ActionOutput } from "./action.ts";
import type { StdinOutcome } from "./run_context.ts";

/** The largest frame either side accepts: standard input (8 MiB) as JSON, with room. */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** What a client asks the server to run. */
export interface ServedRequest {
  /** The action's name (`deploy`, `poll`, ...). */
  readonly action: string;
  /** Its arguments. */
  readonly argv: readonly string[];
}

/** The server's acknowledgement: from here on the action runs there, never also in the client. */
export const ACK = { accepted: true } as const;

/** What frames are read from: a connection's `read`. */
export interface ByteSource {
  /** Reads into `p`; the count read, or `null` at the end. */
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * Reads length-prefixed frames from a connection, however its bytes arrive.
 */
export class FrameReader {
  readonly #conn: ByteSource;
  /** Bytes read and not yet returned: `#data[0, #length)`. */
  #data = new Uint8Array(64 * 1024);
  #length = 0;

  /** @param conn The connection to read. */
  constructor(conn: ByteSource) {
    this.#conn = conn;
  }

  /**
   * The next frame's JSON value.
   *
   * @returns The value, or `null` when the connection ended cleanly before a frame.
   * @throws when it ends inside a frame, a frame is too large, or is not JSON.
   */
  async next(): Promise<unknown> {
    if (!await this.#fill(4, true)) return null;
    const length = new DataView(this.#data.buffer).getUint32(0);
    if (length > MAX_FRAME_BYTES) throw new Error(`frame of ${length} bytes`);
    await this.#fill(4 + length, false);
    const value = JSON.parse(new TextDecoder().decode(this.#data.subarray(4, 4 + length)));
    this.#data.copyWithin(0, 4 + length, this.#length);
    this.#length -= 4 + length;
    return value;
  }

  /** Reads until `n` bytes are buffered; false at a clean end when `endOk`. */
  async #fill(n: number, endOk: boolean): Promise<boolean> {
    if (this.#data.length < n) {
      // Grown once to the frame's size: no copy per read, however large the frame.
      const grown = new Uint8Array(n);
      grown.set(this.#data.subarray(0, this.#length));
      this.#data = grown;
    }
    while (this.#length < n) {
      const read = await this.#conn.read(this.#data.subarray(this.#length));
      if (read === null) {
        if (endOk && this.#length === 0) return false;
        throw new Error("connection ended inside a frame");
      }
      this.#length += read;
    }
    return true;
  }
}

/**
 * Writes one frame.
 *
 * @param conn The connection.
 * @param value What to send, as JSON.
 */
export async function writeFrame(
  conn: { write(p: Uint8Array): Promise<number> },
  value: unknown,
): Promise<void> {
  const body = new TextEncoder().encode(JSON.stringify(value));
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  let offset = 0;
  while (offset < frame.length) offset += await conn.write(frame.subarray(offset));
}

const isStrings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === "string");

/**
 * A request as the server received it, checked.
 *
 * @param value The first frame's value.
 * @returns The request, or `undefined` when it is not one.
 */
export function asRequest(value: unknown): ServedRequest | undefined {
  const v = value as Partial<ServedRequest> | null;
  if (typeof v !== "object" || v === null || typeof v.action !== "string") return undefined;
  return isStrings(v.argv) ? { action: v.action, argv: v.argv } : undefined;
}

/**
 * A stdin outcome as the server received it, checked.
 *
 * @param value The second frame's value.
 * @returns The outcome, or `undefined` when it is not one.
 */
export function asStdinOutcome(value: unknown): StdinOutcome | undefined {
  const v = value as { text?: unknown; error?: unknown } | null;
  if (typeof v !== "object" || v === null) return undefined;
  if (typeof v.text === "string") return { text: v.text };
  if (typeof v.error === "string") return { error: v.error };
  return undefined;
}

/**
 * A reply as the client received it, checked.
 *
 * @param value The reply frame's value.
 * @returns The output, or `undefined` when it is not one.
 */
export function asOutput(value: unknown): ActionOutput | undefined {
  const v = value as Partial<ActionOutput> | null;
  if (typeof v !== "object" || v === null || !Number.isInteger(v.code)) return undefined;
  if (typeof v.stdout !== "string" || typeof v.stderr !== "string") return undefined;
  return { code: v.code!, stdout: v.stdout, stderr: v.stderr };
}

/**
 * Whether a frame is the server's acknowledgement.
 *
 * @param value The frame's value.
 * @returns True for {@link ACK}.
 */
export function isAck(value: unknown): boolean {
  return (value as { accepted?: unknown } | null)?.accepted === true;
}
