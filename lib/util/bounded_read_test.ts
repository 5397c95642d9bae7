import assert from "node:assert/strict";
import { readBoundedText, readToLimit } from "./bounded_read.ts";
import { InputLimitError } from "./file_errors.ts";

Deno.test("readBoundedText() reads a file of exactly the limit and refuses one byte more", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, "é".repeat(50_000));
    assert.equal(await readBoundedText(path, 100_000), "é".repeat(50_000));
    await assert.rejects(
      readBoundedText(path, 99_999),
      new InputLimitError("larger than the 99999 bytes limit"),
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readBoundedText() stops reading an endless device at the limit", async () => {
  await assert.rejects(
    readBoundedText("/dev/zero", 4 * 1024 * 1024),
    new InputLimitError("larger than the 4 MiB limit"),
  );
});

Deno.test("readBoundedText() lets the runtime's own errors through", async () => {
  await assert.rejects(readBoundedText("/nonexistent/file", 10), Deno.errors.NotFound);
});

Deno.test({
  name: "readBoundedText() gives up on a pipe that never ends",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const fifo = `${dir}/fifo`;
    try {
      const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
      assert.ok(made.success);
      const started = Date.now();
      await assert.rejects(
        readBoundedText(fifo, 10, 0.3),
        new InputLimitError("it did not end within 0.3 s"),
      );
      assert.ok(Date.now() - started < 5_000);
      // Unblock the reader's open, which the runtime cannot cancel.
      (await Deno.open(fifo, { write: true })).close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("readToLimit() keeps only what it reads, however small the pieces", async () => {
  let left = 1000;
  const reader = {
    read(p: Uint8Array): Promise<number | null> {
      if (left === 0) return Promise.resolve(null);
      p[0] = 0x61;
      left--;
      return Promise.resolve(1);
    },
  };
  assert.equal(await readToLimit(reader, 1000), "a".repeat(1000));
});
