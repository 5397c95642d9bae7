import assert from "node:assert/strict";
import { InvalidInputError } from "../../util/errors.ts";
import { redact } from "../../util/redact.ts";
import type { SettingReader } from "../../core/provider.ts";
import { parseOneCloudConnection, sessionOf } from "./settings.ts";

const dir = await Deno.makeTempDir({ prefix: "one-cloud-settings-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const ENDPOINT = "http://127.0.0.1:2633/RPC2";

/** Writes an auth file with exactly these permission bits. */
async function authFile(name: string, text: string, mode: number): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, text, { mode });
  await Deno.chmod(path, mode);
  return path;
}

Deno.test("sessionOf() reads the user:password line of a private auth file", async () => {
  const file = await authFile("private", "partner:Private-s3cret\n", 0o600);
  assert.equal(await sessionOf({ endpoint: ENDPOINT, authFile: file }), "partner:Private-s3cret");
  assert.equal(redact("sent Private-s3cret"), "sent ***");
});

Deno.test("sessionOf() refuses an auth file its group may read, as ssh refuses such a private key", async () => {
  for (const mode of [0o640, 0o604, 0o660]) {
    const file = await authFile(`open-${mode.toString(8)}`, "partner:Group-s3cret\n", mode);
    await assert.rejects(
      sessionOf({ endpoint: ENDPOINT, authFile: file }),
      new InvalidInputError(
        `The partner cloud's credentials file ${file} is readable by other users (mode 0${
          mode.toString(8)
        }); run: chmod 600 ${file}`,
      ),
    );
  }
});

Deno.test("sessionOf() registers a password given alone (no user: part) as a secret, though it refuses the line", async () => {
  for (
    const [name, line, password] of [
      ["alone", "Alone-s3cret-password", "Alone-s3cret-password"],
      ["no-user", ":NoUser-s3cret-password", "NoUser-s3cret-password"],
    ]
  ) {
    const file = await authFile(name!, `${line}\n`, 0o600);
    await assert.rejects(sessionOf({ endpoint: ENDPOINT, authFile: file }), {
      message:
        `The partner cloud's credentials file ${file} does not start with a user:password line`,
    });
    assert.equal(redact(`echoed ${password}`), "echoed ***", name);
  }
});

/** A setting reader over plain values, failing as the configuration does. */
function reader(values: Record<string, string>): SettingReader {
  return {
    text: (key) => values[key],
    flag: () => undefined,
    fail: (key, problem) => new InvalidInputError(`Setting "${key}" ${problem}`),
  };
}

Deno.test("parseOneCloudConnection() refuses an endpoint that is not a plain http(s) URL, in the partner's words", () => {
  const expected = "must be an http(s) URL such as https://partner.example.org:2633/RPC2";
  const cases: [string, string][] = [
    ["partner.example.org:2633", expected],
    ["https://partner .example.org/RPC2", expected],
    [`https://partner.example.org/${"x".repeat(2048)}`, expected],
    ["https://partner.example.org/RPC2?x=1", `${expected}, without a query or fragment`],
    [
      "https://oneadmin:Endpoint-s3cret@partner.example.org/RPC2",
      'must not contain a user name or password (use "user" and "password" or "authFile")',
    ],
  ];
  for (const [endpoint, problem] of cases) {
    assert.throws(
      () => parseOneCloudConnection(reader({ endpoint, user: "partner", password: "pw" })),
      new InvalidInputError(`Setting "endpoint" ${problem}`),
      endpoint,
    );
  }
  assert.deepEqual(
    parseOneCloudConnection(reader({ endpoint: ENDPOINT, user: "partner", password: "pw" })),
    { endpoint: ENDPOINT, user: "partner", password: "pw" },
  );
});
