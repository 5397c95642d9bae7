import assert from "node:assert/strict";
import { InvalidInputError } from "../util/errors.ts";
import { configuredHosts, loadHostSettings, parseConfig } from "./config.ts";
import { redact } from "../util/redact.ts";
import type { Ec2Connection } from "../providers/ec2/settings.ts";
import { PROVIDER_KINDS } from "../providers/mod.ts";

/** The EC2 connection settings a host's settings carry. */
const ec2 = (settings: { connection: unknown }) => settings.connection as Ec2Connection;

const PATH = "/etc/one/hybrid_driver.json";

Deno.test("parseConfig() lets a host's settings override the defaults", () => {
  const settings = parseConfig(
    PROVIDER_KINDS,
    JSON.stringify({
      defaults: { region: "us-east-1", template: { instancetype: "t3.micro", KEYPAIR: "ops" } },
      hosts: { "aws-eu": { region: "eu-west-1", template: { KEYPAIR: "eu" } } },
    }),
    PATH,
    "aws-eu",
  );
  assert.equal(ec2(settings).region, "eu-west-1");
  assert.deepEqual(settings.template, { INSTANCETYPE: "t3.micro", KEYPAIR: "eu" });
  assert.equal(settings.source, PATH);
  assert.equal(ec2(settings).useInstanceMetadata, false);
  assert.equal(settings.provider, "ec2");
  assert.equal(settings.actionTimeoutSeconds, 300);
  assert.equal(settings.stateWaitSeconds, 240);
});

Deno.test("parseConfig() rejects a host that the hosts section does not list", () => {
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, '{"hosts":{"a":{},"b":{}}}', PATH, "c"),
    new InvalidInputError(`Host "c" is not configured in ${PATH} (configured hosts: a, b)`),
  );
});

Deno.test("parseConfig() serves any host when there is no hosts section", () => {
  assert.equal(
    ec2(parseConfig(PROVIDER_KINDS, '{"defaults":{"profile":"burst"}}', PATH, "anything")).profile,
    "burst",
  );
});

Deno.test("parseConfig() names unknown settings, so typos do not pass silently", () => {
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, '{"defaults":{"regoin":"x"}}', PATH, "a"),
    invalid(`Unknown setting "regoin" in defaults of ${PATH}; did you mean region?`),
  );
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, '{"default":{}}', PATH, "a"),
    invalid(
      `Unknown key "default" at the top level of ${PATH}; did you mean defaults? (expected defaults, hosts)`,
    ),
  );
});

Deno.test("parseConfig() never quotes back an unknown key that may be a pasted secret, and still suggests the setting a typo meant", () => {
  const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  const hidden = (key: string) => `(${key.length} characters, not shown in case it is a secret)`;
  const cases: [string, string][] = [
    [
      JSON.stringify({ defaults: { [secret]: "" } }),
      `Unknown setting ${hidden(secret)} in defaults of ${PATH}`,
    ],
    [
      JSON.stringify({ hosts: { a: { "Partner-s3cret": true } } }),
      `Unknown setting ${hidden("Partner-s3cret")} in hosts.a of ${PATH}`,
    ],
    [
      JSON.stringify({ defaults: { [`aws_secret_access_key = ${secret}`]: 1 } }),
      `Unknown setting ${hidden(`aws_secret_access_key = ${secret}`)} in defaults of ${PATH}`,
    ],
    [
      JSON.stringify({ [secret]: {} }),
      `Unknown key ${hidden(secret)} at the top level of ${PATH} (expected defaults, hosts)`,
    ],
    [
      JSON.stringify({ defaults: { template: { [secret]: "x" } } }),
      `Invalid key ${
        hidden(secret)
      } in defaults.template of ${PATH}: unknown template attribute (known: `,
    ],
    // A typo with a digit is not quoted either, but the setting it meant is named.
    [
      JSON.stringify({ defaults: { region1: "x" } }),
      `Unknown setting ${hidden("region1")} in defaults of ${PATH}; did you mean region?`,
    ],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseConfig(PROVIDER_KINDS, text, PATH, "a"),
      (e: unknown) =>
        e instanceof InvalidInputError && e.message.startsWith(message) &&
        !e.message.includes("s3cret") && !e.message.includes("K7MDENG"),
      message,
    );
  }
});

