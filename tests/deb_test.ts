/**
 * The Debian package (`deno task deb`, scripts/build_deb.ts): built from dist/ with dpkg-deb,
 * inspected with dpkg-deb, and installed, upgraded, removed and purged with this machine's dpkg
 * into throwaway roots (`dpkg --root`, whose maintainer scripts run chrooted there): a root
 * holds copies of the commands the scripts and install.sh run, users root and oneadmin, and
 * OpenNebula's remotes tree installed by a stand-in `opennebula` package made of the same fake
 * tree as install.sh's tests. What the package's postinst installs is compared with what
 * install.sh itself installs into an identical root.
 *
 * `dpkg --root` runs the maintainer scripts with chroot(2), so the tests that install need
 * root.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type ActionResult, failureLine, runProcess } from "./harness.ts";
import { defaultCacheDir } from "../lib/providers/ec2/type_sizes.ts";
import { pollStateDir } from "../lib/core/poll_state.ts";
import {
  DIST,
  distBuiltAt,
  layout,
  ONE_CLIENT,
  oneFile,
  openNebulaRemotes,
  tmp,
} from "./install_fixtures.ts";

const BUILD_DEB = new URL("../scripts/build_deb.ts", import.meta.url).pathname;
const SCRIPTS = new URL("../scripts/deb/", import.meta.url).pathname;

/** Whether this process may chroot, which `dpkg --root` does to run maintainer scripts. */
const ROOT = new TextDecoder().decode(
  (await new Deno.Command("id", { args: ["-u"] }).output()).stdout,
).trim() === "0";
/** oneadmin's ids in the throwaway roots (OpenNebula's packages create it with 9869). */
const ONEADMIN = 9869;
const ONEADMIN_LINE = `oneadmin:x:${ONEADMIN}:${ONEADMIN}::/var/lib/one:/bin/sh`;
/** Where the package puts things, and where install.sh puts the driver for it. */
const LIB = "usr/lib/one-hybrid";
const CONFIG = "etc/one/hybrid_driver.json";
const REMOTES = "var/lib/one/remotes";
const RUNTIME = "var/lib/one/one-hybrid/provider";
/** The release dist/BUILD_INFO names, the first part of a package's version (0 without one). */
const RELEASE = /^version=v?([0-9][A-Za-z0-9.~]*)/m.exec(
  Deno.readTextFileSync(`${DIST}/BUILD_INFO`),
)?.[1] ?? "0";
/** A newer build's time, the name install.sh gives that build, and its package's version. */
const NEWER_BUILT = "2099-01-02T03:04:05.006Z";
const NEWER_BUILD = "20990102T030405006Z";
const NEWER_VERSION = `${RELEASE}+20990102.030405006`;
/** The commands the maintainer scripts and dist/install.sh run (besides sh's builtins). */
const ROOT_TOOLS = [
  ...["sh", "sed", "cp", "mkdir", "mv", "rm", "rmdir", "id", "date", "cat", "ls", "chown"],
  ...["grep", "tr", "find", "chmod", "cksum"],
];
const INVALID = 'Invalid deploy id "x": not an EC2 instance id (i-xxxxxxxxxxxxxxxxx)';

/** Runs `deno task deb`'s script with the task's permissions. */
async function buildDeb(args: string[]): Promise<ActionResult> {
  return await runProcess(Deno.execPath(), [
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-run",
    "--allow-env",
    BUILD_DEB,
    ...args,
  ], { env: { NO_COLOR: "1", DEBEMAIL: "Test Maintainer <test@example.org>" } });
}

/** Builds a package of `dist` into a directory of its own and returns its path. */
async function packageOf(dist: string, out: string, args: string[] = []): Promise<string> {
  const built = await buildDeb(["--dist", dist, "--out", out, ...args]);
  assert.equal(built.code, 0, built.stderr);
  const debs = [...Deno.readDirSync(out)].filter((e) => e.name.endsWith(".deb"));
  assert.equal(debs.length, 1);
  assert.ok(built.stdout.startsWith(`Built ${out}/${debs[0]!.name} (`), built.stdout);
  return `${out}/${debs[0]!.name}`;
}

let made: Promise<string> | undefined;
/** The package of dist/, made as `deno task deb` makes it by default (xz: slow to make). */
function defaultPackage(): Promise<string> {
  return made ??= packageOf(DIST, `${tmp}/deb-default`);
}

