/**
 * Builds the Debian package of a build: `deno task build && deno task deb` writes
 * `one-hybrid_<version>_<arch>.deb` beside `dist/`, made offline with `dpkg-deb`. It holds:
 *
 * ```
 * /usr/lib/one-hybrid/...                    dist/ as it is: launchers, driver program, install.sh
 * /etc/one/hybrid_driver.json                the configuration (a conffile: kept on upgrade)
 * /usr/share/doc/one-hybrid/                 README.md, docs/, examples/hybrid_driver.json
 * DEBIAN/postinst, prerm, postrm             scripts/deb/: they run /usr/lib/one-hybrid/install.sh
 * DEBIAN/triggers                            interest in /var/lib/one/remotes (OpenNebula upgraded)
 * ```
 *
 * The driver's files in OpenNebula's remotes directory are not the package's: they depend on
 * the OpenNebula release found at install time, and the build's installer writes them (see
 * docs/install-and-upgrade.md, "The Debian package").
 *
 * Usage: `deno task deb --help`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { parseCli } from "./cli.ts";

/** What `--help` prints. */
const USAGE = `Usage: deno task deb [--dist DIR] [--out DIR] [--version VERSION]
                    [--maintainer "NAME <EMAIL>"] [--compress xz|gzip|zstd|none]

Builds the Debian package one-hybrid_<version>_<arch>.deb of the build in DIR (run "deno task
build" first) with dpkg-deb, offline. Installing it installs the driver into OpenNebula as
DIR/install.sh does; upgrading it keeps the last install's options and the configuration;
purging it removes everything (docs/install-and-upgrade.md).

  --dist DIR         the build (dist/ of this checkout)
  --out DIR          where the package goes (the directory that holds dist/)
  --version VERSION  the package's version (default: <release>+<build time>, the release
                     from BUILD_INFO's version= line, else 0: e.g. 0+20261130.090612848, so
                     that a later build upgrades an earlier one)
  --maintainer TEXT  the package's Maintainer field (default: $DEBFULLNAME <$DEBEMAIL>, else
                     git's user.name and user.email)
  --compress TYPE    dpkg-deb's compressor (xz, which every dpkg reads; zstd needs dpkg 1.21.18)

Exit status: 0 built, 1 failed, 2 bad command line.`;

const ROOT = new URL("..", import.meta.url).pathname;
/** Where the build goes on the front-end: OpenNebula's own packages put programs in /usr/lib/one. */
const LIB = "usr/lib/one-hybrid";
/** The configuration, where the driver reads it by default (lib/core/config.ts). */
const CONFIG = "etc/one/hybrid_driver.json";
const DOC = "usr/share/doc/one-hybrid";
/** The package's configuration: no setting, so the driver behaves as with no file at all. */
const CONFIG_TEXT = '{\n  "defaults": {}\n}\n';
/** Deno's targets and Debian's names for them. */
const ARCHITECTURES: Readonly<Record<string, string>> = {
  "x86_64-unknown-linux-gnu": "amd64",
  "aarch64-unknown-linux-gnu": "arm64",
};
const COMPRESSORS = ["xz", "gzip", "zstd", "none"];

const { values: options } = parseCli("build_deb", USAGE, () =>
  parseArgs({
    args: Deno.args,
    options: {
      dist: { type: "string", default: `${ROOT}dist` },
      out: { type: "string" },
      version: { type: "string" },
      maintainer: { type: "string" },
      compress: { type: "string", default: "xz" },
    },
  }));

const dist = absolute(options.dist!).replace(/\/+$/, "");
const out = options.out === undefined
  ? dist.slice(0, dist.lastIndexOf("/")) || "/"
  : absolute(options.out);
if (!COMPRESSORS.includes(options.compress!)) {
  fail(`--compress "${options.compress}": give one of ${COMPRESSORS.join(", ")}`);
}

const info = await readBuildInfo(dist);
const architecture = ARCHITECTURES[info.target] ??
  fail(
    `${dist} was built for ${info.target}; a package is made for ${
      Object.keys(ARCHITECTURES).join(" or ")
    }`,
  );
// The release BUILD_INFO names (its version= line, when the build has one), else 0, then the
// build time: builds of one release upgrade each other in the order they were made.
const release = /^v?([0-9][A-Za-z0-9.~]*)/.exec(info.version)?.[1] ?? "0";
const version = options.version ??
  `${release}+${info.built.replace(/[^0-9]/g, "").replace(/^(\d{8})/, "$1.")}`;
