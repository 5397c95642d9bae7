/**
 * OpenNebula contextualization without a context CD-ROM: the template's `CONTEXT` rendered as
 * a cloud's user data (the provider checks its size and encodes it), as OpenNebula's EC2 driver
 * did when no `USERDATA` was given
 * (4.14.2: `KEY="VALUE"` lines; 5.8 with `CLOUD_INIT=yes`: a `#cloud-config`).
 *
 * The default is a cloud-init `#cloud-config` document:
 *
 * - `ssh_authorized_keys` from `SSH_PUBLIC_KEY` (one key per line; blank and `#` lines
 *   dropped), for the AMI's default user;
 * - `hostname` (and `fqdn` when the name has a domain) from `SET_HOSTNAME`, OpenNebula's
 *   variable, else `HOSTNAME` (OpenNebula 3.2 templates); cleaned the way one-context cleans
 *   it (characters other than letters, digits, `-` and `.` become `-`);
 * - `write_files`: every kept variable as a `KEY='value'` line in {@link CONTEXT_FILE}
 *   (mode 0600, root), where OpenNebula's one-context looks for a `context.sh` when there is
 *   no CD-ROM, and which scripts can source.
 *
 * The `shell` format is the `KEY='value'` lines alone: the user data one-context itself reads
 * and sources on EC2 (AMIs without cloud-init).
 *
 * Variables that only make sense on OpenNebula's own hosts are left out (see
 * {@link isSkippedContextKey}): the context disk (`DISK_ID`, `TARGET`), the virtual networks
 * (`NETWORK`, `ETH<n>_*`, `PCI<n>_*`, `GATEWAY_IFACE`: an EC2 instance gets its network from
 * the VPC, and one-context applying them would break it), files shipped on the CD-ROM
 * (`FILES`, `FILES_DS`, `INIT_SCRIPTS`) and the OneGate token file request (`TOKEN`).
 *
 * @module
 */

import type { ContextFormat } from "../core/provider.ts";

/** Where the `#cloud-config` writes the context variables. */
export const CONTEXT_FILE = "/context/context.sh";

/** Context variables that mean nothing on EC2. */
const SKIPPED_KEYS = new Set([
  "DISK_ID",
  "TARGET",
  "NETWORK",
  "GATEWAY_IFACE",
  "FILES",
  "FILES_DS",
  "INIT_SCRIPTS",
  "TOKEN",
]);
/** Per-NIC variables of OpenNebula's virtual networks (`ETH0_IP`, `ETH1_ALIAS0_MAC`, `PCI0_MAC`). */
const SKIPPED_PREFIX = /^(?:ETH|PCI)\d+_/;
/** Names a POSIX shell can assign. */
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Characters YAML may not carry raw (C1 controls, DEL, non-characters) or reads as breaks. */
const YAML_UNSAFE = /[\u007F-\u009F\u2028\u2029\uFEFF\uFFFE\uFFFF]/g;

/**
 * Whether a context variable is left out of the user data because it only makes sense on
 * OpenNebula's own hosts.
 *
 * @param key A context variable name, upper case.
 * @returns true for `DISK_ID`, `TARGET`, `NETWORK`, `GATEWAY_IFACE`, `FILES`, `FILES_DS`,
 * `INIT_SCRIPTS`, `TOKEN` and the `ETH<n>_*` and `PCI<n>_*` families.
 */
export function isSkippedContextKey(key: string): boolean {
  return SKIPPED_KEYS.has(key) || SKIPPED_PREFIX.test(key);
}