let first: Promise<string> | undefined;
/** The package of dist/, uncompressed (fast to make; dpkg unpacks the same files). */
function firstPackage(): Promise<string> {
  return first ??= packageOf(DIST, `${tmp}/deb-first`, ["--compress", "none"]);
}

let newer: Promise<string> | undefined;
/** The package of a newer build (uncompressed: faster). */
function newerPackage(): Promise<string> {
  return newer ??= (async () => {
    const dist = await distBuiltAt("dist-newer", NEWER_BUILT);
    return await packageOf(dist, `${tmp}/deb-newer`, ["--compress", "none"]);
  })();
}

/** Runs a command and returns what it did. */
function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ActionResult> {
  return runProcess(command, args, { env: { LANG: "C", ...env } });
}

/** Runs a command that must succeed, and returns its stdout. */
async function ok(command: string, args: string[]): Promise<string> {
  const result = await run(command, args);
  assert.equal(result.code, 0, `${command} ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** This machine's dpkg on a throwaway root. */
/** This machine's dpkg on a throwaway root; `env` reaches the maintainer scripts. */
function dpkg(
  root: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ActionResult> {
  return run("dpkg", [`--root=${root}`, ...args], env);
}

/** A program run inside a throwaway root, as root there. */
function chrooted(root: string, args: string[]): Promise<ActionResult> {
  return run("chroot", [root, ...args]);
}

/** The path of a command on this machine. */
function which(command: string): string {
  const found = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"].map((d) => `${d}/${command}`)
    .find((p) => {
      try {
        return Deno.statSync(p).isFile;
      } catch {
        return false;
      }
    });
  assert.ok(found, `${command} is on this machine`);
  return found;
}

/** Copies a file of this machine to the same path under `root` (through its links). */
async function copyIn(root: string, path: string): Promise<void> {
  const real = Deno.realPathSync(path);
  await Deno.mkdir(`${root}${real.slice(0, real.lastIndexOf("/"))}`, { recursive: true });
  await Deno.copyFile(real, `${root}${real}`);
  if (real !== path) await Deno.symlink(real, `${root}${path}`).catch(() => {});
}

/**
 * An empty system for `dpkg --root`: the commands the maintainer scripts and install.sh run,
 * with the libraries they and the driver program load (copies of this machine's, in the same
 * places: the top-level links of a merged /usr too), /dev/null, the users root and (unless
 * `oneadmin` is false) oneadmin, and an empty dpkg database.
 */
async function debianRoot(label: string, oneadmin = true): Promise<string> {
  const root = `${tmp}/${label}`;
  for (const dir of ["var/lib/dpkg/info", "var/lib/dpkg/updates", "etc", "dev", "tmp"]) {
    await Deno.mkdir(`${root}/${dir}`, { recursive: true });
  }
  await Deno.chmod(`${root}/tmp`, 0o1777);
  await Deno.writeTextFile(`${root}/var/lib/dpkg/status`, "");
  for (const top of ["bin", "sbin", "lib", "lib64"]) {
    const link = await Deno.readLink(`/${top}`).catch(() => null);
    if (link !== null) {
      await Deno.mkdir(`${root}/${link.replace(/^\//, "")}`, { recursive: true });
      await Deno.symlink(link, `${root}/${top}`);
    }
  }
  await ok("mknod", ["-m", "666", `${root}/dev/null`, "c", "1", "3"]);
  const programs = ROOT_TOOLS.map(which);
  const driver = `${DIST}/vmm/provider/.driver`;
  const binaries = [...Deno.readDirSync(driver)].filter((e) => e.isFile).map((e) =>
    `${driver}/${e.name}`
  );
  const libraries = new Set<string>();
  for (const program of [...programs, ...binaries]) {
    const ldd = await run("ldd", [program]);
    for (const match of ldd.stdout.matchAll(/(?:^\s*|=> )(\/\S+)/gm)) libraries.add(match[1]!);
  }
  for (const path of [...programs, ...libraries]) await copyIn(root, path);
  await Deno.writeTextFile(
    `${root}/etc/passwd`,
    `root:x:0:0:root:/root:/bin/sh\n${oneadmin ? `${ONEADMIN_LINE}\n` : ""}`,
  );
  await Deno.writeTextFile(
    `${root}/etc/group`,
    `root:x:0:\n${oneadmin ? `oneadmin:x:${ONEADMIN}:\n` : ""}`,
  );
  return root;
}

const openNebulaPackages = new Map<string, Promise<string>>();
/**
 * A stand-in for OpenNebula's own package: `opennebula` `<version>-1`, whose files are the
 * release's remotes tree in /var/lib/one/remotes (the fake tree of install.sh's tests), and
 * whose preinst creates oneadmin when missing, as opennebula-common's does.
 */
function openNebulaPackage(version: string): Promise<string> {
  const made = openNebulaPackages.get(version) ?? (async () => {
    const stage = `${tmp}/opennebula-${version}`;
    await openNebulaRemotes(`opennebula-${version}/var/lib/one`, version);
    await Deno.mkdir(`${stage}/DEBIAN`);
    await Deno.writeTextFile(
      `${stage}/DEBIAN/control`,
      `Package: opennebula\nVersion: ${version}-1\nArchitecture: all\n` +
        "Maintainer: Test Maintainer <test@example.org>\nDescription: stand-in for OpenNebula\n",
    );
    await Deno.writeTextFile(
      `${stage}/DEBIAN/preinst`,
      "#!/bin/sh\nset -e\n" +
        `grep -q '^oneadmin:' /etc/passwd || echo '${ONEADMIN_LINE}' >>/etc/passwd\n` +
        `grep -q '^oneadmin:' /etc/group || echo 'oneadmin:x:${ONEADMIN}:' >>/etc/group\n`,
    );
    await Deno.chmod(`${stage}/DEBIAN/preinst`, 0o755);
    const deb = `${tmp}/opennebula_${version}-1_all.deb`;
    await ok("dpkg-deb", ["--root-owner-group", "-Znone", "--build", stage, deb]);
    return deb;
  })();
  openNebulaPackages.set(version, made);
  return made;
}

/** A throwaway root with OpenNebula `version`'s package installed. */
async function rootWithOpenNebula(label: string, version = "6.10.0"): Promise<string> {
  const root = await debianRoot(label);
  await ok("dpkg", [`--root=${root}`, "--install", await openNebulaPackage(version)]);
  return root;
}

/** Registers a test that installs into throwaway roots: as root only (dpkg --root chroots). */
function rootTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: !ROOT, fn });
}

