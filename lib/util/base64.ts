/**
 * Base64 of bytes, without the standard library (JSR is out of reach) and without spreading
 * large arrays into one call.
 *
 * @module
 */

/**
 * Encodes bytes as standard base64, unwrapped.
 *
 * @param bytes The bytes.
 * @returns Their base64 text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { base64Of } from "./base64.ts";
 * assert.equal(base64Of(new TextEncoder().encode("#!/bin/sh\n")), "IyEvYmluL3NoCg==");
 * ```
 */
export function base64Of(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
