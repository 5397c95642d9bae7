/**
 * The preflight as the operator runs it: the built `dist/vmm/provider/doctor`, against the
 * local EC2 endpoint and a stand-in oned, with a good configuration and with broken ones.
 */

import assert from "node:assert/strict";
import {
  AMAZON_LINUX_AMI,
  type Ec2Endpoint,
  startEc2Endpoint,
  TEST_CREDENTIALS,
} from "./ec2_endpoint/mod.ts";
import { DIST_VMM, fenced, runProcess, sharedTest as test, writeLocalConfig } from "./harness.ts";
import { type CheckResult, formatTable } from "../lib/core/preflight.ts";
import { type FakeOned, startFakeOned } from "./oned_xmlrpc.ts";

const DOCTOR = `${DIST_VMM}doctor`;
const KEY = TEST_CREDENTIALS.accessKeyId;
const tmp = await Deno.makeTempDir({ prefix: "hybrid-doctor-" });
const ep: Ec2Endpoint = await startEc2Endpoint({ timing: { pendingMs: 0 } });
const oned: FakeOned = await startFakeOned({ user: "oneadmin", password: "doctor-pass" });
oned.setVersion("5.10.1");
// The hosts the tests check, as oned has them: with nothing in their templates.
for (
  const [id, host] of ["aws-a", "aws-b", "aws-echo", "aws-key", "aws-ami", "aws-env"].entries()
) {
  oned.setHost(id, host);
}
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const AUTH = `${tmp}/one_auth`;
await Deno.writeTextFile(AUTH, "oneadmin:doctor-pass\n");

/** A port nothing listens on: one that was just free. */
const closedPort = (() => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
})();

const good = await writeLocalConfig(`${tmp}/good.json`, ep.url, TEST_CREDENTIALS, {
  defaults: { template: { AMI: AMAZON_LINUX_AMI, INSTANCETYPE: "t3.micro" } },
  hosts: { "aws-a": {}, "aws-b": {} },
});

/** Runs the doctor as oneadmin would, with a configuration and oned's endpoint. */
function doctor(config: string, args: string[] = [], env: Record<string, string> = {}) {
  return runProcess(DOCTOR, args, {
    env: { HOME: tmp, HYBRID_DRIVER_CONFIG: config, ONE_XMLRPC: oned.url, ONE_AUTH: AUTH, ...env },
  });
}

/** The doctor's exact stdout for these rows (the table's layout is `formatTable()`'s, unit-tested). */
function table(rows: [string, string, CheckResult, string][]): string {
  return `${
    formatTable(rows.map(([host, check, result, detail]) => ({ host, check, result, detail })))
      .join("\n")
  }\n`;
}

const ONED_PASS: [string, string, CheckResult, string] = [
  "-",
  "oned",
  "PASS",
  `oned at ${oned.url} answered: OpenNebula 5.10.1`,
];

/** Where a host of `writeLocalConfig()`'s files with template defaults has its settings from. */
const FILE_SOURCES =
  "file (defaults): region, endpoint, accessKeyId, secretAccessKey, template; every other setting: its default";

/** The rows of a host whose every check passes. */
function passing(
  host: string,
  config: string,
  sources = FILE_SOURCES,
): [string, string, CheckResult, string][] {
  return [
    [host, "config", "PASS", config],
    [host, "sources", "PASS", sources],
    [host, "endpoint", "PASS", `${ep.url} answered (region us-east-1)`],
    [host, "credentials", "PASS", `accepted (accessKeyId ${KEY} and its secretAccessKey)`],
    [
      host,
      "default AMI",
      "PASS",
      `${AMAZON_LINUX_AMI} exists (al2023-ami-2023.6.20241010.0-kernel-6.1-x86_64)`,
    ],
    [
      host,
      "launch",
      "PASS",
      `RunInstances of ${AMAZON_LINUX_AMI} (t3.micro) would be allowed (dry run)`,
    ],
  ];
}

