/**
 * Builds `dist/` in the layout of OpenNebula's remotes directory:
 *
 * ```
 * dist/vmm/<name>/<action>          one executable per action (deploy, poll, shutdown, ...)
 * dist/vmm/<name>/.driver/          the program they all run
 * dist/vmm/<name>/orphans           lists instances whose VM oned no longer has (operator tool)
 * dist/im/<name>.d/poll             the host probe of OpenNebula 4.4-5.10 (one_im_sh)
 * dist/im/<name>.d/monitord-client_control.sh
 *                                   5.12+: starts OpenNebula's monitord client (not executable
 *                                   here: install.sh makes it so, and copies the client beside it)
 * dist/im/<name>-probes.d/...       5.12+: host/{system,monitor}, vm/{monitor,status}, and the
 *                                   directories the client opens that stay empty: host/beacon
 *                                   (install.sh copies OpenNebula's shepherd there), vm/snapshot
 *                                   (6.0+), vm/execution (7.2+)
 * dist/BUILD_INFO                   how it was built
 * dist/install.sh                    the installer (POSIX sh: needs nothing but dist/)
 * ```
 *
 * Each action is a small `sh` launcher that runs the driver program with its own name. The
 * program is made by `deno compile` (one self-contained executable). `deno compile` downloads
 * its runtime (`denort`) on first use unless `DENORT_BIN` names one; when it cannot get it
 * (offline), the build says so in one line and produces the portable form instead: the bundled
 * JavaScript plus the Deno runtime copied into `.driver/`. Either form runs with no Deno
 * installed, copied alone to another machine of the same architecture.
 *
 * Usage: `deno task build --help`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { IM_ACTIONS, VMM_ACTIONS } from "../actions/mod.ts";
import { PORTABLE_RUN_FLAGS, RUNTIME_PERMISSIONS } from "./runtime_flags.ts";
import { parseCli } from "./cli.ts";

/** What `--help` prints. */
const USAGE =
  `Usage: deno task build [--name provider] [--out dist] [--require-compile] [--portable]

Builds dist/: the driver's actions and host probes in the layout of OpenNebula's remotes
directory, and dist/install.sh to install them.

  --name NAME        the driver name, as oned.conf will call it (provider)
  --out DIR          where to build (dist; emptied first)
  --require-compile  fail instead of falling back to the portable form
  --portable         skip deno compile and build the portable form directly

Exit status: 0 built, 1 failed, 2 bad command line.`;

