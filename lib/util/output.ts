/**
 * What oned reads back from an action: one line on stdout on success; on failure the same
 * one-line message on stdout (OpenNebula 3.2 reads it there) and inside the error fence on
 * stderr (4.x and later read it there).
 *
 * @module
 */

/** First line of the error fence OpenNebula's driver layer looks for on stderr. */
const ERROR_FENCE_START = "ERROR MESSAGE --8<------";
/** Last line of the error fence. */
const ERROR_FENCE_END = "ERROR MESSAGE ------>8--";

const MAX_MESSAGE_LENGTH = 1000;

/**
 * Folds any text into one line fit for oned's protocol: control characters and runs of
 * blanks become one blank, and overly long text is cut with an ellipsis.
 *
 * @param text Any text, possibly multi-line.
 * @returns The same text on one line, trimmed.
 * @example Folding a multi-line message
 * ```ts
 * import assert from "node:assert/strict";
 * import { oneLine } from "./output.ts";
 * assert.equal(oneLine("Cannot launch\n  instance "), "Cannot launch instance");
 * ```
 */
export function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  const folded = text.replace(/[\u0000-\u001f\u007f\s]+/g, " ").trim();
  return folded.length > MAX_MESSAGE_LENGTH
    ? `${folded.slice(0, MAX_MESSAGE_LENGTH - 3)}...`
    : folded;
}

/**
 * Builds what a failed action writes: the message for stdout and the fenced block for stderr.
 *
 * @param message The failure, in words an operator can act on.
 * @returns `stdout` and `stderr` texts, each ending in a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatFailure } from "./output.ts";
 * const { stdout, stderr } = formatFailure("Cannot launch instance: InvalidAMIID.NotFound");
 * assert.equal(stdout, "Cannot launch instance: InvalidAMIID.NotFound\n");
 * assert.equal(
 *   stderr,
 *   "ERROR MESSAGE --8<------\nCannot launch instance: InvalidAMIID.NotFound\nERROR MESSAGE ------>8--\n",
 * );
 * ```
 */
export function formatFailure(message: string): { stdout: string; stderr: string } {
  const line = oneLine(message) || "Unknown error";
  return {
    stdout: `${line}\n`,
    stderr: `${ERROR_FENCE_START}\n${line}\n${ERROR_FENCE_END}\n`,
  };
}

/**
 * Makes a value safe for a monitoring string, where blanks separate pairs and quotes and
 * brackets would confuse OpenNebula's template parser: every character outside a small safe
 * set is percent-encoded (UTF-8), as OpenNebula's own EC2 driver url-escaped its values.
 *
 * @param value Any value.
 * @returns The value with unsafe characters as `%XX`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeValue } from "./output.ts";
 * assert.equal(encodeValue("web servers"), "web%20servers");
 * assert.equal(encodeValue("sg-1,sg-2"), "sg-1,sg-2");
 * ```
 */
export function encodeValue(value: string): string {
  return Array.from(new TextEncoder().encode(value), (byte) => {
    const char = String.fromCharCode(byte);
    return /[A-Za-z0-9._~:/@,+-]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }).join("");
}

/**
 * A value quoted from input for a one-line message: control characters (line breaks included)
 * become `?`, and more than 64 characters are cut to 61 and `...`.
 *
 * @param text The value as read.
 * @returns The value, safe on one line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { printable } from "./output.ts";
 * assert.equal(printable("a\nb"), "a?b");
 * assert.equal(printable("x".repeat(70)), `${"x".repeat(61)}...`);
 * ```
 */
export function printable(text: string): string {
  // deno-lint-ignore no-control-regex -- control characters are what must go
  const flat = text.replace(/[\x00-\x1F\x7F]/g, "?");
  return flat.length > 64 ? `${flat.slice(0, 61)}...` : flat;
}