Deno.test("parseConfig() checks types and pairs", () => {
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, '{"defaults":{"region":5}}', PATH, "a"),
    /"region" for host a .* non-empty string/,
  );
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, '{"defaults":{"accessKeyId":"AKIA1"}}', PATH, "a"),
    /must be given together/,
  );
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, '{"defaults":{"endpoint":"ftp://x"}}', PATH, "a"),
    /must be an http\(s\) URL/,
  );
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, "{", PATH, "a"),
    /Invalid JSON in driver configuration/,
  );
});

const invalid = (message: string) => new InvalidInputError(message);
const config = (defaults: Record<string, unknown>, hosts?: Record<string, unknown>) =>
  JSON.stringify({ defaults, ...(hosts ? { hosts } : {}) });

Deno.test("parseConfig() range-checks every numeric setting, naming the key, file and range", () => {
  const cases: [string, number | string, string][] = [
    ["actionTimeoutSeconds", 3_000_000, "from 15 to 86400"],
    ["actionTimeoutSeconds", 5, "from 15 to 86400"],
    ["stateWaitSeconds", 0, "from 1 to 86390"],
    ["statePollSeconds", 0.001, "from 0.05 to 60"],
    ["statePollSeconds", 61, "from 0.05 to 60"],
    ["notFoundGraceSeconds", -1, "from 1 to 86400"],
    ["notFoundRetrySeconds", 1e9, "from 0.1 to 3600"],
    ["notFoundRetrySeconds", "15", "from 0.1 to 3600"],
    ["pollWindowSeconds", -1, "from 0 to 300"],
    ["pollWindowSeconds", 301, "from 0 to 300"],
  ];
  for (const [key, value, range] of cases) {
    assert.throws(
      () => parseConfig(PROVIDER_KINDS, config({ [key]: value }), PATH, "a"),
      invalid(`Setting "${key}" for host a in ${PATH} must be a number of seconds ${range}`),
    );
  }
  const edges = parseConfig(
    PROVIDER_KINDS,
    config({
      actionTimeoutSeconds: 86_400,
      stateWaitSeconds: 86_390,
      statePollSeconds: 0.05,
      notFoundGraceSeconds: 1,
      notFoundRetrySeconds: 0.1,
    }),
    PATH,
    "a",
  );
  assert.equal(edges.actionTimeoutSeconds, 86_400);
  assert.equal(edges.statePollSeconds, 0.05);
});

Deno.test("parseConfig() shares polls for 20 s unless told, 0 turning sharing off, in an absolute pollStateDir when given", () => {
  const plain = parseConfig(PROVIDER_KINDS, config({}), PATH, "a");
  assert.equal(plain.pollWindowSeconds, 20);
  assert.equal(plain.pollStateDir, undefined);
  const set = parseConfig(
    PROVIDER_KINDS,
    config({ pollWindowSeconds: 0 }, { a: { pollStateDir: "/var/lib/one/poll" } }),
    PATH,
    "a",
  );
  assert.equal(set.pollWindowSeconds, 0);
  assert.equal(set.pollStateDir, "/var/lib/one/poll");
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, config({ pollStateDir: "poll" }), PATH, "a"),
    invalid(`Setting "pollStateDir" for host a in ${PATH} must be an absolute path`),
  );
});

Deno.test("parseConfig() accepts region names of AWS and of EC2-compatible clouds", () => {
  for (const region of ["us-east-1", "us-gov-west-1", "RegionOne", "nova", "eu_lab.2"]) {
    assert.equal(ec2(parseConfig(PROVIDER_KINDS, config({ region }), PATH, "a")).region, region);
  }
});

Deno.test("parseConfig() refuses region names with blanks, slashes or other characters, or too long", () => {
  for (
    const region of ["us east 1", "us-east-1/", "../x", "-us", "us-", "x".repeat(65), "é", "a\tb"]
  ) {
    assert.throws(
      () => parseConfig(PROVIDER_KINDS, config({ region }), PATH, "h"),
      invalid(
        `Setting "region" for host h in ${PATH} must be a region name: up to 64 letters, digits, '-', '_' or '.' (e.g. us-east-1)`,
      ),
      region,
    );
  }
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, config({ region: "  " }), PATH, "h"),
    /non-empty string/,
  );
});

Deno.test("parseConfig() accepts http and https endpoints, with a port and a path", () => {
  for (
    const endpoint of [
      "https://ec2.eu-west-1.amazonaws.com",
      "http://127.0.0.1:8773/services/Cloud",
    ]
  ) {
    assert.equal(
      ec2(parseConfig(PROVIDER_KINDS, config({ endpoint }), PATH, "a")).endpoint,
      endpoint,
    );
  }
});

