/**
 * Optional data on standard input. OpenNebula 5.0+ writes base64 text to a local action's
 * stdin (the deployment file for deploy, the `VMM_DRIVER_ACTION_DATA` XML for the others),
 * wrapped every 60 characters; 3.2 and 4.x give an empty, closed stdin. An action must read
 * stdin to the end even when it does not need it, or the writer fails with EPIPE; and it must
 * never wait on a terminal.
 *
 * @module
 */

import { InvalidInputError } from "../errors.ts";

let reading: Promise<string> | undefined;

/**
 * Reads standard input to the end, once per process; later calls share the same result.
 * A terminal, a closed descriptor or a read error count as empty input.
 *
 * @returns The whole input as text ("" when there is none).
 */
export function readStdin(): Promise<string> {
  reading ??= readAll();
  return reading;
}

async function readAll(): Promise<string> {
  try {
    if (Deno.stdin.isTerminal()) return "";
    return await new Response(Deno.stdin.readable).text();
  } catch {
    return "";
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
 * import { decodeStdinXml } from "./stdin.ts";
 * console.assert(decodeStdinXml(btoa("<VM><ID>7</ID></VM>")) === "<VM><ID>7</ID></VM>");
 * console.assert(decodeStdinXml("") === undefined);
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