/** Name of the driver program inside `.driver/`. */
const PROGRAM = "one-hybrid-driver";
/** The module every launcher runs. */
const ENTRY = new URL("../main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

/**
 * The SDK's seam (`lib/providers/ec2/aws_sdk.ts`) as the driver's code imports it. The portable form
 * bundles the SDK apart, in `.driver/js/sdk/`: bundled with the driver, it would share the
 * bundler's helper chunk, whose `node:module` import every action would then load (about 50 ms
 * and 10 MB), and the SDK's code would be one graph with the driver's.
 */
const SDK_SEAM = "./aws_sdk.ts";
/** Where the driver's bundle finds the SDK's, relative to `.driver/js/`. */
const SDK_BUNDLE = "./sdk/aws_sdk.js";

/**
 * Where each IM action goes, relative to `dist/`, for driver name `n`. `poll` serves
 * OpenNebula 4.4-5.10; the `-probes.d` tree serves 5.12+, whose monitord-client runs every
 * executable of a directory. Probe file names follow OpenNebula's own EC2 probes.
 */
export const IM_LAYOUT: Readonly<Record<string, (n: string) => string>> = {
  im_poll: (n) => `im/${n}.d/poll`,
  host_system: (n) => `im/${n}-probes.d/host/system/probe_host_system`,
  host_monitor: (n) => `im/${n}-probes.d/host/monitor/probe_host_monitor`,
  vm_monitor: (n) => `im/${n}-probes.d/vm/monitor/probe_vm_monitor`,
  vm_status: (n) => `im/${n}-probes.d/vm/status/probe_vm_status`,
  orphans: (n) => `vmm/${n}/orphans`,
};

/**
 * Where our monitord client control script goes, relative to `dist/`, for driver name `n`.
 * OpenNebula's `run_monitord_client` runs it (5.12+); it is written for this driver, because
 * OpenNebula's own control scripts hand the client input it cannot read for other names.
 */
const IM_CONTROL = (n: string): string => `im/${n}.d/monitord-client_control.sh`;

/**
 * The probe directories that OpenNebula's monitord client opens without our probes in them,
 * relative to `dist/`: a missing one kills the client before its first report. `host/beacon`
 * gets OpenNebula's shepherd at install time; `vm/snapshot` (6.0+) and `vm/execution` (7.2+)
 * stay empty, as OpenNebula's EC2 driver ships its `vm/snapshot`.
 */
const IM_EMPTY_DIRS = (n: string): string[] =>
  ["host/beacon", "vm/snapshot", "vm/execution"].map((d) => `im/${n}-probes.d/${d}`);

/** How the driver program was produced. */
type BuildMode = "compile" | "portable";

const { values: options } = parseCli("build", USAGE, () =>
  parseArgs({
    args: Deno.args,
    options: {
      name: { type: "string", default: "provider" },
      out: { type: "string", default: "dist" },
      "require-compile": { type: "boolean", default: false },
      portable: { type: "boolean", default: false },
    },
  }));

const name = options.name!;
if (!/^[A-Za-z0-9_-]+$/.test(name)) {
  fail(`Invalid driver name "${name}": use letters, digits, - and _`);
}
const out = options.out!.startsWith("/") ? options.out! : `${ROOT}${options.out}`;
const vmmDir = `${out}/vmm/${name}`;
const driverDir = `${vmmDir}/.driver`;

await Deno.remove(out, { recursive: true }).catch(() => {});
await Deno.mkdir(driverDir, { recursive: true });

let mode: BuildMode;
if (options.portable) {
  mode = "portable";
} else {
  const compiled = await compile();
  if (compiled.ok) {
    mode = "compile";
  } else if (compiled.runtimeUnavailable && !options["require-compile"]) {
    console.log(
      "deno compile cannot get its runtime (denort): offline and DENORT_BIN is not set; building the portable form (bundle + Deno runtime in dist/) instead; --require-compile refuses this",
    );
    mode = "portable";
  } else if (compiled.runtimeUnavailable) {
    fail(
      "deno compile cannot get its runtime (denort): offline and DENORT_BIN is not set; refusing the portable form (--require-compile)",
    );
  } else {
    fail(`deno compile failed:\n${compiled.stderr}`);
  }
}
if (mode === "portable") await buildPortable();

for (const action of Object.keys(VMM_ACTIONS)) {
  await writeLauncher(`${vmmDir}/${action}`, action, mode);
}
for (const action of Object.keys(IM_ACTIONS)) {
  await writeLauncher(`${out}/${IM_LAYOUT[action]!(name)}`, action, mode);
}
for (const dir of IM_EMPTY_DIRS(name)) await Deno.mkdir(`${out}/${dir}`, { recursive: true });
// Not executable in dist/: 4.4-5.10's one_im_sh runs every executable of im/<name>.d.
await Deno.copyFile(`${ROOT}scripts/monitord_client_control.sh`, `${out}/${IM_CONTROL(name)}`);
await Deno.chmod(`${out}/${IM_CONTROL(name)}`, 0o644);
await Deno.copyFile(`${ROOT}scripts/dist_install.sh`, `${out}/install.sh`);
await Deno.chmod(`${out}/install.sh`, 0o755);
await Deno.writeTextFile(
  `${out}/BUILD_INFO`,
  [
    `mode=${mode}`,
    `driver=${name}`,
    `deno=${Deno.version.deno}`,
    `target=${Deno.build.target}`,
    `built=${new Date().toISOString()}`,
    `actions=${Object.keys(VMM_ACTIONS).join(",")}`,
    `im=${Object.keys(IM_ACTIONS).join(",")}`,
    "",
  ].join("\n"),
);
console.log(
  `Built ${out} (${mode}): vmm/${name}/{${
    Object.keys(VMM_ACTIONS).join(",")
  }}, im/${name}.d, im/${name}-probes.d; install with: ${out}/install.sh --help`,
);

/** Runs `deno compile`; tells whether a failure was the runtime download. */
async function compile(): Promise<{ ok: boolean; runtimeUnavailable: boolean; stderr: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      "--quiet",
      "--frozen",
      "--no-prompt",
      ...RUNTIME_PERMISSIONS,
      "--output",
      `${driverDir}/${PROGRAM}`,
      ENTRY,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  // deno compile leaves a temporary file behind when the download fails.
  for await (const entry of Deno.readDir(driverDir)) {
    if (entry.name.includes(".tmp-")) await Deno.remove(`${driverDir}/${entry.name}`);
  }
  const runtimeUnavailable = !result.success &&
    /denort|dl\.deno\.land|Setting up base binary|error sending request/i.test(stderr);
  return { ok: result.success, runtimeUnavailable, stderr };
}

/**
 * Bundles the driver into `.driver/js/` and the SDK into `.driver/js/sdk/`, and copies this Deno
 * runtime into `.driver/deno`. Only the chunk of `lib/providers/ec2/sdk_client.ts` imports the SDK's bundle.
 */
async function buildPortable(): Promise<void> {
  await bundle(["--external", SDK_SEAM, "--outdir", `${driverDir}/js`, ENTRY]);
  await bundle(["--outdir", `${driverDir}/js/sdk`, `${ROOT}lib/providers/ec2/aws_sdk.ts`]);
  let seams = 0;
  for await (const entry of Deno.readDir(`${driverDir}/js`)) {
    if (!entry.isFile || !entry.name.endsWith(".js")) continue;
    const path = `${driverDir}/js/${entry.name}`;
    const code = await Deno.readTextFile(path);
    const linked = code.replaceAll(`"${SDK_SEAM}"`, `"${SDK_BUNDLE}"`);
    if (linked === code) continue;
    seams++;
    await Deno.writeTextFile(path, linked);
  }
  if (seams !== 1) fail(`deno bundle: expected one chunk importing ${SDK_SEAM}, found ${seams}`);
  await Deno.copyFile(Deno.execPath(), `${driverDir}/deno`);
  await Deno.chmod(`${driverDir}/deno`, 0o755);
}

/** Runs `deno bundle` for the Deno platform with code splitting. */
async function bundle(args: string[]): Promise<void> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--frozen", "--platform", "deno", "--code-splitting", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) fail(`deno bundle failed:\n${new TextDecoder().decode(result.stderr)}`);
}