test("with a good configuration every check of every host passes, the dry run launches nothing, and the doctor exits 0", async () => {
  const runInstances = ep.countCalls("RunInstances");
  const result = await doctor(good);
  assert.equal(result.stderr, "");
  assert.equal(
    result.stdout,
    table([...passing("aws-a", good), ...passing("aws-b", good), ONED_PASS]),
  );
  assert.equal(result.code, 0);
  assert.ok(result.stdout.split("\n").every((line) => line.length <= 80));
  assert.equal(ep.instances().length, 0, "the dry run launched nothing");
  assert.equal(ep.countCalls("RunInstances"), runInstances + 2);
});

test("the hosts named are the ones checked", async () => {
  const result = await doctor(good, ["aws-b"]);
  assert.equal(result.stdout, table([...passing("aws-b", good), ONED_PASS]));
  assert.equal(result.code, 0);
});

test("a wrong secret fails with AuthFailure and its fix, a missing AMI and an unreachable oned fail with theirs, the secret is never printed, not even when the endpoint quotes it, and the doctor exits 1", async () => {
  const wrong = "wrong/Secret/Key/EXAMPLE0000000000000000";
  const secret = TEST_CREDENTIALS.secretAccessKey;
  // An EC2-compatible endpoint whose refusal quotes the secret key (AWS never does).
  const quoted =
    `The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key ${secret} and signing method.`;
  ep.fail("DescribeInstances", { code: "SignatureDoesNotMatch", message: quoted, status: 403 });
  const broken = await writeLocalConfig(`${tmp}/broken.json`, ep.url, {
    accessKeyId: KEY,
    secretAccessKey: wrong,
  }, {
    hosts: {
      "aws-echo": { secretAccessKey: secret },
      "aws-key": {},
      "aws-ami": {
        secretAccessKey: TEST_CREDENTIALS.secretAccessKey,
        template: { AMI: "ami-00000000000000000" },
      },
    },
  });
  const unreachable = `http://127.0.0.1:${closedPort}/RPC2`;
  const result = await doctor(broken, [], { ONE_XMLRPC: unreachable });
  /** The template of a host whose file decides everything is only shown: unread fails nothing. */
  const unread = (host: string) =>
    `host template: not read (Cannot read host ${host}'s template from oned: oned at ${unreachable} cannot be reached: Connection refused (os error 111)); every other setting: its default`;
  assert.equal(result.stderr, "");
  assert.equal(
    result.stdout,
    table([
      ["aws-echo", "config", "PASS", broken],
      [
        "aws-echo",
        "sources",
        "PASS",
        `file (defaults): region, endpoint, accessKeyId; file (hosts.aws-echo): secretAccessKey; ${
          unread("aws-echo")
        }`,
      ],
      ["aws-echo", "endpoint", "PASS", `${ep.url} answered (region us-east-1)`],
      [
        "aws-echo",
        "credentials",
        "FAIL",
        `DescribeInstances: SignatureDoesNotMatch: ${
          quoted.replace(secret, "***")
        } (host aws-echo, region us-east-1); fix: check accessKeyId ${KEY} and its secretAccessKey of host aws-echo in ${broken}`,
      ],
      ["aws-echo", "default AMI", "SKIP", "needs the credentials accepted"],
      ["aws-echo", "launch", "SKIP", "needs the credentials accepted"],
      ["aws-key", "config", "PASS", broken],
      [
        "aws-key",
        "sources",
        "PASS",
        `file (defaults): region, endpoint, accessKeyId, secretAccessKey; ${unread("aws-key")}`,
      ],
      ["aws-key", "endpoint", "PASS", `${ep.url} answered (region us-east-1)`],
      [
        "aws-key",
        "credentials",
        "FAIL",
        `DescribeInstances: AuthFailure: AWS was not able to validate the provided access credentials (host aws-key, region us-east-1); fix: check accessKeyId ${KEY} and its secretAccessKey of host aws-key in ${broken}`,
      ],
      ["aws-key", "default AMI", "SKIP", "needs the credentials accepted"],
      ["aws-key", "launch", "SKIP", "needs the credentials accepted"],
      ["aws-ami", "config", "PASS", broken],
      [
        "aws-ami",
        "sources",
        "PASS",
        `file (defaults): region, endpoint, accessKeyId; file (hosts.aws-ami): secretAccessKey, template; ${
          unread("aws-ami")
        }`,
      ],
      ["aws-ami", "endpoint", "PASS", `${ep.url} answered (region us-east-1)`],
      ["aws-ami", "credentials", "PASS", `accepted (accessKeyId ${KEY} and its secretAccessKey)`],
      [
        "aws-ami",
        "default AMI",
        "FAIL",
        `ami-00000000000000000 does not exist in region us-east-1; fix: set template.AMI of host aws-ami in ${broken} to an AMI of that region`,
      ],
      ["aws-ami", "launch", "SKIP", "needs the default AMI to exist"],
      [
        "-",
        "oned",
        "FAIL",
        `oned at ${unreachable} cannot be reached: Connection refused (os error 111); fix: start oned, or set ONE_XMLRPC to its endpoint and ONE_AUTH to oneadmin's credentials file`,
      ],
    ]),
  );
  assert.equal(result.code, 1);
  assert.ok(!result.stdout.includes(wrong));
  assert.ok(!result.stdout.includes(secret));
});

