/**
 * Resource ids in EC2's forms (`i-` + 17 hex digits, `r-`, `vol-`, `eni-`, ...) and their
 * syntax checks.
 *
 * @module
 */

import { createHash } from "node:crypto";

/**
 * Random lowercase hex digits.
 *
 * @param length How many digits.
 * @returns The digits.
 */
export function randomHex(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(length / 2)));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, length);
}

/**
 * A new resource id: the prefix, a dash and 17 hex digits (`i-0a1b...`).
 *
 * @param prefix `i`, `r`, `vol`, `eni`, `eni-attach`, ...
 * @returns The id.
 */
export function newId(prefix: string): string {
  return `${prefix}-${randomHex(17)}`;
}

/**
 * Whether an id has its resource's form: the prefix, a dash and 8 or 17 hex digits.
 *
 * @param id The id to check.
 * @param prefix The expected prefix (`i`, `ami`, `sg`, `subnet`, ...).
 * @returns true when well-formed.
 */
export function isWellFormed(id: string, prefix: string): boolean {
  return new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`).test(id);
}

/**
 * A locally administered MAC address, as EC2 gives network interfaces.
 *
 * @returns `0e:xx:xx:xx:xx:xx`.
 */
export function newMacAddress(): string {
  return `0e:${randomHex(10).match(/../g)!.join(":")}`;
}

/**
 * An IAM-style unique id (`AIPA` + 17 upper-case characters) for an instance profile, the
 * same for the same name.
 *
 * @param name The instance profile's name.
 * @returns The id.
 */
export function instanceProfileId(name: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const digest = createHash("sha256").update(name).digest();
  return `AIPA${Array.from(digest.subarray(0, 17), (b) => alphabet[b % 32]).join("")}`;
}