/**
 * Writes the `sh` launcher oned runs for one action. It finds the driver program from its own
 * path: `.driver/` beside it for VMM actions, `vmm/<name>/.driver/` from an IM probe (probes run
 * on the front-end, where the VMM directory is). The VM status probe is told where to keep
 * its memory between runs: the `im/` directory, as OpenNebula's own probes do.
 */
async function writeLauncher(path: string, action: string, mode: BuildMode): Promise<void> {
  const relative = path.slice(out.length + 1);
  const up = "../".repeat(relative.split("/").length - 1);
  const toDriver = relative.startsWith("vmm/") ? ".driver" : `${up}vmm/${name}/.driver`;
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const run = mode === "compile" ? `exec "$driver/${PROGRAM}" ${action} "$@"` : [
    'DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1 exec "$driver/deno" run \\',
    `  ${PORTABLE_RUN_FLAGS.join(" ")} \\`,
    `  "$driver/js/main.js" ${action} "$@"`,
  ].join("\n");
  await Deno.writeTextFile(
    path,
    [
      "#!/bin/sh",
      `# OpenNebula action "${action}" of the one-hybrid driver; generated by scripts/build.ts (${mode}).`,
      // Parameter expansion, not dirname: no extra process on every action oned runs.
      'case $0 in */*) here="${0%/*}" ;; *) here=. ;; esac',
      `driver="$here/${toDriver}"`,
      ...(action === "vm_status"
        ? [`HYBRID_PROBE_STATE_DIR="$here/${up}im"`, "export HYBRID_PROBE_STATE_DIR"]
        : []),
      run,
      "",
    ].join("\n"),
  );
  await Deno.chmod(path, 0o755);
}

function fail(message: string): never {
  console.error(message);
  Deno.exit(1);
}