Deno.test("parseConfig() refuses endpoints that are not plain http(s) URLs, never quoting them", () => {
  const prefix = `Setting "endpoint" for host a in ${PATH} must`;
  const url = "be an http(s) URL such as https://ec2.us-east-1.amazonaws.com";
  const cases: [string, string][] = [
    ["ec2.amazonaws.com", `${prefix} ${url}`],
    ["ftp://ec2.example", `${prefix} ${url}`],
    ["https://", `${prefix} ${url}`],
    ["https://ec2 .example", `${prefix} ${url}, without blanks`],
    ["https://ec2.exa\tmple/", `${prefix} ${url}, without blanks`],
    ["https://ec2.example/?a=b", `${prefix} ${url}, without a query or fragment`],
    ["https://ec2.example/#x", `${prefix} ${url}, without a query or fragment`],
    [`https://ec2.example/${"x".repeat(2048)}`, `${prefix} ${url}, at most 2048 characters`],
    [
      "https://admin:hunter2-pass@ec2.example",
      `${prefix} not contain a user name or password (put credentials in accessKeyId and secretAccessKey)`,
    ],
  ];
  for (const [endpoint, message] of cases) {
    assert.throws(
      () => parseConfig(PROVIDER_KINDS, config({ endpoint }), PATH, "a"),
      invalid(message),
      endpoint,
    );
  }
});

Deno.test("parseConfig() reports a JSON syntax error by line and column, never showing the text", () => {
  const text = '{\n  "defaults": {\n    "secretAccessKey": "wJalrXUtnFEMI/K7MDENG" x\n  }\n}';
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, text, PATH, "a"),
    invalid(
      `Invalid JSON in driver configuration ${PATH} at line 3, column 48: expected ',' or '}'`,
    ),
  );
  const unquoted = '{"defaults": {"secretAccessKey": wJalrXUtnFEMI}}';
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, unquoted, PATH, "a"),
    invalid(
      `Invalid JSON in driver configuration ${PATH} at line 1, column 34: unexpected character, expected a value`,
    ),
  );
});

Deno.test("parseConfig() refuses deep nesting without exhausting memory or the stack", () => {
  const deep = `{"defaults":{"template":${"[".repeat(100_000)}`;
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, deep, PATH, "a"),
    invalid(
      `Invalid JSON in driver configuration ${PATH} at line 1, column 87: objects and arrays nest deeper than 64 levels`,
    ),
  );
});

Deno.test("parseConfig() names an unknown template key, its place and file, and the closest key", () => {
  assert.throws(
    () =>
      parseConfig(
        PROVIDER_KINDS,
        config({}, { aws: { template: { KEYPAIRR: "ops" } } }),
        PATH,
        "aws",
      ),
    invalid(
      `Invalid key "KEYPAIRR" in hosts.aws.template of ${PATH}: unknown template attribute; did you mean KEYPAIR?`,
    ),
  );
  assert.throws(
    () =>
      parseConfig(
        PROVIDER_KINDS,
        config({ template: { subnet_id: "subnet-12345678" } }),
        PATH,
        "aws",
      ),
    invalid(
      `Invalid key "subnet_id" in defaults.template of ${PATH}: unknown template attribute; did you mean SUBNETID?`,
    ),
  );
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, config({ template: { HOST: "aws" } }), PATH, "aws"),
    invalid(
      `Invalid key "HOST" in defaults.template of ${PATH}: it selects a template section, it is not a launch setting`,
    ),
  );
});

Deno.test("parseConfig() does not judge the template of hosts other than its own", () => {
  const text = config({}, { aws: {}, other: { template: { KEYPAIRR: "x" } } });
  assert.deepEqual(parseConfig(PROVIDER_KINDS, text, PATH, "aws").template, {});
});

Deno.test("parseConfig() suggests the closest setting for a misspelt one", () => {
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, config({ actionTimeoutSecond: 60 }), PATH, "a"),
    invalid(
      `Unknown setting "actionTimeoutSecond" in defaults of ${PATH}; did you mean actionTimeoutSeconds?`,
    ),
  );
});

Deno.test("parseConfig() registers secrets so they are never printed", () => {
  parseConfig(
    PROVIDER_KINDS,
    '{"defaults":{"accessKeyId":"AKIA1","secretAccessKey":"s3cr3t-value-123"}}',
    PATH,
    "a",
  );
  assert.equal(redact("oops s3cr3t-value-123"), "oops ***");
});

