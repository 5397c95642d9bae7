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

/**
 * Reads length-prefixed frames from a connection, however its bytes arrive.
 */
export class FrameReader {
  readonly #conn: Deno.Conn;
  #buffer = new Uint8Array(0);

  /** @param conn The connection to read. */
  constructor(conn: Deno.Conn) {
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
    const length = new DataView(this.#buffer.buffer, this.#buffer.byteOffset).getUint32(0);
    if (length > MAX_FRAME_BYTES) throw new Error(`frame of ${length} bytes`);
    await this.#fill(4 + length, false);
    const frame = this.#buffer.subarray(4, 4 + length);
    this.#buffer = this.#buffer.slice(4 + length);
    return JSON.parse(new TextDecoder().decode(frame));
  }

  /** Reads until `n` bytes are buffered; false at a clean end when `endOk`. */
  async #fill(n: number, endOk: boolean): Promise<boolean> {
    while (this.#buffer.length < n) {
      const chunk = new Uint8Array(Math.max(64 * 1024, n - this.#buffer.length));
      const read = await this.#conn.read(chunk);
      if (read === null) {
        if (endOk && this.#buffer.length === 0) return false;
        throw new Error("connection ended inside a frame");
      }
      const joined = new Uint8Array(this.#buffer.length + read);
      joined.set(this.#buffer);
      joined.set(chunk.subarray(0, read), this.#buffer.length);
      this.#buffer = joined;
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
export async function writeFrame(conn: Deno.Conn, value: unknown): Promise<void> {
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
