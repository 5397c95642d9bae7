import assert from "node:assert/strict";
import { InvalidInputError } from "../util/errors.ts";
import { redact } from "../util/redact.ts";
import { oneAuthFile, readOneAuth } from "./one_auth.ts";

const dir = await Deno.makeTempDir({ prefix: "one-auth-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const lookup = (env: Record<string, string>) => (name: string) => env[name];

Deno.test("oneAuthFile() prefers ONE_AUTH, then ~/.one/one_auth, then oneadmin's home", () => {
  assert.deepEqual(oneAuthFile(lookup({ ONE_AUTH: "/etc/one/auth", HOME: "/h" })), {
    file: "/etc/one/auth",
    source: "from ONE_AUTH",
  });
  assert.equal(oneAuthFile(lookup({ ONE_AUTH: "", HOME: "/h/" })).file, "/h/.one/one_auth");
  assert.equal(oneAuthFile(lookup({})).file, "/var/lib/one/.one/one_auth");
});

Deno.test("readOneAuth() takes the first line as the session and never lets the password be printed", async () => {
  const file = `${dir}/one_auth`;
  await Deno.writeTextFile(file, "oneadmin:s3cr:et-pass\nsecond line\n");
  assert.deepEqual(await readOneAuth(lookup({ ONE_AUTH: file })), {
    user: "oneadmin",
    session: "oneadmin:s3cr:et-pass",
    file,
  });
  assert.equal(redact("password s3cr:et-pass"), "password ***");
});

Deno.test("readOneAuth() fails naming the file when it is missing or has no user:password line", async () => {
  await assert.rejects(
    readOneAuth(lookup({ HOME: dir })),
    (e: unknown) =>
      e instanceof InvalidInputError &&
      e.message ===
        `Cannot read the OpenNebula credentials file ${dir}/.one/one_auth (the default, as ONE_AUTH is not set): it does not exist`,
  );
  for (const text of ["", "oneadmin\n", ":pass\n", "oneadmin:\n"]) {
    const file = `${dir}/bad`;
    await Deno.writeTextFile(file, text);
    await assert.rejects(readOneAuth(lookup({ ONE_AUTH: file })), {
      message:
        `The OpenNebula credentials file ${file} (from ONE_AUTH) does not start with a user:password line`,
    });
  }
});

Deno.test("readOneAuth() registers a password given alone (no user: part) as a secret, though it refuses the line", async () => {
  const file = `${dir}/alone`;
  await Deno.writeTextFile(file, "OneAuth-alone-s3cret\n");
  await assert.rejects(readOneAuth(lookup({ ONE_AUTH: file })), InvalidInputError);
  assert.equal(redact("echoed OneAuth-alone-s3cret"), "echoed ***");
});