test("without an endpoint in the configuration the endpoint row names the one the SDK asks: AWS_ENDPOINT_URL_EC2, else AWS_ENDPOINT_URL", async () => {
  const config = `${tmp}/env-endpoint.json`;
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      defaults: {
        region: "us-east-1",
        ...TEST_CREDENTIALS,
        template: { AMI: AMAZON_LINUX_AMI, INSTANCETYPE: "t3.micro" },
      },
      hosts: { "aws-env": {} },
    }),
    { mode: 0o600 },
  );
  await Deno.chmod(config, 0o600);
  for (const variable of ["AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL"]) {
    const calls = ep.calls.length;
    const result = await doctor(config, [], { [variable]: ep.url });
    const rows = passing(
      "aws-env",
      config,
      `file (defaults): region, accessKeyId, secretAccessKey, template; environment: endpoint from ${variable}; every other setting: its default`,
    );
    rows[2] = [
      "aws-env",
      "endpoint",
      "PASS",
      `${ep.url} (${variable}) answered (region us-east-1)`,
    ];
    assert.equal(result.stdout, table([...rows, ONED_PASS]), variable);
    assert.equal(result.code, 0);
    assert.ok(ep.calls.length > calls, `the SDK asked the endpoint ${variable} names`);
  }
});

test("a configuration with secrets that others may read fails each host's config row with the chmod that fixes it", async () => {
  const open = await writeLocalConfig(`${tmp}/open.json`, ep.url, TEST_CREDENTIALS, {
    hosts: { "aws-a": {} },
  });
  await Deno.chmod(open, 0o644);
  const result = await doctor(open);
  assert.equal(result.stderr, "");
  assert.equal(
    result.stdout,
    table([
      [
        "aws-a",
        "config",
        "FAIL",
        `Driver configuration ${open} holds secrets and is readable by other users (mode 0644); run: chmod 600 ${open}`,
      ],
      ONED_PASS,
    ]),
  );
  assert.equal(result.code, 1);
  assert.ok(!result.stdout.includes(TEST_CREDENTIALS.secretAccessKey));
});

test("a launch the credentials may not make fails the launch row with UnauthorizedOperation and the permission to grant", async () => {
  ep.fail("RunInstances", { code: "UnauthorizedOperation" });
  const result = await doctor(good, ["aws-a"]);
  const rows = passing("aws-a", good);
  rows[5] = [
    "aws-a",
    "launch",
    "FAIL",
    "RunInstances (dry run): UnauthorizedOperation: You are not authorized to perform this operation. (host aws-a, region us-east-1); fix: allow ec2:RunInstances and ec2:CreateTags to the host's IAM identity",
  ];
  assert.equal(result.stdout, table([...rows, ONED_PASS]));
  assert.equal(result.code, 1);
});

