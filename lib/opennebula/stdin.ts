/**
 * Optional data on standard input. OpenNebula 5.0+ writes base64 text to a local action's
 * stdin (the deployment file for deploy, the `VMM_DRIVER_ACTION_DATA` XML for the others),
 * wrapped every 60 characters; 3.2 and 4.x give an empty, closed stdin. An action must read
 * stdin to the end even when it does not need it, or the writer fails with EPIPE; and it must
 * never wait on a terminal, nor on input that never ends.
 *
 * @module
 */

import { INPUT_SECONDS, readToLimit } from "../util/bounded_read.ts";
import { InvalidInputError } from "../util/errors.ts";
import { InputLimitError } from "../util/file_errors.ts";

/**
 * The most standard input read, in bytes: base64 (with line breaks) of the largest deployment
 * file, 4 MiB, is about 5.5 MiB; oned's action data is a few KB.
 */
const MAX_STDIN_BYTES = 8 * 1024 * 1024;

/** How reading standard input ended: its text, or why it was refused. */
type StdinOutcome = { readonly text: string } | { readonly error: string };

let reading: Promise<StdinOutcome> | undefined;

/**
 * Reads standard input to the end, once; later calls share the same result.
 * A terminal, a closed descriptor or a read error count as empty input. Reading stops at
 * {@link MAX_STDIN_BYTES} or after {@link INPUT_SECONDS}, whichever comes first.
 *
 * @returns The whole input as text ("" when there is none).
 * @throws {InvalidInputError} when the input is larger than the limit or does not end in time.
 */
export async function readStdin(): Promise<string> {
  const outcome = await runStdin();
  if ("error" in outcome) throw new InvalidInputError(outcome.error);
  return outcome.text;
}

/**
 * Starts reading standard input (if not started) and resolves once it has ended, broken a
 * limit or run out of time. Never rejects.
 *
 * @returns A promise for the end of reading.
 */
export async function stdinSettled(): Promise<void> {
  await runStdin();
}

/** How reading standard input ended (read once). Never rejects. */
function runStdin(): Promise<StdinOutcome> {
  return reading ??= readBounded();
}

async function readBounded(): Promise<StdinOutcome> {
  try {
    if (Deno.stdin.isTerminal()) return { text: "" };
  } catch {
    return { text: "" };
  }
  const work = readToLimit(Deno.stdin, MAX_STDIN_BYTES).then(
    (text): StdinOutcome => ({ text }),
    (error): StdinOutcome =>
      error instanceof InputLimitError
        ? { error: `Standard input is ${error.reason}` }
        : { text: "" },
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<StdinOutcome>((resolve) => {
    timer = setTimeout(() => {
      resolve({ error: `Standard input did not end within ${INPUT_SECONDS} s` });
    }, INPUT_SECONDS * 1000);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Turns what oned wrote on stdin into XML text: base64 (with or without line breaks) is
 * decoded, plain XML (what OpenNebula 3.2–4.x pass to deploy over ssh) is kept.
 *
 * @param input The raw stdin text.
 * @returns The XML text, or `undefined` when the input is empty.
 * @throws {InvalidInputError} when the input is neither XML nor base64 of XML.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeStdinXml } from "./stdin.ts";
 * assert.equal(decodeStdinXml(btoa("<VM><ID>7</ID></VM>")), "<VM><ID>7</ID></VM>");
 * assert.equal(decodeStdinXml(""), undefined);
 * ```
 */
export function decodeStdinXml(input: string): string | undefined {
  const trimmed = input.trim();
  if (trimmed === "") return undefined;
  if (trimmed.startsWith("<")) return trimmed;
  const compact = trimmed.replace(/\s+/g, "");
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(compact) && compact.length % 4 === 0) {
    const bytes = Uint8Array.from(atob(compact), (c) => c.charCodeAt(0));
    const text = new TextDecoder().decode(bytes).trim();
    if (text.startsWith("<")) return text;
  }
  throw new InvalidInputError("Cannot read standard input: expected XML or base64-encoded XML");
}