/** A YAML double-quoted scalar: JSON's escapes, plus those YAML needs beyond JSON's. */
function yamlString(value: string): string {
  return JSON.stringify(value.toWellFormed()).replace(
    YAML_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A shell single-quoted word: `'` becomes `'\''`. */
function shellWord(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** The host name asked for, cleaned as one-context does; undefined when none is usable. */
function hostNameOf(
  context: Readonly<Record<string, string>>,
  vmName: string | undefined,
): string | undefined {
  let name = (context.SET_HOSTNAME ?? "").trim() || (context.HOSTNAME ?? "").trim();
  if (vmName !== undefined) name = name.replace(/\$(?:NAME\b|\{NAME\})/g, vmName);
  const labels = name.replace(/[^-a-zA-Z0-9.]/g, "-").split(".")
    .map((label) => label.replace(/^-+|-+$/g, "").slice(0, 63))
    .filter((label) => label !== "");
  if (labels.length === 0) return undefined;
  return labels.join(".");
}

function shellLines(entries: readonly [string, string][]): string {
  return entries.map(([key, value]) => `${key}=${shellWord(value)}\n`).join("");
}

function cloudConfig(
  context: Readonly<Record<string, string>>,
  entries: readonly [string, string][],
  vmName: string | undefined,
): string | undefined {
  const lines = ["#cloud-config"];
  const name = hostNameOf(context, vmName);
  if (name !== undefined) {
    const short = name.split(".")[0]!;
    lines.push(`hostname: ${yamlString(short)}`);
    if (name !== short && name.length <= 253) lines.push(`fqdn: ${yamlString(name)}`);
  }
  const keys = (context.SSH_PUBLIC_KEY ?? "").split(/\r?\n/).map((k) => k.trim())
    .filter((k) => k !== "" && !k.startsWith("#"));
  if (keys.length > 0) {
    lines.push("ssh_authorized_keys:", ...keys.map((k) => `  - ${yamlString(k)}`));
  }
  if (entries.length > 0) {
    lines.push(
      "write_files:",
      `  - path: ${CONTEXT_FILE}`,
      '    owner: "root:root"',
      '    permissions: "0600"',
      `    content: ${yamlString(shellLines(entries))}`,
    );
  }
  return lines.length > 1 ? lines.join("\n") + "\n" : undefined;
}

/**
 * The context variables worth passing to a guest away from OpenNebula's own hosts: those a
 * shell can assign, without the ones {@link isSkippedContextKey} names. Values as written.
 *
 * @param context `Deployment.context`: the variables with upper-case keys.
 * @returns The variables; undefined when there is no context or nothing in it to pass on.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contextVariables } from "./context.ts";
 * assert.deepEqual(
 *   contextVariables({ DISK_ID: "1", ETH0_IP: "10.0.0.2", SET_HOSTNAME: "web-1", "A-B": "x" }),
 *   { SET_HOSTNAME: "web-1" },
 * );
 * assert.equal(contextVariables({ TARGET: "hda" }), undefined);
 * ```
 */
export function contextVariables(
  context: Readonly<Record<string, string>> | undefined,
): Record<string, string> | undefined {
  if (context === undefined) return undefined;
  const entries = Object.entries(context).filter(([key]) =>
    SHELL_NAME.test(key) && !isSkippedContextKey(key.toUpperCase())
  );
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/**
 * Renders a VM's `CONTEXT` for a guest without OpenNebula's context CD-ROM (as user data).
 *
 * Variables whose names a shell cannot assign (e.g. with `-`) and those
 * {@link isSkippedContextKey} names are left out; values are kept as written.
 *
 * @param context `Deployment.context`: the variables with upper-case keys.
 * @param vmName The VM's name, put in place of `$NAME` left in `SET_HOSTNAME`/`HOSTNAME`.
 * @param format `cloud-config` (default) or `shell`.
 * @returns The text; undefined when there is no context or nothing in it to pass on.
 * @example The context of an OpenNebula template
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderContext } from "./context.ts";
 *
 * // CONTEXT = [ NETWORK="YES", SET_HOSTNAME="$NAME", TARGET="hda",
 * //   SSH_PUBLIC_KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3RrZXk oneadmin@frontend" ]
 * // in VM "web-1": oned has put the name in place of $NAME and added DISK_ID.
 * const text = renderContext({
 *   DISK_ID: "1",
 *   NETWORK: "YES",
 *   SET_HOSTNAME: "web-1",
 *   SSH_PUBLIC_KEY: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3RrZXk oneadmin@frontend",
 *   TARGET: "hda",
 * });
 * assert.equal(
 *   text,
 *   `#cloud-config
 * hostname: "web-1"
 * ssh_authorized_keys:
 *   - "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3RrZXk oneadmin@frontend"
 * write_files:
 *   - path: /context/context.sh
 *     owner: "root:root"
 *     permissions: "0600"
 *     content: "SET_HOSTNAME='web-1'\\nSSH_PUBLIC_KEY='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3RrZXk oneadmin@frontend'\\n"
 * `,
 * );
 * assert.equal(renderContext({ TARGET: "hda", NETWORK: "YES" }), undefined);
 * ```
 */
export function renderContext(
  context: Readonly<Record<string, string>> | undefined,
  vmName?: string,
  format: ContextFormat = "cloud-config",
): string | undefined {
  if (context === undefined) return undefined;
  const entries = Object.entries(contextVariables(context) ?? {});
  return format === "shell"
    ? (entries.length > 0 ? shellLines(entries) : undefined)
    : cloudConfig(context, entries, vmName);
}
