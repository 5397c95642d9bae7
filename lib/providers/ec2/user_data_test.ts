import assert from "node:assert/strict";
import { InvalidInputError } from "../../util/errors.ts";
import { renderContext } from "../../opennebula/context.ts";
import { contextUserData, MAX_USER_DATA_BYTES } from "./user_data.ts";

/** A request whose context renders as OpenNebula's side renders it. */
const withContext = (context: Record<string, string>) => ({
  renderContext: (format: "cloud-config" | "shell") => renderContext(context, undefined, format),
});

const decode = (b64: string | undefined) => {
  assert.ok(b64 !== undefined, "expected user data");
  return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
};

Deno.test("contextUserData() accepts exactly 16 KB and refuses more, without echoing it", () => {
  assert.equal(MAX_USER_DATA_BYTES, 16384);
  // "A='" + value + "'\n" is the value's length plus 5 bytes.
  const secret = "hunter2";
  const fits = secret + "x".repeat(MAX_USER_DATA_BYTES - 5 - secret.length);
  assert.equal(decode(contextUserData(withContext({ A: fits }), "shell")).length, 16384);
  assert.throws(
    () => contextUserData(withContext({ A: fits + "x" }), "shell"),
    (err: unknown) => {
      assert.ok(err instanceof InvalidInputError);
      assert.equal(
        err.message,
        "Cannot pass CONTEXT as user data: the context script is 16385 bytes, EC2 accepts at most 16384 (16 KB) before base64 encoding; shorten CONTEXT or set USERDATA",
      );
      assert.ok(!err.message.includes(secret));
      return true;
    },
  );
  assert.throws(
    () => contextUserData(withContext({ PASSWORD: secret, BIG: "é".repeat(9000) }), "cloud-config"),
    /^InvalidInputError: Cannot pass CONTEXT as user data: the #cloud-config document is \d+ bytes, EC2 accepts at most 16384/,
  );
});

Deno.test("contextUserData() encodes the rendered context as base64, and passes on nothing when there is none", () => {
  assert.equal(decode(contextUserData(withContext({ VMID: "9" }), "shell")), "VMID='9'\n");
  assert.equal(contextUserData(withContext({ TARGET: "hda" }), "shell"), undefined);
});