/** A root with OpenNebula's package and then the first package installed, and its build. */
async function firstInstalled(label: string): Promise<{ root: string; build: string }> {
  const root = await rootWithOpenNebula(label);
  const installed = await dpkg(root, ["--install", await firstPackage()]);
  assert.equal(installed.code, 0, installed.stderr);
  return { root, build: current(root) };
}

/**
 * Everything under `dir` (but `skip`), each path with its kind, mode, owner and content's hash
 * (a link: its target); install.sh's marks with their time left out.
 */
function snapshot(dir: string, skip: RegExp = /^$/): string[] {
  return layout(dir).filter((entry) => !skip.test(entry)).map((entry) => {
    const path = entry.replace(/( -> .*| \d+)$/, "").replace(/\/$/, "");
    const stat = Deno.lstatSync(`${dir}/${path}`);
    const owner = `${stat.uid}:${stat.gid}`;
    if (!stat.isFile) return `${entry} ${owner}`;
    let content: string | Uint8Array = Deno.readFileSync(`${dir}/${path}`);
    if (path.endsWith(".one-hybrid-install")) {
      content = new TextDecoder().decode(content).replace(/ on \d{8}T\d{6}Z /, " on <time> ");
    }
    return `${entry} ${owner} ${createHash("md5").update(content).digest("hex")}`;
  });
}

/** The build install.sh made current in a root. */
function current(root: string): string {
  return Deno.readTextFileSync(`${root}/${RUNTIME}/current`).trim();
}

/**
 * Runs the installed poll launcher in the root for `host` with an invalid id: the program
 * answers, past reading the host's settings.
 */
async function pollAnswers(root: string, host = "aws"): Promise<void> {
  const poll = await chrooted(root, [`/${REMOTES}/vmm/provider/poll`, "x", host, "61", host]);
  assert.equal(failureLine(poll), INVALID);
}

/** The package's status in a root, as dpkg-query says it. */
async function status(root: string): Promise<string> {
  return (await ok("dpkg-query", [`--root=${root}`, "-W", "-f=${Status} ${Version}", "one-hybrid"]))
    .trim();
}

