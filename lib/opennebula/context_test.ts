import assert from "node:assert/strict";
import { CONTEXT_FILE, isSkippedContextKey, renderContext } from "./context.ts";
import { parseDeployment } from "./template.ts";
import v32 from "../../tests/testdata/deployment_3.2.xml" with { type: "text" };
import v4 from "../../tests/testdata/deployment_4.x_ec2.xml" with { type: "text" };

function decode(text: string | undefined): string {
  assert.ok(text !== undefined, "expected a rendered context");
  return text;
}

/** The rendered #cloud-config of a context. */
function cloudConfig(context: Record<string, string>, vmName?: string): string {
  return decode(renderContext(context, vmName));
}

/** The shell lines written to CONTEXT_FILE, read back from the YAML scalar. */
function contextFileOf(document: string): string {
  const line = document.split("\n").find((l) => l.startsWith("    content: "));
  assert.ok(line, "the document writes the context file");
  // The scalar is double-quoted with JSON-compatible escapes.
  return JSON.parse(line.slice("    content: ".length));
}

Deno.test("renderContext() returns undefined without a context or anything to pass on", () => {
  assert.equal(renderContext(undefined), undefined);
  assert.equal(renderContext({}), undefined);
  assert.equal(
    renderContext({ DISK_ID: "1", TARGET: "hda", NETWORK: "YES", ETH0_IP: "10.0.0.5" }),
    undefined,
  );
  assert.equal(renderContext({ TARGET: "hda" }, "vm", "shell"), undefined);
});

Deno.test("renderContext() renders the 4.x fixture's CONTEXT as a #cloud-config", () => {
  const context = parseDeployment(v4).context;
  assert.ok(context);
  assert.equal(
    decode(renderContext(context, "db-12")),
    [
      "#cloud-config",
      "ssh_authorized_keys:",
      '  - "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3RrZXk alice@laptop"',
      "write_files:",
      "  - path: /context/context.sh",
      '    owner: "root:root"',
      '    permissions: "0600"',
      `    content: "SSH_PUBLIC_KEY='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3RrZXk alice@laptop'\\n"`,
      "",
    ].join("\n"),
  );
});

