import assert from "node:assert/strict";
import { decryptOneValue, encryptOneValue, mayBeEncrypted } from "./one_crypt.ts";

/** A `ONE_KEY` as oned makes one (`one_util::random_password()`: 64 hex digits of a SHA-256). */
const ONE_KEY = "3f7a8b1c9d0e2f4a6b8c0d1e3f5a7b9c1d3e5f7a9b0c2d4e6f8a0b1c3d5e7f9a";

/**
 * Values and what OpenNebula's own Ruby `OpenNebula.encrypt` (src/oca/ruby/opennebula/utils.rb,
 * identical in release-5.4.15 and release-6.4.7) made of them with {@link ONE_KEY}, produced by
 * loading that file from OpenNebula's repository into Ruby 3.1 (OpenSSL 3.0):
 *
 *   git show release-6.4.7:src/oca/ruby/opennebula/utils.rb >utils.rb
 *   ruby -ropenssl -rbase64 -e 'load "utils.rb"; p OpenNebula.encrypt({a: "AKIA..."}, "3f7a...")'
 */
const RUBY_VECTORS = [
  ["AKIAIOSFODNN7EXAMPLE", "JbgRry3GTeKd7wvnLj3uFBs0NeVql7FoIqFqxETzpZc="],
  [
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "+xTXn8CH8daublArTr27bKbbkdkYqmAA6Jq31IhwAnJjrgoZouElNGYNBWzqjwka",
  ],
  ["exactly16bytes!!", "VDejlHi7Wy5EUrC7n/SxWtTU6vWT1gsit1Qg3FBbTKI="],
  ["pässwörd", "a0Q31OJpr2uSKlDlJoUexA=="],
] as const;

Deno.test("decryptOneValue() reads what OpenNebula's own Ruby encrypt wrote", async () => {
  for (const [plain, encrypted] of RUBY_VECTORS) {
    assert.equal(await decryptOneValue(encrypted, ONE_KEY), plain);
  }
});

Deno.test("encryptOneValue() writes what OpenNebula's own Ruby encrypt writes", async () => {
  for (const [plain, encrypted] of RUBY_VECTORS) {
    assert.equal(await encryptOneValue(plain, ONE_KEY), encrypted);
  }
});

Deno.test("only the first 32 characters of ONE_KEY are the key, as oned and the Ruby drivers read it", async () => {
  const [plain, encrypted] = RUBY_VECTORS[0];
  assert.equal(
    await decryptOneValue(encrypted, `${ONE_KEY.slice(0, 32)}${"0".repeat(32)}\n`),
    plain,
  );
  assert.equal(await decryptOneValue(encrypted, ONE_KEY.slice(0, 31)), undefined);
});

Deno.test("a value that is not a ciphertext of the key is taken as it is (undefined), as oned does", async () => {
  const other = "0".repeat(64);
  for (const [, encrypted] of RUBY_VECTORS) {
    assert.equal(await decryptOneValue(encrypted, other), undefined);
  }
  assert.equal(await decryptOneValue("us-east-1", ONE_KEY), undefined);
  assert.equal(await decryptOneValue("", ONE_KEY), undefined);
  // Whole blocks of base64 that are no ciphertext of the key: the padding does not check.
  assert.equal(mayBeEncrypted(`${"A".repeat(43)}=`), true);
  assert.equal(await decryptOneValue(`${"A".repeat(43)}=`, ONE_KEY), undefined);
});

Deno.test("mayBeEncrypted() tells ciphertexts from plain AWS keys and regions", () => {
  for (const [plain, encrypted] of RUBY_VECTORS) {
    assert.equal(mayBeEncrypted(encrypted), true, encrypted);
    if (plain.length !== 16) assert.equal(mayBeEncrypted(plain), false, plain);
  }
  assert.equal(mayBeEncrypted("us-east-1"), false);
  assert.equal(mayBeEncrypted("JbgRry3GTeKd7wvnLj3uFBs0NeVql7Fo"), false);
  assert.equal(mayBeEncrypted("JbgRry3GTeKd7wvnLj3u\nFBs0NeVql7FoIqFqxETzpZc=\n"), true);
});
