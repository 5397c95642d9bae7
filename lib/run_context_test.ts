import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { addSecret, redact } from "./redact.ts";
import { findRunsWith, type RunContext } from "./run_context.ts";
import { readStdin } from "./opennebula/stdin.ts";

Deno.test("runs served side by side keep their own secrets and standard input", async () => {
  const storage = new AsyncLocalStorage<RunContext>();
  findRunsWith(() => storage.getStore());
  try {
    const step = () => new Promise((resolve) => setTimeout(resolve, 5));
    const runOf = (secret: string, input: string) =>
      storage.run(
        { secrets: new Set(), stdin: () => Promise.resolve({ text: input }) },
        async () => {
          addSecret(secret);
          await step();
          return { text: await readStdin(), printed: redact("keys: first-secret second-secret") };
        },
      );
    const [first, second] = await Promise.all([
      runOf("first-secret", "<one/>"),
      runOf("second-secret", "<two/>"),
    ]);
    assert.deepEqual(first, { text: "<one/>", printed: "keys: *** second-secret" });
    assert.deepEqual(second, { text: "<two/>", printed: "keys: first-secret ***" });
    assert.equal(redact("first-secret"), "first-secret", "nothing leaked into the process's own");
  } finally {
    findRunsWith(() => undefined);
  }
});