Deno.test("loadHostSettings() works without a configuration file", async () => {
  const settings = await loadHostSettings(
    PROVIDER_KINDS,
    "aws",
    { get: () => undefined },
    "/nonexistent/default.json",
  );
  assert.equal(settings.source, "");
  assert.equal(settings.host, "aws");
  assert.equal(ec2(settings).region, undefined);
});

Deno.test("loadHostSettings() fails clearly when the named file is missing", async () => {
  await assert.rejects(
    loadHostSettings(PROVIDER_KINDS, "aws", { get: () => "/nonexistent/hybrid.json" }),
    new InvalidInputError(
      "Cannot read driver configuration /nonexistent/hybrid.json: no such file",
    ),
  );
});

Deno.test("loadHostSettings() refuses a configuration larger than 1 MiB, naming it and the limit", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, `{"defaults":{}}${" ".repeat(1024 * 1024)}`);
    await assert.rejects(
      loadHostSettings(PROVIDER_KINDS, "aws", { get: () => path }),
      invalid(`Cannot read driver configuration ${path}: larger than the 1 MiB limit`),
    );
    await Deno.truncate(path, 1024 * 1024);
    assert.equal((await loadHostSettings(PROVIDER_KINDS, "aws", { get: () => path })).host, "aws");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("loadHostSettings() reads a device such as /dev/zero only up to the limit", async () => {
  await assert.rejects(
    loadHostSettings(PROVIDER_KINDS, "aws", { get: () => "/dev/zero" }),
    invalid("Cannot read driver configuration /dev/zero: larger than the 1 MiB limit"),
  );
});

Deno.test("parseConfig() names a host's provider, ec2 unless told, and refuses an unknown one", () => {
  assert.equal(parseConfig(PROVIDER_KINDS, config({ provider: "ec2" }), PATH, "a").provider, "ec2");
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, config({}, { a: { provider: "azure" } }), PATH, "a"),
    invalid(`Setting "provider" for host a in ${PATH} must be one of ec2, opennebula`),
  );
});

Deno.test("parseConfig() checks settings against the host's provider, naming the closest", () => {
  assert.throws(
    () => parseConfig(PROVIDER_KINDS, config({ provider: "ec2", acessKeyId: "x" }), PATH, "a"),
    invalid(`Unknown setting "acessKeyId" in defaults of ${PATH}; did you mean accessKeyId?`),
  );
});

Deno.test("parseConfig() reads a host's capacity: instances per type and totals", () => {
  const settings = parseConfig(
    PROVIDER_KINDS,
    config({}, {
      a: { capacity: { "t3.micro": 10, "m5.large": 0, vcpus: 64, memoryGiB: 0.5, instances: 3 } },
    }),
    PATH,
    "a",
  );
  assert.deepEqual(settings.capacity, {
    "t3.micro": 10,
    "m5.large": 0,
    vcpus: 64,
    memoryGiB: 0.5,
    instances: 3,
  });
  assert.deepEqual(
    parseConfig(PROVIDER_KINDS, config({ capacity: { vcpus: 8, memoryGiB: 32 } }), PATH, "a")
      .capacity,
    { vcpus: 8, memoryGiB: 32 },
  );
  assert.equal(parseConfig(PROVIDER_KINDS, config({}), PATH, "a").capacity, undefined);
});

Deno.test("parseConfig() refuses a capacity it cannot read, saying what is wrong", () => {
  const cases: [unknown, string][] = [
    [[], 'must be an object, e.g. {"t3.micro": 10, "vcpus": 64}'],
    [5, 'must be an object, e.g. {"t3.micro": 10, "vcpus": 64}'],
    [{}, "is empty: give instances per type and/or vcpus and memoryGiB"],
    [{ "t3.micro": 1.5 }, 'has "t3.micro" 1.5; it must be a whole number from 0 to 10000000'],
    [{ "t3.micro": -1 }, 'has "t3.micro" -1; it must be a whole number from 0 to 10000000'],
    [
      { "t3.micro": "2" },
      'has "t3.micro" not a number; it must be a whole number from 0 to 10000000',
    ],
    [{ vcpus: 64 }, 'lists no instance type, so it needs both "vcpus" and "memoryGiB"'],
    [{ instances: 5 }, 'lists no instance type, so it needs both "vcpus" and "memoryGiB"'],
    [
      { "t3.micro": 1, memoryGB: 4 },
      'has "memoryGB", which is neither an instance type (family.size, e.g. t3.micro) nor a total (vcpus, memoryGiB, instances); did you mean memoryGiB?',
    ],
    [
      { T3_MICRO: 1 },
      'has "T3_MICRO", which is neither an instance type (family.size, e.g. t3.micro) nor a total (vcpus, memoryGiB, instances)',
    ],
  ];
  for (const [capacity, problem] of cases) {
    assert.throws(
      () => parseConfig(PROVIDER_KINDS, config({ capacity }), PATH, "a"),
      invalid(`Setting "capacity" for host a in ${PATH} ${problem}`),
      JSON.stringify(capacity),
    );
  }
});