test("without OpenNebula credentials the oned row is skipped, saying why, and does not fail the run", async () => {
  const result = await doctor(good, ["aws-a"], { ONE_AUTH: `${tmp}/missing` });
  const missing =
    `Cannot read the OpenNebula credentials file ${tmp}/missing (from ONE_AUTH): it does not exist`;
  assert.equal(
    result.stdout,
    table([
      ...passing(
        "aws-a",
        good,
        `file (defaults): region, endpoint, accessKeyId, secretAccessKey, template; host template: not read (${missing}); every other setting: its default`,
      ),
      [
        "-",
        "oned",
        "SKIP",
        `${missing}; run doctor as oneadmin (or set ONE_AUTH) to check oned and the host probes' access to it`,
      ],
    ]),
  );
  assert.equal(result.code, 0);
});

/** Host `aws-tmpl`, whose region and keys are in its OpenNebula template, as the built-in driver read them. */
const TEMPLATE_HOST = "aws-tmpl";
oned.setHost(10, TEMPLATE_HOST);
oned.setHostCapacity(10, { T3_MICRO: "4" });
await oned.setHostAttributes(10, {
  REGION_NAME: "us-east-1",
  EC2_ACCESS: KEY,
  EC2_SECRET: TEST_CREDENTIALS.secretAccessKey,
});
/** Its configuration: the endpoint and defaults only, so no secret and no mode to keep. */
const templated = `${tmp}/templated.json`;
await Deno.writeTextFile(
  templated,
  JSON.stringify({
    hosts: {
      [TEMPLATE_HOST]: {
        endpoint: ep.url,
        template: { AMI: AMAZON_LINUX_AMI, INSTANCETYPE: "t3.micro" },
      },
    },
  }),
);
const TEMPLATE_SOURCES =
  "file (hosts.aws-tmpl): endpoint, template; host template: region (REGION_NAME), accessKeyId (EC2_ACCESS), secretAccessKey (EC2_SECRET), capacity (CAPACITY); every other setting: its default";

test("a host whose region and keys are in its OpenNebula template: the sources row says so, the keys oned decrypted are accepted, and the doctor exits 0", async () => {
  assert.notEqual(oned.storedHostAttributes(10).EC2_SECRET, TEST_CREDENTIALS.secretAccessKey);
  const result = await doctor(templated);
  assert.equal(result.stderr, "");
  assert.equal(
    result.stdout,
    table([...passing(TEMPLATE_HOST, templated, TEMPLATE_SOURCES), ONED_PASS]),
  );
  assert.equal(result.code, 0);
  assert.ok(!result.stdout.includes(TEST_CREDENTIALS.secretAccessKey));
  assert.ok(!result.stdout.includes(oned.storedHostAttributes(10).EC2_SECRET!));
});

test("a template's secret is never printed, not even when the endpoint quotes it, and the fix names the template", async () => {
  const secret = TEST_CREDENTIALS.secretAccessKey;
  ep.fail("DescribeInstances", {
    code: "SignatureDoesNotMatch",
    message: `Check your AWS Secret Access Key ${secret} and signing method.`,
    status: 403,
  });
  const result = await doctor(templated);
  const rows = passing(TEMPLATE_HOST, templated, TEMPLATE_SOURCES).slice(0, 3);
  assert.equal(
    result.stdout,
    table([
      ...rows,
      [
        TEMPLATE_HOST,
        "credentials",
        "FAIL",
        `DescribeInstances: SignatureDoesNotMatch: Check your AWS Secret Access Key *** and signing method. (host ${TEMPLATE_HOST}, region us-east-1); fix: check accessKeyId ${KEY} and its secretAccessKey of host ${TEMPLATE_HOST} in its OpenNebula template (EC2_ACCESS, EC2_SECRET; onehost update ${TEMPLATE_HOST})`,
      ],
      [TEMPLATE_HOST, "default AMI", "SKIP", "needs the credentials accepted"],
      [TEMPLATE_HOST, "launch", "SKIP", "needs the credentials accepted"],
      ONED_PASS,
    ]),
  );
  assert.equal(result.code, 1);
  assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret));
});