/** The name of each member of an ar archive (a .deb). */
function arMembers(file: string): string[] {
  const bytes = Deno.readFileSync(file);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), "!<arch>\n");
  const names: string[] = [];
  for (let at = 8; at + 60 <= bytes.length;) {
    const header = new TextDecoder().decode(bytes.subarray(at, at + 60));
    names.push(header.slice(0, 16).trim().replace(/\/$/, ""));
    const size = Number(header.slice(48, 58).trim());
    at += 60 + size + (size % 2);
  }
  return names;
}

Deno.test("deno task deb makes one-hybrid_<version>_<arch>.deb of dist/: the build as it is under /usr/lib/one-hybrid, a 0600 configuration that is a conffile, Recommends opennebula, a trigger on /var/lib/one/remotes, md5sums, and the maintainer scripts that run the build's install.sh", async () => {
  const deb = await defaultPackage();
  const info = await Deno.readTextFile(`${DIST}/BUILD_INFO`);
  const built = /^built=(.*)$/m.exec(info)![1]!;
  const version = `${RELEASE}+${built.replace(/\D/g, "").replace(/^(\d{8})/, "$1.")}`;
  assert.equal(deb, `${tmp}/deb-default/one-hybrid_${version}_amd64.deb`);
  assert.deepEqual(arMembers(deb), ["debian-binary", "control.tar.xz", "data.tar.xz"]);

  const field = async (name: string) => (await ok("dpkg-deb", ["-f", deb, name])).trim();
  assert.equal(await field("Package"), "one-hybrid");
  assert.equal(await field("Version"), version);
  assert.equal(await field("Architecture"), "amd64");
  assert.equal(await field("Maintainer"), "Test Maintainer <test@example.org>");
  assert.equal(await field("Recommends"), "opennebula");
  assert.equal(await field("Depends"), "");
  const size = Number(await field("Installed-Size"));
  assert.ok(size > 90 * 1024 && size < 110 * 1024, `Installed-Size ${size} KiB`);

  // The data: dist/ under /usr/lib/one-hybrid, file for file and mode for mode, root's.
  const listing = (await ok("dpkg-deb", ["--contents", deb])).trim().split("\n").map((line) => {
    const [mode, owner, , , , path] = line.split(/\s+/);
    const relative = path!.replace(/^\.\//, "").replace(/\/$/, "");
    return { mode: mode!, owner: owner!, path: relative || "." };
  });
  assert.ok(listing.every((e) => e.owner === "root/root"));
  const packed = listing.filter((e) => e.path.startsWith(`${LIB}/`)).map((e) =>
    `${e.path.slice(LIB.length + 1)} ${e.mode}`
  ).sort();
  const symbolic = (octal: string) =>
    [...octal].map((d) => ["---", "--x", "-w-", "-wx", "r--", "r-x", "rw-", "rwx"][Number(d)])
      .join("");
  const expected = layout(DIST).map((entry) =>
    entry.endsWith("/")
      ? `${entry.slice(0, -1)} d${symbolic("755")}`
      : entry.replace(/ (\d+)$/, (_, mode) => ` -${symbolic(mode)}`)
  ).sort();
  assert.deepEqual(packed, expected);
  assert.deepEqual(
    listing.filter((e) => !e.path.startsWith(LIB) && !e.path.startsWith("usr/share/doc")).map(
      (e) => `${e.path} ${e.mode}`,
    ),
    [
      ". drwxr-xr-x",
      "etc drwxr-xr-x",
      "etc/one drwxr-xr-x",
      `${CONFIG} -rw-------`,
      "usr drwxr-xr-x",
      "usr/lib drwxr-xr-x",
      "usr/share drwxr-xr-x",
    ],
  );

  const control = `${tmp}/control-default`;
  await ok("dpkg-deb", ["--control", deb, control]);
  assert.equal(await Deno.readTextFile(`${control}/conffiles`), `/${CONFIG}\n`);
  assert.equal(
    await Deno.readTextFile(`${control}/triggers`),
    "interest-noawait /var/lib/one/remotes\n",
  );
  for (const script of ["postinst", "prerm", "postrm"]) {
    const source = await Deno.readTextFile(`${SCRIPTS}${script}`);
    assert.equal(
      await Deno.readTextFile(`${control}/${script}`),
      source.replaceAll("@NAME@", "provider"),
    );
    assert.equal(Deno.statSync(`${control}/${script}`).mode! & 0o777, 0o755);
  }

  // md5sums names every file but the conffile, and every sum is right.
  const data = `${tmp}/data-default`;
  await ok("dpkg-deb", ["--extract", deb, data]);
  const sums = await Deno.readTextFile(`${control}/md5sums`);
  const files = listing.filter((e) => e.mode.startsWith("-")).map((e) => e.path);
  assert.deepEqual(
    sums.trim().split("\n").map((line) => line.slice(34)).sort(),
    files.filter((p) => p !== CONFIG).sort(),
  );
  const checked = await runProcess("md5sum", ["--check", "--quiet", `${control}/md5sums`], {
    cwd: data,
  });
  assert.deepEqual(checked, { code: 0, stdout: "", stderr: "" });
  assert.equal(await Deno.readTextFile(`${data}/${CONFIG}`), '{\n  "defaults": {}\n}\n');
});

Deno.test("the package's version is the release BUILD_INFO names (else 0) and the build time, so that a later build upgrades an earlier one", async () => {
  const version = (deb: string) => /_([^_]+)_amd64\.deb$/.exec(deb)![1]!;
  const [first, newer] = [version(await firstPackage()), version(await newerPackage())];
  assert.equal(newer, NEWER_VERSION);
  await ok("dpkg", ["--compare-versions", first, "lt", newer]);

  const dist = await distBuiltAt("dist-release", "2099-05-06T07:08:09.010Z");
  const info = (await Deno.readTextFile(`${dist}/BUILD_INFO`)).replace(/^version=.*\n/m, "");
  await Deno.writeTextFile(`${dist}/BUILD_INFO`, `${info}version=1.4.0-3-gabc123\n`);
  const released = version(await packageOf(dist, `${tmp}/deb-release`, ["--compress", "none"]));
  assert.equal(released, "1.4.0+20990506.070809010");
  await ok("dpkg", ["--compare-versions", newer, "lt", released]);
  const given = await packageOf(dist, `${tmp}/deb-given`, [
    "--compress",
    "none",
    "--version",
    "2.0",
  ]);
  assert.equal(version(given), "2.0");
});

Deno.test("deno task deb refuses in one line, building nothing: a directory that is not a build, a version dpkg cannot order, a maintainer without an address, an unknown compressor", async () => {
  const out = `${tmp}/deb-refused`;
  const cases: [string[], string][] = [
    [
      ["--dist", `${tmp}/no-dist`],
      `${tmp}/no-dist is not a complete build (no BUILD_INFO, install.sh or vmm/<name>/deploy); run "deno task build" first`,
    ],
    [
      ["--version", "v1.0"],
      '--version "v1.0": give a Debian version such as 1.2 or 1.2+20261130 (digits first; letters, digits, . + ~)',
    ],
    [
      ["--maintainer", "nobody"],
      '--maintainer "nobody": give a name and an e-mail address, as "Jane Doe <jane@example.org>"',
    ],
    [["--compress", "bzip2"], '--compress "bzip2": give one of xz, gzip, zstd, none'],
  ];
  for (const [args, line] of cases) {
    const refused = await buildDeb(["--out", out, ...args]);
    assert.deepEqual(refused, { code: 1, stdout: "", stderr: `${line}\n` }, args.join(" "));
  }
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
});

rootTest(
  "dpkg -i into a root with OpenNebula's package installs the driver exactly as install.sh does there (remotes oneadmin's, the program root's), prints its oned.conf lines, gives the configuration to oneadmin with mode 0600, and owns the build: dpkg -S and --verify know every file of it",
  async () => {
    const deb = await firstPackage();
    const root = await rootWithOpenNebula("root-install");
    const installed = await dpkg(root, ["--install", deb]);
    assert.equal(installed.code, 0, installed.stderr);
    assert.equal(installed.stderr, "");
    assert.match(await status(root), /^install ok installed /);

    // The same OpenNebula, the package's files alone, and install.sh run by hand.
    const reference = await rootWithOpenNebula("root-reference");
    await ok("dpkg-deb", ["--extract", deb, reference]);
    const byHand = await chrooted(reference, ["sh", `/${LIB}/install.sh`]);
    assert.equal(byHand.code, 0, byHand.stderr);
    assert.ok(installed.stdout.includes(byHand.stdout), installed.stdout);
    assert.match(byHand.stdout, /^Installed the provider driver .*\n[^]*OpenNebula 6\.10\.0: add/);
    assert.deepEqual(snapshot(`${root}/var/lib/one`), snapshot(`${reference}/var/lib/one`));
    assert.equal(Deno.statSync(`${root}/${REMOTES}/vmm/provider/deploy`).uid, ONEADMIN);
    assert.equal(Deno.statSync(`${root}/${RUNTIME}/current`).uid, 0);
    await pollAnswers(root);

    const config = Deno.statSync(`${root}/${CONFIG}`);
    assert.deepEqual([config.uid, config.gid, config.mode! & 0o777], [ONEADMIN, ONEADMIN, 0o600]);

    // The package owns its build; what install.sh made it does not (it goes with --uninstall).
    const owned = await dpkg(root, ["--search", `/${LIB}/install.sh`, `/${CONFIG}`]);
    assert.equal(
      owned.stdout,
      `one-hybrid: /${LIB}/install.sh\none-hybrid: /${CONFIG}\n`,
      owned.stderr,
    );
    const listed = new Set(
      (await ok("dpkg-query", [`--root=${root}`, "-L", "one-hybrid"])).split("\n"),
    );
    for (const entry of layout(`${root}/${LIB}`)) {
      const path = `/${LIB}/${entry.replace(/( \d+|\/)$/, "")}`;
      assert.ok(listed.has(path), `${path} is the package's`);
    }
    assert.equal((await dpkg(root, ["--search", `/${REMOTES}/vmm/provider/deploy`])).code, 1);
    assert.deepEqual(await dpkg(root, ["--verify", "one-hybrid"]), {
      code: 0,
      stdout: "",
      stderr: "",
    });
  },
);

rootTest(
  "an upgrade reinstalls with the last install's options and keeps the edited configuration (content, owner, mode; no prompt), and the earlier build keeps serving between unpack and configure",
  async () => {
    const second = await newerPackage();
    const { root, build: before } = await firstInstalled("root-upgrade");
    // The operator installs again with options of their own, and writes the configuration.
    const own = await chrooted(root, [
      "sh",
      `/${LIB}/install.sh`,
      "--runtime-dir",
      "/var/lib/one/one-hybrid",
      "--im",
      "none",
      "--host",
      "aws-eu-west-1",
    ]);
    assert.equal(own.code, 0, own.stderr);
    const settings =
      '{"hosts":{"aws-eu-west-1":{"region":"eu-west-1","accessKeyId":"AKIAEXAMPLE","secretAccessKey":"kept"}}}\n';
    await Deno.writeTextFile(`${root}/${CONFIG}`, settings);

    const unpacked = await dpkg(root, ["--unpack", second]);
    assert.equal(unpacked.code, 0, unpacked.stderr);
    assert.match(await Deno.readTextFile(`${root}/${LIB}/BUILD_INFO`), /^built=2099-01-02T/m);
    assert.equal(current(root), before);
    await pollAnswers(root, "aws-eu-west-1");

    const configured = await dpkg(root, ["--configure", "one-hybrid"]);
    assert.equal(configured.code, 0, configured.stderr);
    assert.equal(configured.stderr, "");
    assert.ok(
      configured.stdout.includes(
        `\nDriver program: /${RUNTIME}/${NEWER_BUILD}, named in /${RUNTIME}/current (was ${before}; --rollback goes back)\n`,
      ),
      configured.stdout,
    );
    assert.ok(
      configured.stdout.includes("onehost create aws-eu-west-1 -i dummy -v provider"),
      configured.stdout,
    );
    assert.equal(current(root), NEWER_BUILD);
    assert.match(
      await Deno.readTextFile(`${root}/${RUNTIME}/options`),
      / --im none .*--host aws-eu-west-1/,
    );
    await assert.rejects(Deno.stat(`${root}/${REMOTES}/im/provider.d`), Deno.errors.NotFound);
    await pollAnswers(root, "aws-eu-west-1");
    assert.equal(await status(root), `install ok installed ${NEWER_VERSION}`);

    assert.equal(await Deno.readTextFile(`${root}/${CONFIG}`), settings);
    const config = Deno.statSync(`${root}/${CONFIG}`);
    assert.deepEqual([config.uid, config.mode! & 0o777], [ONEADMIN, 0o600]);
    assert.deepEqual(layout(`${root}/etc/one`), ["hybrid_driver.json 600"]);
  },
);

rootTest(
  "an upgrade the installer refuses fails the package's configuration with install.sh's reason, the earlier build keeps serving, and dpkg --configure finishes it once the cause is gone",
  async () => {
    const second = await newerPackage();
    const { root, build: before } = await firstInstalled("root-refused");
    // A directory of ours that no longer says so: install.sh will not replace it.
    const mark = `${root}/${REMOTES}/im/provider.d/.one-hybrid-install`;
    const text = await Deno.readTextFile(mark);
    await Deno.remove(mark);

    const refused = await dpkg(root, ["--install", second]);
    assert.equal(refused.code, 1);
    assert.ok(
      refused.stderr.startsWith(
        `Cannot install: one-hybrid did not install /${REMOTES}/im/provider.d; --force moves it`,
      ),
      refused.stderr,
    );
    assert.match(await status(root), /^install ok half-configured /);
    assert.equal(current(root), before);
    await pollAnswers(root);

    await Deno.writeTextFile(mark, text);
    const finished = await dpkg(root, ["--configure", "one-hybrid"]);
    assert.equal(finished.code, 0, finished.stderr);
    assert.match(await status(root), /^install ok installed /);
    assert.equal(current(root), NEWER_BUILD);
  },
);

rootTest(
  "remove takes the driver out of OpenNebula (remotes, both kept builds, recorded options) and keeps the configuration; purge then also removes what the driver wrote as oneadmin (type cache, shared listings), leaving the root as OpenNebula's package left it",
  async () => {
    const [first, second] = [await firstPackage(), await newerPackage()];
    const root = await rootWithOpenNebula("root-purge");
    // oneadmin's own directories, which the driver writes into (and which are not its own).
    for (const dir of ["var/lib/one/.cache", `run/user/${ONEADMIN}`]) {
      await Deno.mkdir(`${root}/${dir}`, { recursive: true });
      await Deno.chown(`${root}/${dir}`, ONEADMIN, ONEADMIN);
    }
    const dpkgDb = /^var\/lib\/dpkg\//;
    const before = snapshot(root, dpkgDb);
    assert.equal((await dpkg(root, ["--install", first])).code, 0);
    assert.equal((await dpkg(root, ["--install", second])).code, 0);
    assert.equal(layout(`${root}/${RUNTIME}`).filter((p) => /^\d+T\d+Z\/$/.test(p)).length, 2);
    // What the driver leaves as oneadmin runs it: where its own code puts it.
    const written = [
      defaultCacheDir((name) => ({ HOME: "/var/lib/one" })[name]),
      pollStateDir(undefined, new Map(), ONEADMIN),
      pollStateDir(undefined, new Map([["XDG_RUNTIME_DIR", `/run/user/${ONEADMIN}`]]), ONEADMIN),
    ];
    for (const dir of written) {
      await Deno.mkdir(`${root}${dir}`, { recursive: true, mode: 0o700 });
      await Deno.writeTextFile(`${root}${dir}/kept.json`, "{}\n");
      for (const path of [dir, `${dir}/kept.json`]) {
        await Deno.chown(`${root}${path}`, ONEADMIN, ONEADMIN);
      }
    }

    const removed = await dpkg(root, ["--remove", "one-hybrid"]);
    assert.equal(removed.code, 0, removed.stderr);
    const driverWrote = new RegExp(
      `^(${written.map((d) => d.slice(1).replaceAll(".", "\\.")).join("|")})/`,
    );
    const system = (p: string) =>
      !p.startsWith("etc/") && !p.startsWith("usr/") && !driverWrote.test(p);
    assert.deepEqual(snapshot(root, dpkgDb).filter(system), before.filter(system));
    await assert.rejects(Deno.stat(`${root}/${LIB}`), Deno.errors.NotFound);
    assert.ok(Deno.statSync(`${root}/${CONFIG}`).isFile);
    assert.match(await status(root), /^deinstall ok config-files /);

    const purged = await dpkg(root, ["--purge", "one-hybrid"]);
    assert.equal(purged.code, 0, purged.stderr);
    assert.deepEqual(snapshot(root, dpkgDb), before);
  },
);

rootTest(
  "installed before OpenNebula, the package says so in one line and writes nothing; OpenNebula's package arriving later installs the driver (file trigger) and gives oneadmin the configuration; OpenNebula's upgrade brings its new monitord client",
  async () => {
    const root = await debianRoot("root-before-opennebula", false);
    const alone = await dpkg(root, ["--install", await firstPackage()]);
    assert.equal(alone.code, 0, alone.stderr);
    assert.equal(
      alone.stderr,
      [
        `one-hybrid: no user oneadmin, so /${CONFIG} stays root's; give it to the user OpenNebula runs as (chown USER /${CONFIG})`,
        `Cannot install: /${REMOTES} does not look like OpenNebula's remotes directory (it needs vmm/, im/ and one of scripts_common.sh, vmm/kvm/, etc/); check --remotes, or pass --not-opennebula to install there anyway`,
        `one-hybrid: the driver is not installed into OpenNebula yet (the reason is above); it will be when OpenNebula's package installs /var/lib/one/remotes, or run: sh /${LIB}/install.sh --runtime-dir /var/lib/one/one-hybrid [--remotes DIR] [--opennebula X.Y]`,
        "",
      ].join("\n"),
    );
    assert.match(await status(root), /^install ok installed /);
    await assert.rejects(Deno.stat(`${root}/var/lib/one`), Deno.errors.NotFound);
    assert.equal(Deno.statSync(`${root}/${CONFIG}`).uid, 0);

    const arrived = await dpkg(root, ["--install", await openNebulaPackage("6.10.0")]);
    assert.equal(arrived.code, 0, arrived.stderr);
    assert.ok(arrived.stdout.includes("Processing triggers for one-hybrid"), arrived.stdout);
    assert.ok(
      arrived.stdout.includes(
        `Installed the provider driver (portable build) into /${REMOTES}/vmm/provider\n`,
      ) ||
        arrived.stdout.includes(
          `Installed the provider driver (compile build) into /${REMOTES}/vmm/provider\n`,
        ),
      arrived.stdout,
    );
    await pollAnswers(root);
    const client = `${root}/${REMOTES}/im/provider.d/monitord-client.rb`;
    assert.equal(await Deno.readTextFile(client), oneFile(ONE_CLIENT.dummy, "6.10.0"));
    const config = Deno.statSync(`${root}/${CONFIG}`);
    assert.deepEqual([config.uid, config.mode! & 0o777], [ONEADMIN, 0o600]);

    const upgraded = await dpkg(root, ["--install", await openNebulaPackage("6.10.1")]);
    assert.equal(upgraded.code, 0, upgraded.stderr);
    assert.equal(await Deno.readTextFile(client), oneFile(ONE_CLIENT.dummy, "6.10.1"));
  },
);

rootTest(
  "a self-contained OpenNebula built from source (ONE_LOCATION, no package): the first install finds it through ONE_LOCATION, and an upgrade and a remove without it reach the same remotes directory through the recorded options",
  async () => {
    const [first, second] = [await firstPackage(), await newerPackage()];
    const root = await debianRoot("root-self-contained");
    const remotes = await openNebulaRemotes("root-self-contained/srv/one", "6.10.0", {
      selfContained: true,
    });
    const inRoot = remotes.slice(root.length);
    assert.equal(inRoot, "/srv/one/var/remotes");

    const installed = await dpkg(root, ["--install", first], { ONE_LOCATION: "/srv/one" });
    assert.equal(installed.code, 0, installed.stderr);
    assert.ok(installed.stdout.includes(`into ${inRoot}/vmm/provider\n`), installed.stdout);
    assert.ok(installed.stdout.includes("add this to /srv/one/etc/oned.conf:"), installed.stdout);
    assert.ok(Deno.statSync(`${remotes}/vmm/provider/deploy`).isFile);
    await assert.rejects(Deno.stat(`${root}/${REMOTES}`), Deno.errors.NotFound);
    const poll = await chrooted(root, [`${inRoot}/vmm/provider/poll`, "x", "aws", "61", "aws"]);
    assert.equal(failureLine(poll), INVALID);

    const upgraded = await dpkg(root, ["--install", second]);
    assert.equal(upgraded.code, 0, upgraded.stderr);
    assert.ok(upgraded.stdout.includes(`into ${inRoot}/vmm/provider\n`), upgraded.stdout);
    assert.equal(current(root), NEWER_BUILD);
    await assert.rejects(Deno.stat(`${root}/${REMOTES}`), Deno.errors.NotFound);

    const removed = await dpkg(root, ["--remove", "one-hybrid"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(layout(remotes).filter((p) => p.includes("provider")), []);
    await assert.rejects(Deno.stat(`${root}/var/lib/one/one-hybrid`), Deno.errors.NotFound);
  },
);