/** Writes a configuration file with this mode; returns its path. */
async function configFile(settings: object, mode: number): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(path, JSON.stringify(settings));
  await Deno.chmod(path, mode);
  return path;
}

Deno.test("loadHostSettings() refuses a file holding secrets that other users may read, with the chmod that fixes it", async () => {
  // The secret is in another host's settings: the file is refused whichever host is served.
  const settings = {
    hosts: {
      a: { profile: "ops" },
      b: { accessKeyId: "AKIA1", secretAccessKey: "mode-test-secret-1" },
    },
  };
  for (const mode of [0o644, 0o640, 0o604, 0o660, 0o601]) {
    const path = await configFile(settings, mode);
    try {
      await assert.rejects(
        loadHostSettings(PROVIDER_KINDS, "a", { get: () => path }),
        invalid(
          `Driver configuration ${path} holds secrets and is readable by other users (mode ${
            mode.toString(8).padStart(4, "0")
          }); run: chmod 600 ${path}`,
        ),
      );
    } finally {
      await Deno.remove(path);
    }
  }
});

Deno.test("loadHostSettings() refuses a readable file whose defaults hold only a session token", async () => {
  const path = await configFile({ defaults: { sessionToken: "mode-test-token-1" } }, 0o644);
  try {
    await assert.rejects(
      loadHostSettings(PROVIDER_KINDS, "a", { get: () => path }),
      invalid(
        `Driver configuration ${path} holds secrets and is readable by other users (mode 0644); run: chmod 600 ${path}`,
      ),
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("loadHostSettings() accepts secrets in a file private to its owner, and a readable file without secrets", async () => {
  const secret = await configFile(
    { defaults: { accessKeyId: "AKIA1", secretAccessKey: "mode-test-secret-2" } },
    0o600,
  );
  const open = await configFile({ defaults: { profile: "ops", roleArn: ROLE_ARN } }, 0o644);
  try {
    assert.equal(
      ec2(await loadHostSettings(PROVIDER_KINDS, "a", { get: () => secret })).accessKeyId,
      "AKIA1",
    );
    assert.equal(
      ec2(await loadHostSettings(PROVIDER_KINDS, "a", { get: () => open })).roleArn,
      ROLE_ARN,
    );
    await Deno.chmod(secret, 0o400);
    assert.equal(
      ec2(await loadHostSettings(PROVIDER_KINDS, "a", { get: () => secret })).accessKeyId,
      "AKIA1",
    );
  } finally {
    await Deno.remove(secret);
    await Deno.remove(open);
  }
});

const ROLE_ARN = "arn:aws:iam::111122223333:role/one-burst";

Deno.test("configuredHosts() lists the hosts in the file's order, none without a hosts section or a file, and refuses bad JSON as loadHostSettings(PROVIDER_KINDS, ) does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/hybrid.json`;
    const env = { get: (name: string) => name === "HYBRID_DRIVER_CONFIG" ? path : undefined };
    await Deno.writeTextFile(path, '{"hosts":{"aws-b":{},"aws-a":{"region":"eu-west-1"}}}');
    assert.deepEqual(await configuredHosts(env), { hosts: ["aws-b", "aws-a"], path });
    await Deno.writeTextFile(path, '{"defaults":{"region":"eu-west-1"}}');
    assert.deepEqual(await configuredHosts(env), { hosts: undefined, path });
    assert.deepEqual(await configuredHosts({ get: () => undefined }, `${dir}/absent.json`), {
      hosts: undefined,
      path: `${dir}/absent.json`,
    });
    await Deno.writeTextFile(path, '{"hosts":');
    const expected = await loadHostSettings(PROVIDER_KINDS, "aws-a", env).catch((e: Error) =>
      e.message
    );
    await assert.rejects(configuredHosts(env), { name: "InvalidInputError", message: expected });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