test("5.4–5.8 answer the template's keys encrypted: the doctor decrypts them with oned's ONE_KEY", async () => {
  oned.setVersion("5.8.5");
  try {
    const result = await doctor(templated);
    assert.equal(
      result.stdout,
      table([
        ...passing(TEMPLATE_HOST, templated, TEMPLATE_SOURCES),
        ["-", "oned", "PASS", `oned at ${oned.url} answered: OpenNebula 5.8.5`],
      ]),
    );
    assert.equal(result.code, 0);
    assert.ok(!result.stdout.includes(oned.oneKey));
  } finally {
    oned.setVersion("5.10.1");
  }
});

test("7.x keeps the template's secret unencrypted (its oned.conf lists no HOST_ENCRYPTED_ATTR): the sources row says how to have it encrypted", async () => {
  oned.setVersion("7.4.0");
  try {
    oned.setHost(11, "aws-clear");
    await oned.setHostAttributes(11, {
      REGION_NAME: "us-east-1",
      EC2_ACCESS: KEY,
      EC2_SECRET: TEST_CREDENTIALS.secretAccessKey,
    });
    const config = `${tmp}/clear.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({ hosts: { "aws-clear": { endpoint: ep.url } } }),
    );
    const result = await doctor(config);
    // The row as printed, its wrapped lines joined.
    assert.ok(
      result.stdout.replace(/\s+/g, " ").includes(
        'aws-clear sources PASS file (hosts.aws-clear): endpoint; host template: region (REGION_NAME), accessKeyId (EC2_ACCESS), secretAccessKey (EC2_SECRET); oned keeps EC2_SECRET unencrypted: from OpenNebula 5.10, HOST_ENCRYPTED_ATTR = "EC2_SECRET" in oned.conf (then restart oned and run onehost update aws-clear) has it encrypted; every other setting: its default aws-clear endpoint PASS',
      ),
      result.stdout,
    );
    assert.ok(!result.stdout.includes(TEST_CREDENTIALS.secretAccessKey));
  } finally {
    oned.setVersion("5.10.1");
  }
});

test("settings in the file win over the template's, and the sources row says which the file overrides", async () => {
  const both = await writeLocalConfig(`${tmp}/both.json`, ep.url, TEST_CREDENTIALS, {
    defaults: { template: { AMI: AMAZON_LINUX_AMI, INSTANCETYPE: "t3.micro" } },
    hosts: { [TEMPLATE_HOST]: {} },
  });
  const result = await doctor(both);
  assert.equal(
    result.stdout,
    table([
      ...passing(
        TEMPLATE_HOST,
        both,
        "file (defaults): region, endpoint, accessKeyId, secretAccessKey, template; host template: capacity (CAPACITY); the file overrides the template's REGION_NAME, EC2_ACCESS, EC2_SECRET; every other setting: its default",
      ),
      ONED_PASS,
    ]),
  );
  assert.equal(result.code, 0);
});

test("a configuration without hosts asks for the hosts to check, in one line, exit 1", async () => {
  const any = await writeLocalConfig(`${tmp}/any.json`, ep.url, TEST_CREDENTIALS);
  const result = await doctor(any);
  const line =
    `doctor: ${any} lists no hosts (without "hosts" it serves any host name): name the hosts to check, e.g. doctor <host>`;
  assert.equal(result.stdout, `${line}\n`);
  assert.equal(result.stderr, fenced(line));
  assert.equal(result.code, 1);
});
