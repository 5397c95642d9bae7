import assert from "node:assert/strict";
import { type ByteSource, FrameReader, writeFrame } from "./driver_wire.ts";

/** The bytes `writeFrame` sends for some values. */
async function framed(values: unknown[]): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const sink = { write: (p: Uint8Array) => (chunks.push(p.slice()), Promise.resolve(p.length)) };
  for (const value of values) await writeFrame(sink, value);
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) (all.set(chunk, at), at += chunk.length);
  return all;
}

/** A source that hands out the bytes in pieces of the given sizes, in turn. */
function pieces(bytes: Uint8Array, sizes: number[]): ByteSource {
  let at = 0;
  let turn = 0;
  return {
    read(p) {
      if (at >= bytes.length) return Promise.resolve(null);
      const n = Math.min(p.length, sizes[turn++ % sizes.length]!, bytes.length - at);
      p.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
  };
}

Deno.test("frames come out whole however the bytes arrive: split, coalesced, or 9 MB at once", async () => {
  const big = { text: "x".repeat(9 * 1024 * 1024) };
  const values = [{ action: "poll", argv: ["i-1", "é"] }, big, { code: 1, stdout: "", stderr: "" }];
  const bytes = await framed(values);
  for (const sizes of [[1], [3, 7], [bytes.length], [65_536, 5]]) {
    const reader = new FrameReader(pieces(bytes, sizes));
    for (const value of values) assert.deepEqual(await reader.next(), value);
    assert.equal(await reader.next(), null, "a clean end between frames");
  }
});

Deno.test("a connection that ends inside a frame is an error, not a frame", async () => {
  const bytes = await framed([{ action: "deploy", argv: [] }]);
  const reader = new FrameReader(pieces(bytes.subarray(0, bytes.length - 2), [4]));
  await assert.rejects(() => reader.next(), /ended inside a frame/);
});