Deno.test("renderContext() takes the host name from the 3.2 fixture's HOSTNAME", () => {
  const context = parseDeployment(v32).context;
  assert.ok(context);
  const document = cloudConfig(context);
  assert.match(document, /^#cloud-config\nhostname: "web-7"\n/);
  assert.ok(!document.includes("fqdn:"));
  assert.ok(!contextFileOf(document).includes("TARGET="), "TARGET is left out");
});

Deno.test("renderContext() lists every SSH key, one per line, without blanks or comments", () => {
  const document = cloudConfig({
    SSH_PUBLIC_KEY: "ssh-rsa AAAAB3Nza a@one\n\n  # old key\r\nssh-ed25519 AAAAC3Nza b@two  \n",
  });
  assert.match(
    document,
    /\nssh_authorized_keys:\n {2}- "ssh-rsa AAAAB3Nza a@one"\n {2}- "ssh-ed25519 AAAAC3Nza b@two"\nwrite_files:/,
  );
});

Deno.test("renderContext() prefers SET_HOSTNAME to HOSTNAME and splits off the domain", () => {
  const document = cloudConfig({ SET_HOSTNAME: "web-1.example.com", HOSTNAME: "other" });
  assert.match(document, /\nhostname: "web-1"\nfqdn: "web-1\.example\.com"\n/);
  assert.match(cloudConfig({ SET_HOSTNAME: " ", HOSTNAME: "db" }), /\nhostname: "db"\n/);
});

Deno.test("renderContext() cleans host names as one-context does", () => {
  assert.match(cloudConfig({ SET_HOSTNAME: "Web_Server 1" }), /\nhostname: "Web-Server-1"\n/);
  assert.match(
    cloudConfig({ SET_HOSTNAME: "-web-.example..com." }),
    /\nhostname: "web"\nfqdn: "web\.example\.com"\n/,
  );
  assert.match(
    cloudConfig({ SET_HOSTNAME: "a".repeat(70) }),
    new RegExp(`\\nhostname: "${"a".repeat(63)}"\\n`),
  );
  assert.ok(!cloudConfig({ SET_HOSTNAME: "---", VMID: "7" }).includes("hostname:"));
});

Deno.test("renderContext() puts the VM name in place of a $NAME left in SET_HOSTNAME", () => {
  assert.match(cloudConfig({ SET_HOSTNAME: "$NAME" }, "web-3"), /\nhostname: "web-3"\n/);
  assert.match(cloudConfig({ SET_HOSTNAME: "${NAME}.lab" }, "web-3"), /\nfqdn: "web-3\.lab"\n/);
  assert.match(cloudConfig({ SET_HOSTNAME: "$NAMES" }, "web-3"), /\nhostname: "NAMES"\n/);
});

Deno.test("renderContext() leaves out OpenNebula-internal variables", () => {
  for (
    const key of [
      "DISK_ID",
      "TARGET",
      "NETWORK",
      "GATEWAY_IFACE",
      "FILES",
      "FILES_DS",
      "INIT_SCRIPTS",
      "TOKEN",
      "ETH0_IP",
      "ETH12_ALIAS0_MAC",
      "PCI0_MAC",
    ]
  ) {
    assert.ok(isSkippedContextKey(key), key);
  }
  for (const key of ["ETH_IP", "DNS", "ONEGATE_ENDPOINT", "START_SCRIPT", "USERNAME", "VMID"]) {
    assert.ok(!isSkippedContextKey(key), key);
  }
  const file = contextFileOf(cloudConfig({
    DISK_ID: "1",
    ETH0_IP: "192.168.1.5",
    ETH0_MAC: "02:00:c0:a8:01:05",
    FILES_DS: "$FILE[IMAGE_ID=3]",
    START_SCRIPT: "echo hi",
    TOKEN: "YES",
    VMID: "42",
  }));
  assert.equal(file, "START_SCRIPT='echo hi'\nVMID='42'\n");
});

Deno.test("renderContext() leaves out names a shell cannot assign", () => {
  const file = contextFileOf(cloudConfig({ "MY-VAR": "a", "1ST": "b", OK_1: "c" }));
  assert.equal(file, "OK_1='c'\n");
});

Deno.test("renderContext() single-quotes values so a shell reads them back unchanged", () => {
  const file = contextFileOf(cloudConfig({ PASSWORD: `it's "$HOME" \`id\` \\n` }));
  assert.equal(file, `PASSWORD='it'\\''s "$HOME" \`id\` \\n'\n`);
  assert.equal(
    decode(renderContext({ MOTD: "line 1\nline 2", Q: "'" }, undefined, "shell")),
    "MOTD='line 1\nline 2'\nQ=''\\'''\n",
  );
});

Deno.test("renderContext() escapes what YAML cannot carry raw", () => {
  const value = "a\u0085b\u007fc\u2028d\ufeffe\u0001f\tg\u{1F600}h\ud800i";
  const document = cloudConfig({ WEIRD: value });
  const line = document.split("\n").find((l) => l.startsWith("    content: "));
  assert.ok(line);
  for (const escape of ["\\u0085", "\\u007f", "\\u2028", "\\ufeff", "\\u0001", "\\t"]) {
    assert.ok(line.includes(escape), escape);
  }
  assert.ok(!/[\u007f-\u009f\u2028\ufeff]/.test(document), "no raw unsafe characters");
  // A lone surrogate cannot be encoded: it becomes U+FFFD.
  assert.equal(contextFileOf(document), `WEIRD='${value.replace("\ud800", "\ufffd")}'\n`);
});

Deno.test("renderContext() writes the context file for root only", () => {
  const document = cloudConfig({ VMID: "1" });
  assert.equal(CONTEXT_FILE, "/context/context.sh");
  assert.match(
    document,
    /\nwrite_files:\n {2}- path: \/context\/context\.sh\n {4}owner: "root:root"\n {4}permissions: "0600"\n/,
  );
});

Deno.test("renderContext() renders KEY='value' lines alone for the shell format", () => {
  assert.equal(
    decode(renderContext({ SET_HOSTNAME: "web", NETWORK: "YES", VMID: "9" }, "web", "shell")),
    "SET_HOSTNAME='web'\nVMID='9'\n",
  );
});