if (!/^[0-9][A-Za-z0-9.+~]*$/.test(version)) {
  fail(
    `--version "${version}": give a Debian version such as 1.2 or 1.2+20261130 (digits first; letters, digits, . + ~)`,
  );
}
const maintainer = options.maintainer ?? await defaultMaintainer();
if (!/^[^<>\n]+ <[^<>\s]+@[^<>\s]+>$/.test(maintainer)) {
  fail(
    `--maintainer "${maintainer}": give a name and an e-mail address, as "Jane Doe <jane@example.org>"`,
  );
}

const stage = await Deno.makeTempDir({ prefix: "one-hybrid-deb-" });
try {
  await Deno.chmod(stage, 0o755); // the package's "./": dpkg gives it to /
  const deb = `${out}/one-hybrid_${version}_${architecture}.deb`;
  await copyTree(dist, `${stage}/${LIB}`);
  await writeFile(`${stage}/${CONFIG}`, CONFIG_TEXT, 0o600);
  await writeFile(`${stage}/${DOC}/README.md`, await Deno.readTextFile(`${ROOT}README.md`), 0o644);
  await copyTree(`${ROOT}docs`, `${stage}/${DOC}/docs`);
  await writeFile(`${stage}/${DOC}/examples/hybrid_driver.json`, exampleConfig(), 0o644);
  await normaliseModes(stage);
  const md5sums = await sums(stage, [CONFIG]);
  await Deno.mkdir(`${stage}/DEBIAN`, { mode: 0o755 });
  await Deno.chmod(`${stage}/DEBIAN`, 0o755);
  await writeFile(`${stage}/DEBIAN/control`, control(await installedSize(stage)), 0o644);
  await writeFile(`${stage}/DEBIAN/conffiles`, `/${CONFIG}\n`, 0o644);
  await writeFile(`${stage}/DEBIAN/triggers`, "interest-noawait /var/lib/one/remotes\n", 0o644);
  await writeFile(`${stage}/DEBIAN/md5sums`, md5sums, 0o644);
  for (const script of ["postinst", "prerm", "postrm"]) {
    const text = await Deno.readTextFile(`${ROOT}scripts/deb/${script}`);
    await writeFile(`${stage}/DEBIAN/${script}`, text.replaceAll("@NAME@", info.driver), 0o755);
  }
  await Deno.mkdir(out, { recursive: true });
  const built = await run("dpkg-deb", [
    "--root-owner-group",
    `-Z${options.compress}`,
    "--build",
    stage,
    deb,
  ]);
  if (!built.ok) fail(`dpkg-deb could not build ${deb}: ${built.stderr.trim()}`);
  const size = (await Deno.stat(deb)).size;
  console.log(
    `Built ${deb} (${
      (size / 1024 / 1024).toFixed(1)
    } MB): one-hybrid ${version} for ${architecture}, the ${info.driver} driver (${info.mode} build); install with: sudo apt install ${deb}`,
  );
} finally {
  await Deno.remove(stage, { recursive: true });
}

/** What `dist/BUILD_INFO` says of the build, checked to be a whole build. */
async function readBuildInfo(
  dir: string,
): Promise<{ driver: string; target: string; built: string; mode: string; version: string }> {
  const text = await Deno.readTextFile(`${dir}/BUILD_INFO`).catch(() => "");
  const field = (key: string) => new RegExp(`^${key}=(.+)$`, "m").exec(text)?.[1] ?? "";
  const found = { driver: field("driver"), target: field("target"), built: field("built") };
  const whole = await Promise.all(
    [`vmm/${found.driver}/deploy`, "install.sh"].map((p) =>
      Deno.stat(`${dir}/${p}`).then((s) => s.isFile, () => false)
    ),
  );
  if (!found.driver || !found.target || !found.built || whole.includes(false)) {
    fail(
      `${dir} is not a complete build (no BUILD_INFO, install.sh or vmm/<name>/deploy); run "deno task build" first`,
    );
  }
  return { ...found, mode: field("mode"), version: field("version") };
}

