/**
 * Reads a file with bounds on its size and on the time it takes, so that a device (`/dev/zero`),
 * a pipe that never closes or a huge file fails quickly with a message instead of growing the
 * process until it is killed. Asking the file system for the size is not enough: devices and
 * pipes report none.
 *
 * @module
 */

import { formatBytes, InputLimitError } from "./file_errors.ts";

/** How long reading one input file (or standard input) may take, in seconds. */
export const INPUT_SECONDS = 10;

const CHUNK_BYTES = 64 * 1024;

/**
 * Reads a whole file as UTF-8 text, reading at most `limit + 1` bytes.
 *
 * @param path The file.
 * @param limit The most bytes accepted.
 * @param seconds How long opening and reading may take.
 * @returns The text.
 * @throws {InputLimitError} when the file is larger than `limit` or does not end in time.
 * @throws {Deno.errors.NotFound} (and the runtime's other errors) when it cannot be opened or read.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readBoundedText } from "./bounded_read.ts";
 * import { InputLimitError } from "./file_errors.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "0123456789");
 * assert.equal(await readBoundedText(path, 10), "0123456789");
 * await assert.rejects(readBoundedText(path, 9), InputLimitError);
 * await Deno.remove(path);
 * ```
 */
export async function readBoundedText(
  path: string,
  limit: number,
  seconds: number = INPUT_SECONDS,
): Promise<string> {
  return (await readBoundedFile(path, limit, seconds)).text;
}

/** A file's text and what the open file's `stat` said of it. */
interface BoundedFile {
  /** The whole text. */
  readonly text: string;
  /** The file's permission bits (`0o600`), `null` where the platform has none. */
  readonly mode: number | null;
}

/**
 * Reads a whole file as {@link readBoundedText} does, and also its mode, taken from the file
 * that was opened (not a second look-up of the path, which another file could have replaced).
 *
 * @param path The file.
 * @param limit The most bytes accepted.
 * @param seconds How long opening and reading may take.
 * @returns The text and the permission bits.
 * @throws {InputLimitError} when the file is larger than `limit` or does not end in time.
 * @throws {Deno.errors.NotFound} (and the runtime's other errors) when it cannot be opened or read.
 */
export async function readBoundedFile(
  path: string,
  limit: number,
  seconds: number = INPUT_SECONDS,
): Promise<BoundedFile> {
  let file: Deno.FsFile | undefined;
  let closed = false;
  const work = (async () => {
    const opened = await Deno.open(path);
    if (closed) {
      opened.close();
      throw new Error("opened too late");
    }
    file = opened;
    const { mode } = await opened.stat();
    return { text: await readToLimit(opened, limit), mode: mode === null ? null : mode & 0o7777 };
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new InputLimitError(`it did not end within ${seconds} s`)),
      seconds * 1000,
    );
  });
  // Whichever loses the race must not become an unhandled rejection.
  work.catch(() => {});
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
    closed = true;
    try {
      file?.close();
    } catch {
      // Already closed.
    }
  }
}

/**
 * Reads a reader to its end, keeping at most `limit` bytes.
 *
 * @param reader What to read (`Deno.FsFile`, `Deno.stdin`).
 * @param limit The most bytes accepted.
 * @returns The text, decoded as UTF-8.
 * @throws {InputLimitError} when there are more than `limit` bytes.
 */
export async function readToLimit(
  reader: { read(p: Uint8Array): Promise<number | null> },
  limit: number,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(CHUNK_BYTES);
  let total = 0;
  for (;;) {
    const n = await reader.read(buffer.subarray(0, Math.min(CHUNK_BYTES, limit + 1 - total)));
    if (n === null) break;
    total += n;
    if (total > limit) throw new InputLimitError(`larger than the ${formatBytes(limit)} limit`);
    chunks.push(buffer.slice(0, n));
  }
  return new TextDecoder().decode(joinChunks(chunks, total));
}

/**
 * Collects a stream of chunks (an HTTP body), stopping as soon as it holds more than `limit`
 * bytes; leaving the loop early cancels a web stream, and `onOverflow` can end other kinds.
 *
 * @param source The chunks.
 * @param limit The most bytes accepted.
 * @returns The bytes, or `undefined` when there were more than `limit`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { collectCapped } from "./bounded_read.ts";
 * const body = ReadableStream.from([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * assert.deepEqual(await collectCapped(body, 3), new Uint8Array([1, 2, 3]));
 * assert.equal(await collectCapped(ReadableStream.from([new Uint8Array(4)]), 3), undefined);
 * ```
 */
export async function collectCapped(
  source: AsyncIterable<Uint8Array | string>,
  limit: number,
  onOverflow: () => void = () => {},
): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of source) {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    total += bytes.length;
    if (total > limit) {
      onOverflow();
      return undefined;
    }
    chunks.push(bytes);
  }
  return joinChunks(chunks, total);
}

function joinChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const all = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}
