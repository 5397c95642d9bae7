/**
 * OpenNebula's encryption of template attributes, as oned does it (`one_util::aes256cbc_encrypt`
 * and `aes256cbc_decrypt`, 5.4 to 7.x) and OpenNebula's Ruby drivers undo it
 * (`OpenNebula.decrypt` in `opennebula/utils.rb`): AES-256-CBC keyed with the first 32 characters
 * of oned's `ONE_KEY` (the 64 hex digits of `$ONE_LOCATION/var/.one/one_key`, or
 * `/var/lib/one/.one/one_key`), an all-zero IV, PKCS#7 padding, and base64.
 *
 * oned keeps a host's `EC2_ACCESS` and `EC2_SECRET` so (5.4–5.8 always; 5.10–6.x as its
 * `HOST_ENCRYPTED_ATTR` lines say). It never marks a value as encrypted: like oned, a value that
 * does not decrypt is taken as it is.
 *
 * The cipher is `node:crypto`'s, loaded on first use: most runs never decrypt (5.10+ oned does it
 * for the driver), and loading it costs some 20 ms.
 *
 * @module
 */

import { base64Of } from "../util/base64.ts";

/** The key length of AES-256, in bytes: oned reads that many characters of `ONE_KEY`. */
const KEY_BYTES = 32;
/** An AES block, in bytes: the length of the IV and the unit of the ciphertext. */
const BLOCK_BYTES = 16;
/** Standard base64 with its padding, as OpenSSL's encoder writes it (oned wraps nothing). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Whether a value may be one oned encrypted: base64 of whole AES blocks. A plain AWS key never
 * is (20 and 40 characters are 15 and 30 bytes), so this tells which values need `ONE_KEY`.
 *
 * @param value An attribute's value.
 * @returns True when it has the shape of a ciphertext.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mayBeEncrypted } from "./one_crypt.ts";
 * assert.equal(mayBeEncrypted("JbgRry3GTeKd7wvnLj3uFBs0NeVql7FoIqFqxETzpZc="), true);
 * assert.equal(mayBeEncrypted("AKIAIOSFODNN7EXAMPLE"), false);
 * ```
 */
export function mayBeEncrypted(value: string): boolean {
  const text = value.replace(/\s+/g, "");
  if (text.length === 0 || !BASE64.test(text)) return false;
  const bytes = (text.length / 4) * 3 - (text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0);
  return bytes >= BLOCK_BYTES && bytes % BLOCK_BYTES === 0;
}

/**
 * Decrypts a value oned encrypted, as `OpenNebula.decrypt` does.
 *
 * @param value The base64 ciphertext (whitespace ignored).
 * @param oneKey oned's `ONE_KEY`.
 * @returns The plain text, or undefined when the value does not decrypt with the key (a plain
 * value, or another key's): oned then keeps the value as it is.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decryptOneValue } from "./one_crypt.ts";
 * const key = "3f7a8b1c9d0e2f4a6b8c0d1e3f5a7b9c1d3e5f7a9b0c2d4e6f8a0b1c3d5e7f9a";
 * assert.equal(
 *   await decryptOneValue("JbgRry3GTeKd7wvnLj3uFBs0NeVql7FoIqFqxETzpZc=", key),
 *   "AKIAIOSFODNN7EXAMPLE",
 * );
 * assert.equal(await decryptOneValue("AKIAIOSFODNN7EXAMPLE", key), undefined);
 * ```
 */
export async function decryptOneValue(
  value: string,
  oneKey: string,
): Promise<string | undefined> {
  if (!mayBeEncrypted(value)) return undefined;
  const key = keyOf(oneKey);
  if (key === undefined) return undefined;
  const { createDecipheriv } = await import("node:crypto");
  try {
    const decipher = createDecipheriv("aes-256-cbc", key, new Uint8Array(BLOCK_BYTES));
    const data = Uint8Array.from(atob(value.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
    const plain = new Uint8Array([...decipher.update(data), ...decipher.final()]);
    return new TextDecoder("utf-8", { fatal: true }).decode(plain);
  } catch {
    return undefined;
  }
}

/**
 * Encrypts a value as oned does when it stores an encrypted attribute: the inverse of
 * {@link decryptOneValue}, for checks and test data.
 *
 * @param value The plain text.
 * @param oneKey oned's `ONE_KEY` (at least 32 characters).
 * @returns The base64 ciphertext.
 * @throws {RangeError} when the key is shorter than 32 bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encryptOneValue } from "./one_crypt.ts";
 * const key = "3f7a8b1c9d0e2f4a6b8c0d1e3f5a7b9c1d3e5f7a9b0c2d4e6f8a0b1c3d5e7f9a";
 * assert.equal(
 *   await encryptOneValue("exactly16bytes!!", key),
 *   "VDejlHi7Wy5EUrC7n/SxWtTU6vWT1gsit1Qg3FBbTKI=",
 * );
 * ```
 */
export async function encryptOneValue(value: string, oneKey: string): Promise<string> {
  const key = keyOf(oneKey);
  if (key === undefined) throw new RangeError("ONE_KEY must hold at least 32 bytes");
  const { createCipheriv } = await import("node:crypto");
  const cipher = createCipheriv("aes-256-cbc", key, new Uint8Array(BLOCK_BYTES));
  const data = new TextEncoder().encode(value);
  const encrypted = new Uint8Array([...cipher.update(data), ...cipher.final()]);
  return base64Of(encrypted);
}

/** The AES key oned derives from `ONE_KEY`: its first 32 bytes; undefined when it is shorter. */
function keyOf(oneKey: string): Uint8Array | undefined {
  const bytes = new TextEncoder().encode(oneKey.trim());
  return bytes.length < KEY_BYTES ? undefined : bytes.subarray(0, KEY_BYTES);
}
