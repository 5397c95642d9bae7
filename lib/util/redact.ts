/**
 * Keeps secrets out of everything the driver prints. The configuration loader registers each
 * secret it reads; the action frame (`lib/runtime/action.ts`) passes every outgoing message
 * through `redact()`. Each action runs in its own process, so the secrets are the process's.
 *
 * @module
 */

const secrets = new Set<string>();

/**
 * Registers a value that must never be printed.
 *
 * @param value A secret (access key secret, session token); values shorter than 4 characters are ignored.
 */
export function addSecret(value: string | undefined): void {
  if (value !== undefined && value.length >= 4) secrets.add(value);
}

/**
 * Replaces every registered secret in a text with `***`, longest first, so that a secret that
 * holds a shorter one (a session string holding its password) leaves nothing of itself.
 *
 * @param text Text about to be printed.
 * @returns The text without secrets.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addSecret, redact } from "./redact.ts";
 * addSecret("K7MDENG");
 * addSecret("wJalrXUtnFEMI/K7MDENG");
 * assert.equal(redact("bad key wJalrXUtnFEMI/K7MDENG, K7MDENG"), "bad key ***, ***");
 * ```
 */
export function redact(text: string): string {
  const longestFirst = [...secrets].sort((a, b) => b.length - a.length);
  let result = text;
  for (const secret of longestFirst) result = result.split(secret).join("***");
  return result;
}

/**
 * Registers the secrets of a credentials file's first line, before the line is judged: the
 * password after the first `:` and the whole session string; a line without `:` is taken for
 * a password given alone (its user forgotten) and registered whole. No message can print them.
 *
 * @param line The file's first line, trimmed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redact, registerSessionSecrets } from "./redact.ts";
 * registerSessionSecrets("Only-the-password");
 * assert.equal(redact("sent Only-the-password"), "sent ***");
 * ```
 */
export function registerSessionSecrets(line: string): void {
  const colon = line.indexOf(":");
  if (colon < 0) addSecret(line);
  else {
    addSecret(line.slice(colon + 1));
    addSecret(line);
  }
}
