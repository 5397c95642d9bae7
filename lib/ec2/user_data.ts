/**
 * EC2 user data: its size limit and its encoding, shared by `USERDATA` and by the user data
 * made from `CONTEXT`.
 *
 * @module
 */

/** Raw user data EC2 accepts, in bytes (16 KB before base64 encoding). */
export const MAX_USER_DATA_BYTES = 16 * 1024;

/**
 * Base64-encodes raw user data, as RunInstances wants it.
 *
 * @param bytes The raw user data.
 * @returns Its base64 text, unwrapped.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { userDataBase64 } from "./user_data.ts";
 * assert.equal(userDataBase64(new TextEncoder().encode("#!/bin/sh\n")), "IyEvYmluL3NoCg==");
 * ```
 */
export function userDataBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
