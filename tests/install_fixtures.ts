/**
 * What the installers' tests share (tests/install_test.ts, tests/deb_test.ts): stand-ins for
 * OpenNebula's remotes directory as each release installs it, copies of `dist/` that look like
 * other builds, PATHs with only what the installer may run, and a view of a directory tree to
 * compare.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ActionResult } from "./harness.ts";

export const INSTALL = new URL("../scripts/install.ts", import.meta.url).pathname;
export const DIST = new URL("../dist", import.meta.url).pathname;

export const tmp = await Deno.makeTempDir({ prefix: "hybrid-install-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

/** Runs `deno task install`'s script with the task's permissions. */
export async function install(args: string[]): Promise<ActionResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-run=sh", "--allow-env", INSTALL, ...args],
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Where an installed OpenNebula 5.12+ keeps its monitord client's files, under remotes/. */
export const ONE_CLIENT = {
  dummy: "im/dummy.d/monitord-client.rb",
  kvm: "im/kvm.d/monitord-client.rb",
} as const;
/** Where an installed OpenNebula 5.12+ keeps the local shepherd, under remotes/. */
export const ONE_SHEPHERD = {
  dummy: "im/dummy-probes.d/host/beacon/monitord-client-shepherd_local.sh",
  ec2: "im/ec2-probes.d/host/beacon/monitord-client-shepherd_local.sh",
} as const;

/** What a test's remotes tree holds of OpenNebula's monitord client (5.12+). */
export interface MonitordParts {
  /** Where the client is (OpenNebula installs it into im/dummy.d and im/kvm.d), or none. */
  readonly client?: keyof typeof ONE_CLIENT | "none";
  /** Where the local shepherd is (im/dummy-probes.d; 5.12-6.10 also im/ec2-probes.d), or none. */
  readonly shepherd?: keyof typeof ONE_SHEPHERD | "none";
  /** Whether im/lib/ has the client's monitord_client.rb and probe_db.rb. */
  readonly lib?: boolean;
  /** A self-contained OpenNebula: DIR/var/remotes with DIR/etc/oned.conf, DIR = tmp/<label>. */
  readonly selfContained?: boolean;
}

/** A stand-in for a file OpenNebula installs; its text names it and the release. */
export function oneFile(path: string, version: string): string {
  return `# OpenNebula ${version}'s ${path} (stand-in)\n`;
}

/**
 * A remotes directory as OpenNebula installs it (the parts the installer looks for: `vmm/`,
 * `im/`, OpenNebula's own drivers and `scripts_common.sh`, and the `VERSION` file of 4.4 and
 * later unless `version` is null), under `tmp/<label>/remotes`. From 5.12 it also has what an
 * installed tree has of OpenNebula's monitord client: the client in `im/dummy.d` (a file: an
 * installed tree has no `im/common.d`), OpenNebula's control script beside it, the local
 * shepherd in `im/dummy-probes.d/host/beacon`, and the client's `im/lib/`.
 */
export async function openNebulaRemotes(
  label: string,
  version: string | null = "6.0.0",
  parts: MonitordParts = {},
): Promise<string> {
  const remotes = parts.selfContained ? `${tmp}/${label}/var/remotes` : `${tmp}/${label}/remotes`;
  await Deno.mkdir(`${remotes}/vmm/kvm`, { recursive: true });
  await Deno.mkdir(`${remotes}/im/kvm.d`, { recursive: true });
  await Deno.mkdir(`${remotes}/etc/vmm/kvm`, { recursive: true });
  await Deno.writeTextFile(`${remotes}/vmm/kvm/deploy`, "#!/bin/bash\n");
  await Deno.writeTextFile(`${remotes}/scripts_common.sh`, "# OpenNebula\n");
  if (version !== null) await Deno.writeTextFile(`${remotes}/VERSION`, `${version}\n`);
  if (parts.selfContained) {
    await Deno.mkdir(`${tmp}/${label}/etc`, { recursive: true });
    await Deno.writeTextFile(`${tmp}/${label}/etc/oned.conf`, "# OpenNebula's oned.conf\n");
  }
  const [major = 0, minor = 0] = (version ?? "0.0").split(".").map(Number);
  if (major * 100 + minor < 512) return remotes;
  const files: [string, number][] = [];
  const client = parts.client ?? "dummy";
  if (client !== "none") {
    files.push([ONE_CLIENT[client], 0o644]);
    files.push([ONE_CLIENT[client].replace(/\.rb$/, "_control.sh"), 0o755]);
  }
  const shepherd = parts.shepherd ?? "dummy";
  if (shepherd !== "none") files.push([ONE_SHEPHERD[shepherd], 0o755]);
  if (parts.lib ?? true) {
    files.push(["im/lib/monitord_client.rb", 0o644], ["im/lib/probe_db.rb", 0o644]);
  }
  for (const [path, mode] of files) {
    await Deno.mkdir(`${remotes}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${remotes}/${path}`, oneFile(path, version!), { mode });
    await Deno.chmod(`${remotes}/${path}`, mode);
  }
  return remotes;
}

