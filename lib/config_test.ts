import assert from "node:assert/strict";
import { InvalidInputError } from "./errors.ts";
import { loadHostSettings, parseConfig } from "./config.ts";
import { redact } from "./redact.ts";

const PATH = "/etc/one/hybrid_driver.json";

Deno.test("parseConfig() lets a host's settings override the defaults", () => {
  const settings = parseConfig(
    JSON.stringify({
      defaults: { region: "us-east-1", template: { instancetype: "t3.micro", KEYPAIR: "ops" } },
      hosts: { "aws-eu": { region: "eu-west-1", template: { KEYPAIR: "eu" } } },
    }),
    PATH,
    "aws-eu",
  );
  assert.equal(settings.region, "eu-west-1");
  assert.deepEqual(settings.template, { INSTANCETYPE: "t3.micro", KEYPAIR: "eu" });
  assert.equal(settings.source, PATH);
  assert.equal(settings.useInstanceMetadata, false);
  assert.equal(settings.actionTimeoutSeconds, 300);
  assert.equal(settings.stateWaitSeconds, 240);
});

Deno.test("parseConfig() rejects a host that the hosts section does not list", () => {
  assert.throws(
    () => parseConfig('{"hosts":{"a":{},"b":{}}}', PATH, "c"),
    new InvalidInputError(`Host "c" is not configured in ${PATH} (configured hosts: a, b)`),
  );
});

Deno.test("parseConfig() serves any host when there is no hosts section", () => {
  assert.equal(parseConfig('{"defaults":{"profile":"burst"}}', PATH, "anything").profile, "burst");
});

Deno.test("parseConfig() names unknown settings, so typos do not pass silently", () => {
  assert.throws(
    () => parseConfig('{"defaults":{"regoin":"x"}}', PATH, "a"),
    /Unknown setting "regoin" in defaults/,
  );
  assert.throws(
    () => parseConfig('{"default":{}}', PATH, "a"),
    /Unknown key "default" at the top level/,
  );
});

Deno.test("parseConfig() checks types and pairs", () => {
  assert.throws(
    () => parseConfig('{"defaults":{"region":5}}', PATH, "a"),
    /"region" for host a .* non-empty string/,
  );
  assert.throws(
    () => parseConfig('{"defaults":{"accessKeyId":"AKIA1"}}', PATH, "a"),
    /must be given together/,
  );
  assert.throws(
    () => parseConfig('{"defaults":{"endpoint":"ftp://x"}}', PATH, "a"),
    /must be an http\(s\) URL/,
  );
  assert.throws(
    () => parseConfig('{"defaults":{"actionTimeoutSeconds":-1}}', PATH, "a"),
    /positive number/,
  );
  assert.throws(() => parseConfig("{", PATH, "a"), /Invalid JSON in driver configuration/);
});

Deno.test("parseConfig() registers secrets so they are never printed", () => {
  parseConfig(
    '{"defaults":{"accessKeyId":"AKIA1","secretAccessKey":"s3cr3t-value-123"}}',
    PATH,
    "a",
  );
  assert.equal(redact("oops s3cr3t-value-123"), "oops ***");
});

Deno.test("loadHostSettings() works without a configuration file", async () => {
  const settings = await loadHostSettings(
    "aws",
    { get: () => undefined },
    "/nonexistent/default.json",
  );
  assert.equal(settings.source, "");
  assert.equal(settings.host, "aws");
  assert.equal(settings.region, undefined);
});

Deno.test("loadHostSettings() fails clearly when the named file is missing", async () => {
  await assert.rejects(
    loadHostSettings("aws", { get: () => "/nonexistent/hybrid.json" }),
    new InvalidInputError(
      "Cannot read driver configuration /nonexistent/hybrid.json: no such file",
    ),
  );
});