/** The Maintainer field from Debian's variables, else from git's identity. */
async function defaultMaintainer(): Promise<string> {
  const email = Deno.env.get("DEBEMAIL");
  if (email) {
    if (email.includes("<")) return email;
    return `${Deno.env.get("DEBFULLNAME") || email.split("@")[0]} <${email}>`;
  }
  const git = async (key: string) => (await run("git", ["-C", ROOT, "config", key])).stdout.trim();
  const [name, address] = [await git("user.name"), await git("user.email")];
  if (name && address) return `${name} <${address}>`;
  fail('No maintainer: give --maintainer "NAME <EMAIL>" (or set DEBEMAIL)');
}

/** The control file: the package's fields and description. */
function control(sizeKiB: number): string {
  return [
    "Package: one-hybrid",
    `Version: ${version}`,
    `Architecture: ${architecture}`,
    `Maintainer: ${maintainer}`,
    `Installed-Size: ${sizeKiB}`,
    // Not Depends: OpenNebula built from source has no package, and the file trigger installs
    // the driver when OpenNebula's package comes after this one.
    "Recommends: opennebula",
    "Enhances: opennebula",
    "Section: admin",
    "Priority: optional",
    `Description: OpenNebula driver: Amazon EC2 or a partner OpenNebula cloud as a host`,
    " one-hybrid makes a remote cloud appear as one more host of OpenNebula (3.2 to 7.4):",
    " the scheduler bursts VMs there, users keep onevm, Sunstone and their templates.",
    " Amazon EC2 (or an EC2-compatible endpoint) or another organisation's OpenNebula",
    " serves each host.",
    " .",
    ` This package holds the ${info.driver} driver (${info.mode} build, ${info.built}) and`,
    " installs it into /var/lib/one/remotes with its own installer, for the release",
    " found there; it prints the oned.conf lines to add and leaves oned.conf alone.",
    "",
  ].join("\n");
}

/** The example configuration in /usr/share/doc/one-hybrid/examples (the README's). */
function exampleConfig(): string {
  return `${
    JSON.stringify(
      {
        hosts: {
          "aws-us-east-1": {
            region: "us-east-1",
            profile: "burst",
            capacity: { vcpus: 16, memoryGiB: 64 },
          },
        },
      },
      null,
      2,
    )
  }\n`;
}

/** Copies a directory tree as it is (modes, links). */
async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), { recursive: true });
  const copied = await run("cp", ["-pRP", from, to]);
  if (!copied.ok) fail(`Cannot copy ${from} to ${to}: ${copied.stderr.trim()}`);
}

async function writeFile(path: string, text: string, mode: number): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, text);
  await Deno.chmod(path, mode);
}

/**
 * Directories 0755, and nothing writable but by its owner (root, in the package), whatever the
 * umask the build ran under.
 */
async function normaliseModes(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isSymlink) continue;
    if (entry.isDirectory) {
      await Deno.chmod(path, 0o755);
      await normaliseModes(path);
    } else {
      const mode = (await Deno.stat(path)).mode! & 0o777;
      if (mode & 0o022) await Deno.chmod(path, mode & ~0o022);
    }
  }
}

/** DEBIAN/md5sums: every regular file but the conffiles (dpkg keeps their sums itself). */
async function sums(dir: string, conffiles: readonly string[]): Promise<string> {
  const lines: string[] = [];
  const walk = async (sub: string) => {
    const entries = [];
    for await (const entry of Deno.readDir(`${dir}/${sub}`)) entries.push(entry);
    entries.sort((a, b) => a.name < b.name ? -1 : 1);
    for (const entry of entries) {
      const path = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile && !conffiles.includes(path)) {
        const hash = createHash("md5").update(await Deno.readFile(`${dir}/${path}`)).digest("hex");
        lines.push(`${hash}  ${path}`);
      }
    }
  };
  await walk("");
  return `${lines.join("\n")}\n`;
}

/** Installed-Size as dpkg-gencontrol counts it: KiB per file, rounded up, and one per directory. */
async function installedSize(dir: string): Promise<number> {
  let kib = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) kib += 1 + await installedSize(path);
    else kib += Math.max(1, Math.ceil((await Deno.lstat(path)).size / 1024));
  }
  return kib;
}

async function run(
  command: string,
  args: string[],
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const result = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder();
    return {
      ok: result.success,
      stdout: text.decode(result.stdout),
      stderr: text.decode(result.stderr),
    };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    if (command === "dpkg-deb") {
      fail("dpkg-deb is not installed: install dpkg (apt-get install dpkg)");
    }
    return { ok: false, stdout: "", stderr: `${command} is not installed` };
  }
}

function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

function fail(message: string): never {
  console.error(message);
  Deno.exit(1);
}