/** OpenNebula's own paths in a test's remotes tree: what install must leave alone. */
export const OPENNEBULA_PATHS =
  /^(etc\/|scripts_common\.sh|VERSION|vmm\/kvm|im\/(kvm\.d|dummy\.d|dummy-probes\.d|ec2-probes\.d|lib)\/)/;

/** Every path under a directory but OpenNebula's own (kvm, etc, scripts_common.sh, VERSION). */
export function installedUnder(remotes: string): string[] {
  return layout(remotes).filter((p) => !OPENNEBULA_PATHS.test(p));
}

/**
 * An empty directory for PATH: the launchers start with `#!/bin/sh` and run nothing else by
 * name, so a Deno installed on this machine cannot be what runs the driver.
 */
export async function bareBin(): Promise<string> {
  const bin = `${tmp}/bare-bin`;
  await Deno.mkdir(bin, { recursive: true });
  return bin;
}

/** Every path under a directory, with what it is: `f 755`, a link's target, or `d`. */
export function layout(dir: string, prefix = ""): string[] {
  const found: string[] = [];
  for (const entry of [...Deno.readDirSync(dir)].sort((a, b) => a.name < b.name ? -1 : 1)) {
    const path = `${prefix}${entry.name}`;
    const full = `${dir}/${entry.name}`;
    if (entry.isSymlink) found.push(`${path} -> ${Deno.readLinkSync(full)}`);
    else if (entry.isDirectory) found.push(`${path}/`, ...layout(full, `${path}/`));
    else found.push(`${path} ${(Deno.statSync(full).mode! & 0o777).toString(8)}`);
  }
  return found;
}

/**
 * A PATH holding only the commands dist/install.sh uses (links to this machine's), so neither
 * Deno nor anything else the installer does not name can be what it runs.
 */
export async function installerBin(): Promise<string> {
  const bin = `${tmp}/installer-bin`;
  await Deno.mkdir(bin, { recursive: true });
  const tools = [
    ...["sh", "sed", "cp", "mkdir", "mv", "rm", "id", "date", "cat", "ls", "chown"],
    ...["grep", "tr", "find", "chmod"],
  ];
  for (const tool of tools) {
    const found = ["/usr/bin", "/bin"].map((d) => `${d}/${tool}`).find((p) => {
      try {
        return Deno.statSync(p).isFile;
      } catch {
        return false;
      }
    });
    assert.ok(found, `${tool} is on this machine`);
    await Deno.symlink(found, `${bin}/${tool}`).catch(() => {});
  }
  return bin;
}

/** A copy of dist/ whose build time is `built` (a newer build, as far as install knows). */
export async function distBuiltAt(label: string, built: string): Promise<string> {
  const copy = `${tmp}/${label}`;
  assert.ok((await new Deno.Command("cp", { args: ["-pRP", DIST, copy] }).output()).success);
  const info = await Deno.readTextFile(`${copy}/BUILD_INFO`);
  await Deno.writeTextFile(`${copy}/BUILD_INFO`, info.replace(/^built=.*$/m, `built=${built}`));
  return copy;
}

/** The name install gives the build in `dist`: its build time, letters and digits only. */
export async function buildName(dist: string): Promise<string> {
  const info = await Deno.readTextFile(`${dist}/BUILD_INFO`);
  return /^built=(.*)$/m.exec(info)![1]!.replace(/[^A-Za-z0-9]/g, "");
}
