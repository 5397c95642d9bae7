import assert from "node:assert/strict";
import { encodeValue, formatFailure, oneLine } from "./output.ts";

Deno.test("oneLine() folds line breaks, tabs and runs of blanks", () => {
  assert.equal(
    oneLine("Cannot launch\r\n\tinstance:  InvalidAMIID.NotFound\n"),
    "Cannot launch instance: InvalidAMIID.NotFound",
  );
});

Deno.test("oneLine() cuts overly long text with an ellipsis", () => {
  const line = oneLine("x".repeat(5000));
  assert.equal(line.length, 1000);
  assert.ok(line.endsWith("..."));
});

Deno.test("formatFailure() writes the message to stdout and inside the fence on stderr", () => {
  assert.deepEqual(formatFailure("Cannot poll i-1:\nInvalidInstanceID.NotFound"), {
    stdout: "Cannot poll i-1: InvalidInstanceID.NotFound\n",
    stderr:
      "ERROR MESSAGE --8<------\nCannot poll i-1: InvalidInstanceID.NotFound\nERROR MESSAGE ------>8--\n",
  });
});

Deno.test("formatFailure() never writes an empty message", () => {
  assert.equal(formatFailure("  ").stdout, "Unknown error\n");
});

Deno.test("encodeValue() percent-encodes blanks, quotes, brackets, equals and non-ASCII", () => {
  assert.equal(encodeValue('a b"c[d]=e'), "a%20b%22c%5Bd%5D%3De");
  assert.equal(encodeValue("zürich"), "z%C3%BCrich");
  assert.equal(
    encodeValue("ec2-3-80-1-2.compute-1.amazonaws.com"),
    "ec2-3-80-1-2.compute-1.amazonaws.com",
  );
});
