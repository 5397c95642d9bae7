/**
 * The preflight `doctor` for partner OpenNebula cloud hosts: the built
 * `dist/vmm/provider/doctor` against a stand-in partner oned, with a good configuration and with
 * broken ones (endpoint, credentials, credentials file, release, default template). Exact
 * tables.
 */

import assert from "node:assert/strict";
import { DIST_VMM, runProcess, sharedTest as test } from "./harness.ts";
import { type CheckResult, formatTable } from "../lib/core/preflight.ts";
import { type PartnerOned, startPartnerOned } from "./partner_oned.ts";

const PASSWORD = "Doctor-s3cret";
const tmp = await Deno.makeTempDir({ prefix: "hybrid-partner-doctor-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const partner: PartnerOned = await startPartnerOned({ password: PASSWORD });
partner.templates.set(7, { name: "small", context: {} });
partner.templates.set(8, { name: "theirs", context: {}, forbidden: true });

const deadUrl = (() => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return `http://127.0.0.1:${port}/RPC2`;
})();

/** Writes a private configuration of partner hosts. */
async function configWith(name: string, hosts: Record<string, unknown>): Promise<string> {
  const path = `${tmp}/${name}.json`;
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      defaults: { provider: "opennebula", endpoint: partner.url, template: { TEMPLATE_ID: "7" } },
      hosts,
    }),
    { mode: 0o600 },
  );
  await Deno.chmod(path, 0o600);
  return path;
}

/** Runs the doctor without OpenNebula credentials of this front-end (the oned row skips). */
function doctor(config: string, args: string[] = []) {
  return runProcess(`${DIST_VMM}doctor`, args, {
    env: { HOME: tmp, HYBRID_DRIVER_CONFIG: config, ONE_AUTH: `${tmp}/no_one_auth` },
  });
}

const ONED_SKIP: [string, string, CheckResult, string] = [
  "-",
  "oned",
  "SKIP",
  `Cannot read the OpenNebula credentials file ${tmp}/no_one_auth (from ONE_AUTH): it does not exist; run doctor as oneadmin (or set ONE_AUTH) to check oned and the host probes' access to it`,
];

/**
 * The `sources` row of a partner host of {@link configWith}'s files: the defaults' provider,
 * endpoint and template, then the host's own settings (a partner host reads none from its
 * OpenNebula template).
 */
function sources(
  host: string,
  own: string,
  defaults = "provider, endpoint, template",
): [string, string, CheckResult, string] {
  return [
    host,
    "sources",
    "PASS",
    `file (defaults): ${defaults}; file (hosts.${host}): ${own}; every other setting: its default`,
  ];
}

/** Fails when any 8 characters in a row of the secret are printed (whole, or cut by wrapping). */
function assertNoPieceOf(secret: string, printed: string): void {
  for (let at = 0; at + 8 <= secret.length; at++) {
    const piece = secret.slice(at, at + 8);
    assert.ok(!printed.includes(piece), `"${piece}" of a secret was printed`);
  }
}

function table(rows: [string, string, CheckResult, string][]): string {
  return `${
    formatTable(rows.map(([host, check, result, detail]) => ({ host, check, result, detail })))
      .join("\n")
  }\n`;
}

test("a good partner host passes the endpoint, credentials and default template checks, and the doctor exits 0", async () => {
  const authFile = `${tmp}/partner_auth`;
  await Deno.writeTextFile(authFile, `partner:${PASSWORD}\n`, { mode: 0o600 });
  await Deno.chmod(authFile, 0o600);
  const good = await configWith("good", {
    "partner-a": { user: "partner", password: PASSWORD },
    "partner-file": { authFile, template: {} },
  });
  const calls = partner.calls.length;
  const result = await doctor(good, ["partner-a", "partner-file"]);
  assert.equal(result.stderr, "");
  const passing = (host: string, own: string): [string, string, CheckResult, string][] => [
    [host, "config", "PASS", good],
    sources(host, own, host === "partner-file" ? "provider, endpoint" : undefined),
    [host, "endpoint", "PASS", `${partner.url} answered`],
    [host, "credentials", "PASS", "accepted (user partner, id 2)"],
    [host, "release", "PASS", "OpenNebula 6.10.0, supported (4.14 to 7.x)"],
    [host, "default template", "PASS", "template 7 exists (small, CPU 1, MEMORY 512 MB)"],
  ];
  assert.equal(
    result.stdout,
    table([
      ...passing("partner-a", "user, password"),
      ...passing("partner-file", "authFile, template"),
      ONED_SKIP,
    ]),
  );
  assert.equal(result.code, 0);
  assert.deepEqual(
    partner.calls.slice(calls).map((c) => c.method),
    [
      "one.user.info",
      "one.system.version",
      "one.template.info",
      "one.user.info",
      "one.system.version",
      "one.template.info",
    ],
    "nothing but reads",
  );
  assert.ok(!result.stdout.includes(PASSWORD));
});

