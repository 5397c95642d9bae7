/**
 * EC2 user data: its size limit and its encoding, shared by `USERDATA` and by the user data
 * made from `CONTEXT`.
 *
 * @module
 */

import { base64Of } from "../../util/base64.ts";
import { InvalidInputError } from "../../util/errors.ts";
import type { ContextFormat, LaunchRequest } from "../../core/provider.ts";

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
  return base64Of(bytes);
}

/**
 * The VM's context as user data: rendered by OpenNebula's side in the format asked for, then
 * checked against EC2's limit and encoded.
 *
 * @param request The launch request, which renders the context.
 * @param format How the context is rendered (`CLOUD_INIT`).
 * @returns The user data, base64-encoded; undefined when there is nothing to pass on.
 * @throws {InvalidInputError} when it would exceed EC2's 16 KB (the message gives the size,
 * never the content).
 */
export function contextUserData(
  request: Pick<LaunchRequest, "renderContext">,
  format: ContextFormat,
): string | undefined {
  const text = request.renderContext(format);
  if (text === undefined) return undefined;
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > MAX_USER_DATA_BYTES) {
    const what = format === "shell" ? "context script" : "#cloud-config document";
    throw new InvalidInputError(
      `Cannot pass CONTEXT as user data: the ${what} is ${bytes.length} bytes, EC2 accepts at most ${MAX_USER_DATA_BYTES} (16 KB) before base64 encoding; shorten CONTEXT or set USERDATA`,
    );
  }
  return userDataBase64(bytes);
}
