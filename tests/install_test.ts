/**
 * The installers and the installed driver: `dist/install.sh` installs from `dist/` alone (no
 * Deno, no HOME), refuses what it did not install and a directory that is not OpenNebula's, and
 * the installed driver works there on its own, as oned's oneadmin runs it. Also: every script
 * answers `--help` and refuses an unknown option in one line.
 */

import assert from "node:assert/strict";
import {
  AMAZON_LINUX_AMI,
  type Ec2Endpoint,
  startEc2Endpoint,
  TEST_CREDENTIALS,
} from "./ec2_endpoint/mod.ts";
import { vmDeployment } from "./deployments.ts";
import {
  type ActionResult,
  deployedId,
  failureLine,
  oneBase64,
  runProcess,
  sharedTest as test,
  writeLocalConfig,
} from "./harness.ts";

const INSTALL = new URL("../scripts/install.ts", import.meta.url).pathname;
const DIST = new URL("../dist", import.meta.url).pathname;
const SCRIPTS = new URL("../scripts/", import.meta.url).pathname;

const tmp = await Deno.makeTempDir({ prefix: "hybrid-install-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const ep: Ec2Endpoint = await startEc2Endpoint({ timing: { pendingMs: 100 } });

/** Runs `deno task install`'s script with the task's permissions. */
async function install(args: string[]): Promise<ActionResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-run=sh", "--allow-env", INSTALL, ...args],
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/**
 * A remotes directory as OpenNebula installs it (the parts the installer looks for: `vmm/`,
 * `im/`, OpenNebula's own drivers and `scripts_common.sh`), under `tmp/<label>`.
 */
async function openNebulaRemotes(label: string): Promise<string> {
  const remotes = `${tmp}/${label}`;
  await Deno.mkdir(`${remotes}/vmm/kvm`, { recursive: true });
  await Deno.mkdir(`${remotes}/im/kvm.d`, { recursive: true });
  await Deno.mkdir(`${remotes}/etc/vmm/kvm`, { recursive: true });
  await Deno.writeTextFile(`${remotes}/vmm/kvm/deploy`, "#!/bin/bash\n");
  await Deno.writeTextFile(`${remotes}/scripts_common.sh`, "# OpenNebula\n");
  return remotes;
}

/** Every path under a directory but OpenNebula's own (kvm, etc, scripts_common.sh). */
function installedUnder(remotes: string): string[] {
  return layout(remotes).filter((p) => !/^(etc\/|scripts_common\.sh|vmm\/kvm|im\/kvm\.d)/.test(p));
}

/**
 * An empty directory for PATH: the launchers start with `#!/bin/sh` and run nothing else by
 * name, so a Deno installed on this machine cannot be what runs the driver.
 */
async function bareBin(): Promise<string> {
  const bin = `${tmp}/bare-bin`;
  await Deno.mkdir(bin, { recursive: true });
  return bin;
}

test("install copies every action into remotes/vmm/provider and prints the oned.conf section and onehost command", async () => {
  const remotes = await openNebulaRemotes("remotes-a");
  const result = await install(["--remotes", remotes, "--host", "aws-eu-west-1"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    new RegExp(`^Installed the provider driver \\(\\w+ build\\) into ${remotes}/vmm/provider\\n`),
  );
  assert.ok(result.stdout.includes('ARGUMENTS  = "-t 15 -r 0 -p -w 600 provider"'), result.stdout);
  assert.ok(
    result.stdout.includes("onehost create aws-eu-west-1 -i provider -v provider"),
    result.stdout,
  );
  assert.ok(result.stdout.includes('ARGUMENTS     = "-c -t 1 -r 0 -w 600 provider" ]'));
  const built = [...Deno.readDirSync(`${DIST}/vmm/provider`)].map((e) => e.name).sort();
  const installed = [...Deno.readDirSync(`${remotes}/vmm/provider`)].map((e) => e.name).sort();
  assert.deepEqual(installed, [...built, ".one-hybrid-install"].sort());
  for (const action of ["deploy", "poll", "shutdown", "cancel", "save", "restore"]) {
    const mode = Deno.statSync(`${remotes}/vmm/provider/${action}`).mode! & 0o777;
    assert.equal(mode & 0o111, 0o111, `${action} is executable by everyone`);
  }
});

test("install without a build fails with one line and installs nothing", async () => {
  const remotes = await openNebulaRemotes("remotes-b");
  const result = await install(["--remotes", remotes, "--dist", `${tmp}/no-dist`]);
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    `Cannot install: ${tmp}/no-dist/install.sh does not exist; run "deno task build" first\n`,
  );
  assert.deepEqual(installedUnder(remotes), ["im/", "vmm/"]);
});

test("the installed driver deploys with no Deno on the PATH and no HOME, from its new place", async () => {
  const remotes = await openNebulaRemotes("remotes-c");
  assert.equal((await install(["--remotes", remotes])).code, 0);
  const config = await writeLocalConfig(`${tmp}/hybrid_driver.json`, ep.url, TEST_CREDENTIALS, {
    defaults: { statePollSeconds: 0.05 },
  });
  const env = { PATH: await bareBin(), HYBRID_DRIVER_CONFIG: config };
  const xml = vmDeployment(61, { AMI: AMAZON_LINUX_AMI, INSTANCETYPE: "t3.micro" });
  const file = `${tmp}/deployment.0`;
  await Deno.writeTextFile(file, xml);
  const deploy = `${remotes}/vmm/provider/deploy`;
  const id = deployedId(
    await runProcess(deploy, [file, "aws", "61", "aws"], { stdin: oneBase64(xml), env }),
  );
  assert.equal(ep.instances("us-east-1").find((i) => i.instanceId === id)?.state, "running");
  const bad = await runProcess(`${remotes}/vmm/provider/poll`, ["x", "aws", "61", "aws"], { env });
  assert.equal(
    failureLine(bad),
    'Invalid deploy id "x": not an EC2 instance id (i-xxxxxxxxxxxxxxxxx)',
  );
});

/** Every path under a directory, with what it is: `f 755`, a link's target, or `d`. */
function layout(dir: string, prefix = ""): string[] {
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

test("install lays out 5.12+'s host probes by default: links to OpenNebula's monitord client and the probes directory, no 4.x poll", async () => {
  const remotes = await openNebulaRemotes("remotes-im");
  const result = await install(["--remotes", remotes]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(layout(`${remotes}/im`).filter((p) => !p.startsWith("kvm.d")), [
    "provider-probes.d/",
    "provider-probes.d/.one-hybrid-install 644",
    "provider-probes.d/host/",
    "provider-probes.d/host/beacon/",
    "provider-probes.d/host/beacon/monitord-client-shepherd_local.sh -> ../../../common.d/monitord-client-shepherd_local.sh",
    "provider-probes.d/host/monitor/",
    "provider-probes.d/host/monitor/probe_host_monitor 755",
    "provider-probes.d/host/system/",
    "provider-probes.d/host/system/probe_host_system 755",
    "provider-probes.d/vm/",
    "provider-probes.d/vm/monitor/",
    "provider-probes.d/vm/monitor/probe_vm_monitor 755",
    "provider-probes.d/vm/status/",
    "provider-probes.d/vm/status/probe_vm_status 755",
    "provider.d/",
    "provider.d/.one-hybrid-install 644",
    "provider.d/monitord-client.rb -> ../common.d/monitord-client.rb",
    "provider.d/monitord-client_control.sh -> ../common.d/monitord-client_control.sh",
  ]);
  assert.ok(layout(`${remotes}/vmm/provider`).includes("orphans 755"));
});

test("install --im legacy over a 5.12+ install lays out 4.4-5.10's poll alone (the probes directory goes), and the installed probe reports the host from its new place", async () => {
  const remotes = await openNebulaRemotes("remotes-legacy");
  assert.equal((await install(["--remotes", remotes])).code, 0);
  const result = await install(["--remotes", remotes, "--im", "legacy", "--host", "aws-x"]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.includes("onehost create aws-x -i provider -v provider -n dummy"));
  assert.deepEqual(layout(`${remotes}/im`).filter((p) => !p.startsWith("kvm.d")), [
    "provider.d/",
    "provider.d/.one-hybrid-install 644",
    "provider.d/poll 755",
  ]);
  const config = await writeLocalConfig(`${tmp}/im_driver.json`, ep.url, TEST_CREDENTIALS, {
    hosts: { "aws-x": { capacity: { "t3.micro": 1 } } },
  });
  const env = { PATH: await bareBin(), HYBRID_DRIVER_CONFIG: config, ONE_AUTH: `${tmp}/none` };
  const poll = await runProcess(`${remotes}/im/provider.d/poll`, [
    "provider",
    "-",
    "4124",
    "20",
    "7",
    "aws-x",
  ], {
    env,
  });
  assert.equal(poll.stderr, "");
  assert.equal(poll.code, 0);
  assert.match(
    poll.stdout,
    /^HYPERVISOR=ec2\nPUBLIC_CLOUD=YES\nPRIORITY=-1\nTOTALMEMORY=1048576\nTOTALCPU=200\n/,
  );
});

test("install --im none removes the probes an earlier install put there and says to use the dummy IM; an unknown --im fails", async () => {
  const remotes = await openNebulaRemotes("remotes-none");
  assert.equal((await install(["--remotes", remotes])).code, 0);
  const result = await install(["--remotes", remotes, "--im", "none"]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.includes("onehost create aws-us-east-1 -i dummy -v provider"));
  assert.deepEqual(layout(`${remotes}/im`), ["kvm.d/"]);
  const bad = await install(["--remotes", remotes, "--im", "4.x"]);
  assert.deepEqual(bad, {
    code: 1,
    stdout: "",
    stderr: 'Cannot install: --im must be monitord, legacy or none, not "4.x"\n',
  });
});

test("install refuses a driver directory it did not install, changing nothing; --force moves it to a named backup that keeps the old files", async () => {
  const remotes = await openNebulaRemotes("remotes-foreign");
  await Deno.mkdir(`${remotes}/vmm/provider`);
  await Deno.writeTextFile(`${remotes}/vmm/provider/deploy`, "someone else's deploy\n");
  const before = installedUnder(remotes);
  const refused = await install(["--remotes", remotes]);
  assert.deepEqual(refused, {
    code: 1,
    stdout: "",
    stderr:
      `Cannot install: one-hybrid did not install ${remotes}/vmm/provider; --force moves it to <path>.backup-<UTC time> first\n`,
  });
  assert.deepEqual(installedUnder(remotes), before);

  const forced = await install(["--remotes", remotes, "--force"]);
  assert.equal(forced.code, 0, forced.stderr);
  const moved = /^Moved (\S+) \(not installed by one-hybrid\) to (\S+)\n/.exec(forced.stdout);
  assert.ok(moved, forced.stdout);
  assert.equal(moved[1], `${remotes}/vmm/provider`);
  assert.match(moved[2]!, new RegExp(`^${remotes}/vmm/provider\\.backup-\\d{8}T\\d{6}Z$`));
  assert.equal(await Deno.readTextFile(`${moved[2]}/deploy`), "someone else's deploy\n");
  assert.match(await Deno.readTextFile(`${remotes}/vmm/provider/deploy`), /^#!\/bin\/sh\n/);

  // What it installed itself it replaces without --force, and keeps no backup of.
  const again = await install(["--remotes", remotes]);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(!again.stdout.includes("Moved"), again.stdout);
  assert.deepEqual(
    [...Deno.readDirSync(`${remotes}/vmm`)].map((e) => e.name).filter((n) => n.includes("backup")),
    [moved[2]!.slice(`${remotes}/vmm/`.length)],
  );
});

test("install refuses a remotes directory that is not OpenNebula's and creates nothing; --not-opennebula installs there", async () => {
  const typo = `${tmp}/var/lib/one/remote`;
  const refused = await install(["--remotes", typo]);
  assert.deepEqual(refused, {
    code: 1,
    stdout: "",
    stderr:
      `Cannot install: ${typo} does not look like OpenNebula's remotes directory (it needs vmm/, im/ and one of scripts_common.sh, vmm/kvm/, etc/); check --remotes, or pass --not-opennebula to install there anyway\n`,
  });
  await assert.rejects(Deno.stat(`${tmp}/var`), Deno.errors.NotFound);
  const empty = `${tmp}/empty-remotes`;
  await Deno.mkdir(`${empty}/vmm`, { recursive: true });
  await Deno.mkdir(`${empty}/im`);
  assert.equal((await install(["--remotes", empty])).code, 1);
  assert.deepEqual(layout(empty), ["im/", "vmm/"]);

  const chosen = await install(["--remotes", typo, "--not-opennebula"]);
  assert.equal(chosen.code, 0, chosen.stderr);
  assert.ok((await Deno.stat(`${typo}/vmm/provider/deploy`)).isFile);
});

test("install of a driver name the build did not make fails and says the build command to run", async () => {
  const remotes = await openNebulaRemotes("remotes-name");
  const result = await install(["--remotes", remotes, "--name", "ec2"]);
  assert.deepEqual(result, {
    code: 1,
    stdout: "",
    stderr:
      `Cannot install: ${DIST} holds the "provider" driver, not "ec2"; build it with: deno task build --name ec2\n`,
  });
  assert.deepEqual(installedUnder(remotes), ["im/", "vmm/"]);
});

/**
 * A PATH holding only the commands dist/install.sh uses (links to this machine's), so neither
 * Deno nor anything else the installer does not name can be what it runs.
 */
async function installerBin(): Promise<string> {
  const bin = `${tmp}/installer-bin`;
  await Deno.mkdir(bin, { recursive: true });
  const tools = [
    ...["sh", "sed", "cp", "mkdir", "mv", "rm", "id", "date", "cat", "ls", "chown"],
    ...["grep", "tr", "ln", "readlink"],
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

test("dist/install.sh from a copy of dist/ alone installs with no Deno on the PATH and no HOME, and the installed action runs", async () => {
  const copy = `${tmp}/copied/dist`;
  await Deno.mkdir(`${tmp}/copied`, { recursive: true });
  const cp = await new Deno.Command("cp", { args: ["-pRP", DIST, copy] }).output();
  assert.ok(cp.success);
  const remotes = await openNebulaRemotes("remotes-sh");
  const env = { PATH: await installerBin() };
  const result = await runProcess(`${copy}/install.sh`, ["--remotes", remotes, "--im", "legacy"], {
    env,
  });
  assert.equal(result.stderr, "");
  assert.equal(result.code, 0);
  assert.match(
    result.stdout,
    new RegExp(`^Installed the provider driver \\(\\w+ build\\) into ${remotes}/vmm/provider\\n`),
  );
  assert.match(
    await Deno.readTextFile(`${remotes}/vmm/provider/.one-hybrid-install`),
    /from .*\/copied\/dist\n/,
  );
  const bad = await runProcess(`${remotes}/vmm/provider/poll`, ["x", "aws", "61", "aws"], {
    env: { PATH: await bareBin() },
  });
  assert.equal(
    failureLine(bad),
    'Invalid deploy id "x": not an EC2 instance id (i-xxxxxxxxxxxxxxxxx)',
  );
});

test("install --runtime-dir keeps the driver program outside remotes: a new build goes beside the old, current switches to it, --rollback switches back, and the actions run through the link", async () => {
  const remotes = await openNebulaRemotes("remotes-runtime");
  const runtime = `${tmp}/usr-lib-one-hybrid`;
  const env = { PATH: await installerBin() };
  const first = await runProcess(`${DIST}/install.sh`, [
    "--remotes",
    remotes,
    "--runtime-dir",
    runtime,
  ], { env });
  assert.equal(first.code, 0, first.stderr);
  const old = /^built=(.*)$/m.exec(await Deno.readTextFile(`${DIST}/BUILD_INFO`))![1]!
    .replace(/[^A-Za-z0-9]/g, "");
  assert.ok(
    first.stdout.split("\n").includes(
      `Driver program: ${runtime}/provider/${old}, linked from ${runtime}/provider/current`,
    ),
    first.stdout,
  );
  assert.equal(Deno.readLinkSync(`${remotes}/vmm/provider/.driver`), `${runtime}/provider/current`);
  assert.equal(Deno.readLinkSync(`${runtime}/provider/current`), old);

  // A newer build, as a copy of dist/ with a later build time.
  const newer = `${tmp}/newer-dist`;
  assert.ok((await new Deno.Command("cp", { args: ["-pRP", DIST, newer] }).output()).success);
  const info = await Deno.readTextFile(`${newer}/BUILD_INFO`);
  await Deno.writeTextFile(
    `${newer}/BUILD_INFO`,
    info.replace(/^built=.*$/m, "built=2099-01-02T03:04:05.006Z"),
  );
  const second = await runProcess(`${newer}/install.sh`, [
    "--remotes",
    remotes,
    "--runtime-dir",
    runtime,
  ], { env });
  assert.equal(second.code, 0, second.stderr);
  assert.ok(
    second.stdout.split("\n").includes(
      `Driver program: ${runtime}/provider/20990102T030405006Z, linked from ${runtime}/provider/current (was ${old}; --rollback goes back)`,
    ),
    second.stdout,
  );
  assert.deepEqual(layout(`${runtime}/provider`).filter((p) => !/\/./.test(p)), [
    `${old}/`,
    "20990102T030405006Z/",
    "current -> 20990102T030405006Z",
    "previous 644",
  ]);
  const poll = () =>
    runProcess(`${remotes}/vmm/provider/poll`, ["x", "aws", "61", "aws"], {
      env: { PATH: `${tmp}/bare-bin` },
    });
  await bareBin();
  const invalid = 'Invalid deploy id "x": not an EC2 instance id (i-xxxxxxxxxxxxxxxxx)';
  assert.equal(failureLine(await poll()), invalid);

  const back = await runProcess(`${DIST}/install.sh`, ["--rollback", "--runtime-dir", runtime], {
    env,
  });
  assert.deepEqual(back, {
    code: 0,
    stdout: `Switched ${runtime}/provider/current from 20990102T030405006Z back to ${old}\n`,
    stderr: "",
  });
  assert.equal(Deno.readLinkSync(`${runtime}/provider/current`), old);
  assert.equal(failureLine(await poll()), invalid);

  const nowhere = await runProcess(`${DIST}/install.sh`, [
    "--rollback",
    "--runtime-dir",
    `${tmp}/no-runtime`,
  ], { env });
  assert.deepEqual(nowhere, {
    code: 1,
    stdout: "",
    stderr:
      `Cannot roll back: ${tmp}/no-runtime/provider/current does not exist: nothing installed there\n`,
  });
});

/** The uid of a user, or of this process without one (`id -u`: Deno.uid needs --allow-sys). */
async function uidOf(user?: string): Promise<number> {
  const out = await new Deno.Command("id", { args: ["-u", ...(user ? [user] : [])] }).output();
  assert.ok(out.success, `id -u ${user ?? ""}`);
  return Number(new TextDecoder().decode(out.stdout));
}

test("dist/install.sh run as root gives the installed files to --owner (oneadmin by default, when it exists)", async () => {
  const remotes = await openNebulaRemotes("remotes-owner");
  const me = await uidOf();
  const owner = me === 0 ? "nobody" : undefined;
  const args = ["--remotes", remotes, ...(owner ? ["--owner", owner] : [])];
  const result = await runProcess(`${DIST}/install.sh`, args);
  assert.equal(result.code, 0, result.stderr);
  const uid = owner ? await uidOf(owner) : me;
  assert.notEqual(uid, owner ? 0 : -1);
  for (
    const path of ["vmm/provider", "vmm/provider/deploy", "vmm/provider/.driver", "im/provider.d"]
  ) {
    assert.equal(Deno.lstatSync(`${remotes}/${path}`).uid, uid, path);
  }
  assert.equal(Deno.statSync(`${remotes}/vmm/kvm`).uid, me, "OpenNebula's own files");
  if (me === 0) {
    const unknown = await runProcess(`${DIST}/install.sh`, [...args, "--owner", "no-such-user"]);
    assert.deepEqual(unknown, {
      code: 1,
      stdout: "",
      stderr: "Cannot install: --owner no-such-user: no such user\n",
    });
  }
});

/** Runs a script of scripts/ with deno, or dist/install.sh with sh, and returns what it did. */
async function runScript(script: string, args: string[]): Promise<ActionResult> {
  if (script === "install.sh") return await runProcess(`${DIST}/install.sh`, args);
  return await runProcess(Deno.execPath(), ["run", "-A", `${SCRIPTS}${script}.ts`, ...args], {
    env: { NO_COLOR: "1", HOME: Deno.env.get("HOME") ?? tmp, ...denoDir() },
  });
}

for (const script of ["build", "install", "install.sh", "demo", "bench", "soak", "mutants"]) {
  test(`${script} --help prints its usage and exits 0; an unknown option is one line and exit 2`, async () => {
    const help = await runScript(script, ["--help"]);
    assert.equal(help.stderr, "");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: .*\n[^]*\nExit status: 0 [^]*\b2 bad command line\b/);
    const bad = await runScript(script, ["--frobnicate"]);
    assert.deepEqual(bad, {
      code: 2,
      stdout: "",
      stderr: `${script}: unknown option "--frobnicate" (see --help)\n`,
    });
  });
}

/** DENO_DIR, when set, so that scripts run by deno find the same module cache. */
function denoDir(): Record<string, string> {
  const dir = Deno.env.get("DENO_DIR");
  return dir === undefined ? {} : { DENO_DIR: dir };
}