test("a broken partner host fails the check at fault with its fix: endpoint, password, credentials file, missing or forbidden template; the password is never printed, not even when the partner quotes it in a detail long enough to be wrapped", async () => {
  // Longer than a detail line: wrapped before redaction, it would be cut across lines.
  const echoPassword = `Echo-s3cret-${"0123456789abcdef".repeat(3)}`;
  partner.fail("one.user.info", "echo-session");
  const openFile = `${tmp}/open_auth`;
  await Deno.writeTextFile(openFile, `partner:${PASSWORD}\n`);
  await Deno.chmod(openFile, 0o644);
  const broken = await configWith("broken", {
    "p-down": { user: "partner", password: PASSWORD, endpoint: deadUrl },
    "p-echo": { user: "partner", password: echoPassword },
    "p-wrong": { user: "partner", password: "not-the-password" },
    "p-open": { authFile: openFile },
    "p-missing": { user: "partner", password: PASSWORD, template: { TEMPLATE_ID: "99" } },
    "p-theirs": { user: "partner", password: PASSWORD, template: { TEMPLATE_ID: "8" } },
  });
  const result = await doctor(broken);
  assert.equal(result.stderr, "");
  const fixTemplate = (host: string) =>
    `set template.TEMPLATE_ID of host ${host} in ${broken} to a template user partner may instantiate (onetemplate list on the partner)`;
  const credentialsPass = (host: string): [string, string, CheckResult, string][] => [
    [host, "config", "PASS", broken],
    sources(host, "user, password, template", "provider, endpoint"),
    [host, "endpoint", "PASS", `${partner.url} answered`],
    [host, "credentials", "PASS", "accepted (user partner, id 2)"],
    [host, "release", "PASS", "OpenNebula 6.10.0, supported (4.14 to 7.x)"],
  ];
  const skipped = (host: string): [string, string, CheckResult, string][] =>
    (["release", "default template"] as const).map((check) => [
      host,
      check,
      "SKIP",
      "needs the credentials accepted",
    ]);
  assert.equal(
    result.stdout,
    table([
      ["p-down", "config", "PASS", broken],
      sources("p-down", "user, password, endpoint", "provider, template"),
      [
        "p-down",
        "endpoint",
        "FAIL",
        `Cannot read the partner user: the partner cloud at ${deadUrl} cannot be reached: Connection refused (os error 111); fix: check "endpoint" of host p-down in ${broken} (the partner's XML-RPC URL, usually port 2633 and /RPC2), and the network (proxy, firewall)`,
      ],
      ["p-down", "credentials", "SKIP", "the endpoint did not answer"],
      ...skipped("p-down"),
      ["p-echo", "config", "PASS", broken],
      sources("p-echo", "user, password"),
      ["p-echo", "endpoint", "PASS", `${partner.url} answered`],
      [
        "p-echo",
        "credentials",
        "FAIL",
        `Cannot read the partner user: the partner cloud at ${partner.url} answered one.user.info with error 256: [one.user.info] User couldn't be authenticated with session partner:***, aborting call. (check the partner user and its password for this host); fix: check "user" and "password" of host p-echo in ${broken} with the partner (oneuser show)`,
      ],
      ...skipped("p-echo"),
      ["p-wrong", "config", "PASS", broken],
      sources("p-wrong", "user, password"),
      ["p-wrong", "endpoint", "PASS", `${partner.url} answered`],
      [
        "p-wrong",
        "credentials",
        "FAIL",
        `Cannot read the partner user: the partner cloud at ${partner.url} answered one.user.info with error 256: [one.user.info] User couldn't be authenticated, aborting call. (check the partner user and its password for this host); fix: check "user" and "password" of host p-wrong in ${broken} with the partner (oneuser show)`,
      ],
      ...skipped("p-wrong"),
      ["p-open", "config", "PASS", broken],
      sources("p-open", "authFile"),
      ["p-open", "endpoint", "SKIP", "needs the credentials to call it with"],
      [
        "p-open",
        "credentials",
        "FAIL",
        `The partner cloud's credentials file ${openFile} is readable by other users (mode 0644); run: chmod 600 ${openFile}`,
      ],
      ...skipped("p-open"),
      ...credentialsPass("p-missing"),
      [
        "p-missing",
        "default template",
        "FAIL",
        `Partner template 99: the partner cloud at ${partner.url} answered one.template.info with error 1024: [one.template.info] Error getting template [99].; fix: ${
          fixTemplate("p-missing")
        }`,
      ],
      ...credentialsPass("p-theirs"),
      [
        "p-theirs",
        "default template",
        "FAIL",
        `Partner template 8: the partner cloud at ${partner.url} answered one.template.info with error 512: [one.template.info] User [2] : Not authorized to perform USE TEMPLATE [8].; fix: ask the partner to give user partner USE of template 8, or ${
          fixTemplate("p-theirs")
        }`,
      ],
      ONED_SKIP,
    ]),
  );
  assert.equal(result.code, 1);
  assertNoPieceOf(echoPassword, result.stdout);
  assert.ok(!result.stdout.includes("not-the-password"));
  assert.ok(!result.stdout.includes(PASSWORD));
});

