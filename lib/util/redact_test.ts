import assert from "node:assert/strict";
import { addSecret, redact } from "./redact.ts";

Deno.test("redact() replaces every occurrence of a secret, not only the first", () => {
  addSecret("Twice-s3cret-value");
  assert.equal(
    redact("sent Twice-s3cret-value, answered: bad session Twice-s3cret-value"),
    "sent ***, answered: bad session ***",
  );
});

Deno.test("redact() leaves values shorter than 4 characters alone", () => {
  addSecret("abc");
  assert.equal(redact("abc abcd"), "abc abcd");
});
