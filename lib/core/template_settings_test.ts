import assert from "node:assert/strict";
import { InvalidInputError } from "../util/errors.ts";
import { redact } from "../util/redact.ts";
import { loadHostSettings } from "./config.ts";
import type { TemplateRead, TemplateReadRequest, TemplateSource } from "./template_settings.ts";
import type { Ec2Connection } from "../providers/ec2/settings.ts";
import { PROVIDER_KINDS } from "../providers/mod.ts";

const dir = await Deno.makeTempDir({ prefix: "template-settings-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const SECRET = "tmplSecret/K7MDENG/bPxRfiCYTEMPLATEKEY00";

/** A host template as `onehost update` would leave it, for a source that counts its reads. */
function source(
  attributes: Record<string, string>,
  sections: Record<string, Record<string, string>> = {},
  always = false,
): TemplateSource & { reads: TemplateReadRequest[] } {
  const reads: TemplateReadRequest[] = [];
  return {
    reads,
    always,
    read(request): Promise<TemplateRead> {
      reads.push(request);
      return Promise.resolve({ template: { attributes, sections } });
    },
  };
}

const BUILT_IN = {
  REGION_NAME: "eu-west-1",
  EC2_ACCESS: "AKIATEMPLATE00000001",
  EC2_SECRET: SECRET,
};

/** Loads host `aws`'s settings with this configuration file (none when undefined). */
async function load(file: unknown, template: TemplateSource) {
  const path = `${dir}/${crypto.randomUUID()}.json`;
  if (file !== undefined) await Deno.writeTextFile(path, JSON.stringify(file), { mode: 0o600 });
  const env = new Map(file === undefined ? [] : [["HYBRID_DRIVER_CONFIG", path]]);
  return await loadHostSettings(PROVIDER_KINDS, "aws", env, `${dir}/none.json`, template);
}

const ec2 = (settings: { connection: unknown }) => settings.connection as Ec2Connection;

Deno.test("a host's template gives its region and keys when there is no configuration file, as the built-in driver read them", async () => {
  const template = source(BUILT_IN);
  const settings = await load(undefined, template);
  assert.equal(ec2(settings).region, "eu-west-1");
  assert.equal(ec2(settings).accessKeyId, "AKIATEMPLATE00000001");
  assert.equal(ec2(settings).secretAccessKey, SECRET);
  assert.deepEqual(settings.origins, {
    region: { from: "template", attribute: "REGION_NAME" },
    accessKeyId: { from: "template", attribute: "EC2_ACCESS" },
    secretAccessKey: { from: "template", attribute: "EC2_SECRET" },
  });
  assert.deepEqual(template.reads, [{
    encrypted: ["EC2_ACCESS", "EC2_SECRET"],
    secrets: ["EC2_SECRET"],
  }]);
  assert.equal(redact(`key ${SECRET}`), "key ***");
});

Deno.test("the configuration file wins: a host whose file sets its region and credentials never reads its template", async () => {
  const template = source(BUILT_IN);
  const settings = await load(
    { defaults: { region: "us-east-1" }, hosts: { aws: { profile: "burst" } } },
    template,
  );
  assert.equal(template.reads.length, 0);
  assert.equal(ec2(settings).region, "us-east-1");
  assert.equal(ec2(settings).accessKeyId, undefined);
  assert.equal(settings.hostTemplate, undefined);
  assert.deepEqual(settings.origins, {
    region: { from: "file", scope: "defaults" },
    profile: { from: "file", scope: "hosts.aws" },
  });
});

Deno.test("the template fills only what the file leaves undecided, and says what the file overrides", async () => {
  const settings = await load({ hosts: { aws: { profile: "burst" } } }, source(BUILT_IN));
  assert.equal(ec2(settings).region, "eu-west-1");
  assert.equal(ec2(settings).profile, "burst");
  assert.equal(ec2(settings).accessKeyId, undefined);
  assert.deepEqual(settings.hostTemplate?.overridden, ["EC2_ACCESS", "EC2_SECRET"]);
  const keys = await load({ defaults: { region: "us-west-2" } }, source(BUILT_IN));
  assert.equal(ec2(keys).region, "us-west-2");
  assert.equal(ec2(keys).accessKeyId, "AKIATEMPLATE00000001");
  assert.deepEqual(keys.hostTemplate?.overridden, ["REGION_NAME"]);
});

Deno.test("the template's keys may assume a role the file names", async () => {
  const roleArn = "arn:aws:iam::111122223333:role/one-burst";
  const settings = await load({ hosts: { aws: { roleArn } } }, source(BUILT_IN));
  assert.equal(ec2(settings).roleArn, roleArn);
  assert.equal(ec2(settings).accessKeyId, "AKIATEMPLATE00000001");
});

Deno.test("the preflight reads the template even when the file decides every setting", async () => {
  const template = source(BUILT_IN, { CAPACITY: { T3_MICRO: "4" } }, true);
  const settings = await load({ defaults: { region: "us-east-1", profile: "p" } }, template);
  assert.equal(template.reads.length, 1);
  assert.deepEqual(settings.hostTemplate?.template?.sections, { CAPACITY: { T3_MICRO: "4" } });
  assert.deepEqual(settings.hostTemplate?.overridden, ["REGION_NAME", "EC2_ACCESS", "EC2_SECRET"]);
});

Deno.test("a template setting that is wrong fails naming the template's attribute, never its value", async () => {
  await assert.rejects(
    load(undefined, source({ REGION_NAME: "eu-west-1/../x" })),
    new InvalidInputError(
      `Setting "region" for host aws in its OpenNebula template (REGION_NAME) must be a region name: up to 64 letters, digits, '-', '_' or '.' (e.g. us-east-1)`,
    ),
  );
  await assert.rejects(
    load(undefined, source({ EC2_SECRET: SECRET })),
    new InvalidInputError(
      `Setting "accessKeyId" for host aws in its OpenNebula template (EC2_ACCESS) must be given together with "secretAccessKey"`,
    ),
  );
  await assert.rejects(
    load({ defaults: { region: "us-east-1" } }, source({ EC2_ACCESS: "AKIATEMPLATE00000001" })),
    new InvalidInputError(
      `Setting "secretAccessKey" for host aws in its OpenNebula template (EC2_SECRET) must be given together with "accessKeyId"`,
    ),
  );
});

Deno.test("blank template attributes give nothing, and a template that cannot be read leaves the settings to the environment", async () => {
  const blank = await load(undefined, source({ REGION_NAME: "  ", EC2_ACCESS: "" }));
  assert.equal(ec2(blank).region, undefined);
  assert.deepEqual(blank.origins, {});
  const unread: TemplateSource = {
    read: () => Promise.resolve({ unread: "no OpenNebula credentials" }),
  };
  const settings = await load({ defaults: { profile: "p" } }, unread);
  assert.equal(ec2(settings).region, undefined);
  assert.deepEqual(settings.hostTemplate, { unread: "no OpenNebula credentials", overridden: [] });
});

Deno.test("a partner cloud's host reads nothing from its template", async () => {
  const template = source(BUILT_IN);
  const settings = await load(
    {
      hosts: {
        aws: { provider: "opennebula", endpoint: "http://127.0.0.1:2633/RPC2", authFile: "/x" },
      },
    },
    template,
  );
  assert.equal(settings.provider, "opennebula");
  assert.equal(template.reads.length, 0);
});

Deno.test("a template that fails to be read fails the settings that need it, and nothing when it was only to be shown", async () => {
  const failing = (always: boolean): TemplateSource => ({
    always,
    read: () => Promise.reject(new Error("oned at http://127.0.0.1:9/RPC2 cannot be reached")),
  });
  await assert.rejects(load(undefined, failing(false)), /cannot be reached/);
  const settings = await load({ defaults: { region: "us-east-1", profile: "p" } }, failing(true));
  assert.deepEqual(settings.hostTemplate, {
    unread: "oned at http://127.0.0.1:9/RPC2 cannot be reached",
    overridden: [],
  });
});

Deno.test('"hostTemplate": false spares the call: the template is never read, not even to be shown', async () => {
  for (const always of [false, true]) {
    const template = source(BUILT_IN, {}, always);
    const settings = await load({ defaults: { hostTemplate: false } }, template);
    assert.equal(template.reads.length, 0);
    assert.equal(ec2(settings).region, undefined);
    assert.equal(settings.hostTemplate, undefined);
  }
  const template = source(BUILT_IN);
  await assert.rejects(
    load({ defaults: { hostTemplate: "no" } }, template),
    /^InvalidInputError: Setting "hostTemplate" for host aws in \/\S+\.json must be true or false$/,
  );
  assert.equal(template.reads.length, 0);
});