test("a partner host without a default template skips that check, saying where to set one, and does not fail the run", async () => {
  const config = await configWith("no-template", {});
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      hosts: {
        "partner-b": {
          provider: "opennebula",
          endpoint: partner.url,
          user: "partner",
          password: PASSWORD,
        },
      },
    }),
  );
  const result = await doctor(config);
  assert.equal(
    result.stdout,
    table([
      ["partner-b", "config", "PASS", config],
      [
        "partner-b",
        "sources",
        "PASS",
        "file (hosts.partner-b): provider, endpoint, user, password; every other setting: its default",
      ],
      ["partner-b", "endpoint", "PASS", `${partner.url} answered`],
      ["partner-b", "credentials", "PASS", "accepted (user partner, id 2)"],
      ["partner-b", "release", "PASS", "OpenNebula 6.10.0, supported (4.14 to 7.x)"],
      [
        "partner-b",
        "default template",
        "SKIP",
        `no default template: set "template": {"TEMPLATE_ID": ...} for host partner-b in ${config}, or give TEMPLATE_ID in each VM's PUBLIC_CLOUD section`,
      ],
      ONED_SKIP,
    ]),
  );
  assert.equal(result.code, 0);
});

test("doctor reports each partner's release: 4.14, 5.12, 6.10 and 7.4 are supported; 4.12, 8.0 and a partner that does not say are not, each with its fix", async () => {
  const releases = ["4.14.2", "5.12.13", "6.10.5", "7.4.0", "4.12.1", "8.0.0"];
  const partners = await Promise.all(
    releases.map((release) => startPartnerOned({ password: PASSWORD, release })),
  );
  try {
    for (const p of partners) p.templates.set(7, { name: "small", context: {} });
    const hosts = Object.fromEntries(
      partners.map((
        p,
        i,
      ) => [`r-${releases[i]}`, { endpoint: p.url, user: "partner", password: PASSWORD }]),
    );
    const config = await configWith("releases", hosts);
    const result = await doctor(config, Object.keys(hosts));
    const release = (i: number, result: CheckResult, detail: string) => {
      const host = `r-${releases[i]}`;
      return [
        [host, "config", "PASS", config],
        sources(host, "endpoint, user, password", "provider, template"),
        [host, "endpoint", "PASS", `${partners[i]!.url} answered`],
        [host, "credentials", "PASS", "accepted (user partner, id 2)"],
        [host, "release", result, detail],
        [host, "default template", "PASS", "template 7 exists (small, CPU 1, MEMORY 512 MB)"],
      ] as [string, string, CheckResult, string][];
    };
    const supported = (i: number) =>
      release(i, "PASS", `OpenNebula ${releases[i]}, supported (4.14 to 7.x)`);
    assert.equal(
      result.stdout,
      table([
        ...supported(0),
        ...supported(1),
        ...supported(2),
        ...supported(3),
        ...release(
          4,
          "FAIL",
          "OpenNebula 4.12.1 is not supported (4.14 to 7.x): older than 4.14 (the driver sends it 4.14's action names, unchecked there); fix: upgrade the partner's OpenNebula to 4.14 or later",
        ),
        ...release(
          5,
          "FAIL",
          "OpenNebula 8.0.0 is not supported (4.14 to 7.x): newer than the driver knows (it sends it 7.x's action names, unchecked there); fix: use a driver that supports OpenNebula 8.0",
        ),
        ONED_SKIP,
      ]),
    );
    assert.equal(result.code, 1);
    assert.deepEqual(partners.map((p) => p.count("one.system.version")), [1, 1, 1, 1, 1, 1]);
  } finally {
    await Promise.all(partners.map((p) => p.close()));
  }
});

test("doctor fails the release check of a partner that does not answer one.system.version, saying so", async () => {
  const config = await configWith("silent", {
    "r-silent": { user: "partner", password: PASSWORD },
  });
  partner.fail("one.system.version", "html", 1);
  const result = await doctor(config);
  const text = result.stdout.replace(/\s+/g, " ");
  assert.match(
    text,
    / r-silent release FAIL Cannot ask the partner's release: the partner cloud at \S+ answered one\.system\.version with [^;]+; fix: the partner must answer one\.system\.version \(OpenNebula 4\.14 to 7\.x\) r-silent default template PASS /,
  );
  assert.equal(result.code, 1);
});

globalThis.addEventListener("unload", () => void partner.close());
