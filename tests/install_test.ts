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
import {
  bareBin,
  buildName,
  DIST,
  distBuiltAt,
  INSTALL,
  install,
  installedUnder,
  installerBin,
  layout,
  type MonitordParts,
  ONE_CLIENT,
  ONE_SHEPHERD,
  oneFile,
  OPENNEBULA_PATHS,
  openNebulaRemotes,
  tmp,
} from "./install_fixtures.ts";

const SCRIPTS = new URL("../scripts/", import.meta.url).pathname;
const LAB = new URL("../lab/", import.meta.url).pathname;

const ep: Ec2Endpoint = await startEc2Endpoint({ timing: { pendingMs: 100 } });

test("install copies every action's launcher into remotes/vmm/provider, the program beside remotes, and prints the oned.conf section and onehost command", async () => {
  const remotes = await openNebulaRemotes("remotes-a");
  const result = await install(["--remotes", remotes, "--host", "aws-eu-west-1"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    new RegExp(`^Installed the provider driver \\(\\w+ build\\) into ${remotes}/vmm/provider\\n`),
  );
  assert.ok(
    result.stdout.includes('ARGUMENTS            = "-t 15 -r 0 -p -w 600 provider"'),
    result.stdout,
  );
  assert.ok(
    result.stdout.includes("onehost create aws-eu-west-1 -i provider -v provider"),
    result.stdout,
  );
  assert.ok(result.stdout.includes('ARGUMENTS     = "-c -t 1 -r 0 -w 600 provider" ]'));
  const built = [...Deno.readDirSync(`${DIST}/vmm/provider`)].map((e) => e.name)
    .filter((n) => n !== ".driver");
  const installed = [...Deno.readDirSync(`${remotes}/vmm/provider`)].map((e) => e.name).sort();
  assert.deepEqual(installed, [...built, ".one-hybrid-install"].sort());
  const program = `${remotes}/../one-hybrid/provider`;
  const current = (await Deno.readTextFile(`${program}/current`)).trim();
  assert.ok(Deno.statSync(`${program}/${current}/vmm/provider/.driver`).isDirectory);
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

/** What install puts into remotes/im for 5.12+'s monitord (the host probes and the client). */
const MONITORD_LAYOUT = [
  "provider-probes.d/",
  "provider-probes.d/.one-hybrid-install 644",
  "provider-probes.d/host/",
  "provider-probes.d/host/beacon/",
  "provider-probes.d/host/beacon/monitord-client-shepherd_local.sh 755",
  "provider-probes.d/host/monitor/",
  "provider-probes.d/host/monitor/probe_host_monitor 755",
  "provider-probes.d/host/system/",
  "provider-probes.d/host/system/probe_host_system 755",
  "provider-probes.d/vm/",
  "provider-probes.d/vm/execution/",
  "provider-probes.d/vm/monitor/",
  "provider-probes.d/vm/monitor/probe_vm_monitor 755",
  "provider-probes.d/vm/snapshot/",
  "provider-probes.d/vm/status/",
  "provider-probes.d/vm/status/probe_vm_status 755",
  "provider.d/",
  "provider.d/.one-hybrid-install 644",
  "provider.d/monitord-client.rb 644",
  "provider.d/monitord-client_control.sh 755",
];

/** What install put into remotes/im: every path but OpenNebula's own. */
function ours(remotes: string): string[] {
  return layout(`${remotes}/im`).filter((p) => !OPENNEBULA_PATHS.test(`im/${p}`));
}

test("install lays out 5.12+'s host probes by default: OpenNebula's monitord client and shepherd copied as files from the installed tree (it has no im/common.d), our control script, no 4.x poll", async () => {
  const remotes = await openNebulaRemotes("remotes-im", "6.10.0");
  const result = await install(["--remotes", remotes]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(ours(remotes), MONITORD_LAYOUT);
  const text = (path: string) => Deno.readTextFileSync(`${remotes}/${path}`);
  assert.equal(text("im/provider.d/monitord-client.rb"), oneFile(ONE_CLIENT.dummy, "6.10.0"));
  assert.equal(
    text("im/provider-probes.d/host/beacon/monitord-client-shepherd_local.sh"),
    oneFile(ONE_SHEPHERD.dummy, "6.10.0"),
  );
  // Our own control script, not OpenNebula's (which is beside its client in im/dummy.d).
  assert.equal(
    text("im/provider.d/monitord-client_control.sh"),
    Deno.readTextFileSync(`${SCRIPTS}monitord_client_control.sh`),
  );
  assert.ok(
    result.stdout.includes(
      `\nHost probes in ${remotes}/im/provider.d\nand ${remotes}/im/provider-probes.d, run by OpenNebula's monitord client\ncopied from ${remotes}/im/dummy.d/ (install again after upgrading OpenNebula);\nadd this to /etc/one/monitord.conf as well:\n`,
    ),
    result.stdout,
  );
  assert.ok(layout(`${remotes}/vmm/provider`).includes("orphans 755"));
});

test("install takes OpenNebula's monitord client from im/kvm.d and the shepherd from im/ec2-probes.d when im/dummy* lack them, and refuses in one line, changing nothing, when the tree has no client, shepherd or lib", async () => {
  const other = await openNebulaRemotes("remotes-im-kvm", "5.12.0", {
    client: "kvm",
    shepherd: "ec2",
  });
  const result = await install(["--remotes", other]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(ours(other), MONITORD_LAYOUT);
  const text = (path: string) => Deno.readTextFileSync(`${other}/${path}`);
  assert.equal(text("im/provider.d/monitord-client.rb"), oneFile(ONE_CLIENT.kvm, "5.12.0"));
  assert.equal(
    text("im/provider-probes.d/host/beacon/monitord-client-shepherd_local.sh"),
    oneFile(ONE_SHEPHERD.ec2, "5.12.0"),
  );
  assert.ok(result.stdout.includes(`\ncopied from ${other}/im/kvm.d/ (install`), result.stdout);

  const cases: [MonitordParts, string][] = [
    [{ client: "none" }, "im/dummy.d/monitord-client.rb (or im/kvm.d/)"],
    [
      { shepherd: "none" },
      "im/dummy-probes.d/host/beacon/monitord-client-shepherd_local.sh (or im/ec2-probes.d/)",
    ],
    [{ lib: false }, "im/lib/monitord_client.rb, im/lib/probe_db.rb"],
    [
      { client: "none", shepherd: "none", lib: false },
      "im/dummy.d/monitord-client.rb (or im/kvm.d/), im/dummy-probes.d/host/beacon/monitord-client-shepherd_local.sh (or im/ec2-probes.d/), im/lib/monitord_client.rb, im/lib/probe_db.rb",
    ],
  ];
  for (const [i, [parts, missing]] of cases.entries()) {
    const remotes = await openNebulaRemotes(`remotes-im-missing-${i}`, "6.10.0", parts);
    const before = layout(remotes);
    const refused = await runProcess(`${DIST}/install.sh`, ["--remotes", remotes]);
    assert.deepEqual(refused, {
      code: 1,
      stdout: "",
      stderr:
        `Cannot install: ${remotes} has no ${missing}, which OpenNebula 6.10.0 installs and its monitord client needs to run the host probes; check --remotes, or use --im none (OpenNebula's dummy IM reports the host)\n`,
    });
    assert.deepEqual(layout(remotes), before);
    await assert.rejects(
      Deno.stat(`${tmp}/remotes-im-missing-${i}/one-hybrid`),
      Deno.errors.NotFound,
    );
  }

  // Not OpenNebula's tree: installed without the client, and said so on stderr.
  const foreign = `${tmp}/remotes-im-foreign`;
  const chosen = await runProcess(`${DIST}/install.sh`, [
    "--remotes",
    foreign,
    "--not-opennebula",
    "--opennebula",
    "7.4",
  ]);
  assert.equal(chosen.code, 0, chosen.stderr);
  assert.equal(
    chosen.stderr,
    `install.sh: warning: ${foreign} has no im/dummy.d/monitord-client.rb (or im/kvm.d/), im/dummy-probes.d/host/beacon/monitord-client-shepherd_local.sh (or im/ec2-probes.d/), im/lib/monitord_client.rb, im/lib/probe_db.rb (--not-opennebula): the host probes will not run until this is installed again into OpenNebula's remotes\n`,
  );
  assert.deepEqual(
    ours(foreign),
    MONITORD_LAYOUT.filter((p) => !/monitord-client(\.rb|-shepherd)/.test(p)),
  );
});

/**
 * The probe directories each release's monitord client opens (its probes table, read in that
 * release's src/im_mad/remotes/common.d/monitord-client.rb): a missing one kills the client with
 * Errno::ENOENT before its first report. vm/snapshot from 6.0, vm/execution from 7.2.
 */
const CLIENT_DIRS: readonly (readonly [string, readonly string[]])[] = [
  ["5.12.0", ["host/system", "host/monitor", "vm/status", "vm/monitor", "host/beacon"]],
  ["6.0.0", [
    "host/system",
    "host/monitor",
    "vm/status",
    "vm/monitor",
    "vm/snapshot",
    "host/beacon",
  ]],
  ["6.10.0", [
    "host/system",
    "host/monitor",
    "vm/status",
    "vm/monitor",
    "vm/snapshot",
    "host/beacon",
  ]],
  ["7.0.0", [
    "host/system",
    "host/monitor",
    "vm/status",
    "vm/monitor",
    "vm/snapshot",
    "host/beacon",
  ]],
  [
    "7.4.0",
    [
      "host/system",
      "host/monitor",
      "vm/status",
      "vm/execution",
      "vm/monitor",
      "vm/snapshot",
      "host/beacon",
    ],
  ],
];

test("install gives every probe directory each release's monitord client opens (6.0+: vm/snapshot, 7.2+: vm/execution), empty where the driver has no probe", async () => {
  for (const [version, dirs] of CLIENT_DIRS) {
    const remotes = await openNebulaRemotes(`remotes-dirs-${version}`, version);
    const result = await runProcess(`${DIST}/install.sh`, ["--remotes", remotes]);
    assert.equal(result.code, 0, `${version}: ${result.stderr}`);
    for (const dir of dirs) {
      const path = `${remotes}/im/provider-probes.d/${dir}`;
      assert.ok((await Deno.stat(path).catch(() => null))?.isDirectory, `${version}: ${path}`);
    }
  }
});

/** A host's monitoring configuration as monitord hands it to START_MONITOR (6.x). */
function monitorConfiguration(hostId: string): string {
  return "<MONITOR_CONFIGURATION><NETWORK><ADDRESS>0.0.0.0</ADDRESS>" +
    "<MONITOR_ADDRESS>auto</MONITOR_ADDRESS><PORT>4124</PORT><PRIKEY/><PUBKEY/>" +
    "<THREADS>8</THREADS></NETWORK><PROBES_PERIOD><BEACON_HOST>30</BEACON_HOST>" +
    "<MONITOR_HOST>120</MONITOR_HOST><MONITOR_VM>30</MONITOR_VM><STATE_VM>5</STATE_VM>" +
    "<SYNC_STATE_VM>180</SYNC_STATE_VM><SYSTEM_HOST>600</SYSTEM_HOST></PROBES_PERIOD>" +
    `<HOST_ID>${hostId}</HOST_ID></MONITOR_CONFIGURATION>`;
}

/**
 * A directory holding a stand-in `ruby` for OpenNebula's monitord client: it records its stdin,
 * arguments and SSH_CLIENT in `record`, prints a first report, then, as the client does, puts
 * its output elsewhere and keeps running. With `record/fail` present it dies first instead.
 */
async function standInRuby(record: string): Promise<string> {
  const bin = `${record}/bin`;
  await Deno.mkdir(bin, { recursive: true });
  await Deno.writeTextFile(
    `${bin}/ruby`,
    [
      "#!/bin/sh",
      // The control script's report of a client that died first: OpenNebula's client library
      // sends it to monitord; here its configuration and reason are recorded.
      'if [ "$1" = -e ]; then',
      `  cat >"${record}/sent_config"`,
      `  printf '%s\\n' "$4" >"${record}/sent"`,
      `  [ ! -f "${record}/nosend" ] || { echo "stand-in library: cannot send" >&2; exit 1; }`,
      "  exit 0",
      "fi",
      `cat >"${record}/stdin"`,
      `printf '%s\\n' "$@" >"${record}/argv"`,
      `printf '%s\\n' "\${SSH_CLIENT-unset}" >"${record}/ssh_client"`,
      `if [ -f "${record}/fail" ]; then echo "stand-in client: cannot start" >&2; exit 3; fi`,
      'echo "<MONITOR_MESSAGES>first report of host $3</MONITOR_MESSAGES>"',
      "exec >/dev/null 2>&1",
      "while :; do sleep 1; done",
      "",
    ].join("\n"),
  );
  await Deno.chmod(`${bin}/ruby`, 0o755);
  return bin;
}

/** The command line of a running process, or "" when it is gone (or a zombie). */
async function argsOf(pid: string): Promise<string> {
  const out = await new Deno.Command("ps", { args: ["-p", pid, "-o", "args="] }).output();
  const args = new TextDecoder().decode(out.stdout).trim();
  return /<defunct>|^\[/.test(args) ? "" : args;
}

test("the installed control script starts OpenNebula's monitord client as one_im_sh runs it: the base64 input decoded to XML, SSH_CLIENT 127.0.0.1 for MONITOR_ADDRESS auto, the pid recorded; stop stops it; a client that dies first fails the start with its error", async () => {
  const remotes = await openNebulaRemotes("remotes-control", "6.10.0");
  assert.equal((await runProcess(`${DIST}/install.sh`, ["--remotes", remotes])).code, 0);
  const record = `${tmp}/control-record`;
  const bin = await standInRuby(record);
  // monitord host ids are small; one this large is no real host's on this machine.
  const hostId = String(800000 + Math.floor(Math.random() * 100000));
  const pidFile = `/tmp/one-monitord-${hostId}.pid`;
  const dir = `${remotes}/im/provider.d`;
  const client = `${dir}/monitord-client.rb`;
  const xml = monitorConfiguration(hostId);
  // run_monitord_client: cd im/<name>.d, then `echo ${STDIN} | ./$i <name> <host id> <host>`,
  // STDIN being what OpenNebulaDriver#do_action wrote: Base64.strict_encode64 of the XML.
  const control = (args: string[], stdin: string, env: Record<string, string> = {}) =>
    runProcess("./monitord-client_control.sh", args, {
      cwd: dir,
      stdin,
      env: { PATH: `${bin}:/usr/bin:/bin`, LANG: "C", ...env },
    });
  const started = (text: string) => ({
    code: 0,
    stdout: `<MONITOR_MESSAGES>first report of host ${hostId}</MONITOR_MESSAGES>\n`,
    stderr: text,
  });
  const recorded = (file: string) => Deno.readTextFileSync(`${record}/${file}`);
  const b64 = `${btoa(xml)}\n`;
  try {
    assert.deepEqual(await control(["provider", hostId, "aws-x"], b64), started(""));
    assert.equal(recorded("stdin"), `${xml}\n`);
    assert.equal(recorded("argv"), `${client}\nprovider\n${hostId}\naws-x\n`);
    assert.equal(recorded("ssh_client"), "127.0.0.1 0 0\n");
    const first = (await Deno.readTextFile(pidFile)).trim();
    assert.match(await argsOf(first), new RegExp(`ruby ${client} provider ${hostId} aws-x$`));

    // Started again (monitord restarted): the first client is stopped, one runs. An SSH_CLIENT
    // inherited from the shell that started OpenNebula names that shell's peer, not monitord.
    const again = await control(["provider", hostId, "aws-x"], b64, {
      SSH_CLIENT: "192.0.2.10 50000 22",
    });
    assert.deepEqual(again, started(""));
    assert.equal(recorded("ssh_client"), "127.0.0.1 0 0\n");
    const second = (await Deno.readTextFile(pidFile)).trim();
    assert.notEqual(second, first);
    assert.equal(await argsOf(first), "");
    assert.notEqual(await argsOf(second), "");

    // stop_monitord_client: `./$i stop <name> <host id> <host>`, with the same input.
    assert.deepEqual(await control(["stop", "provider", hostId, "aws-x"], b64), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assert.equal(await argsOf(second), "");
    await assert.rejects(Deno.stat(pidFile), Deno.errors.NotFound);

    // Input already XML is passed as it is; a 5.12-6.x client whose LOCAL_HYPERVISOR names the
    // driver decodes the input itself, so it gets the base64.
    assert.deepEqual(await control(["provider", hostId, "aws-x"], xml), started(""));
    assert.equal(recorded("stdin"), `${xml}\n`);
    const copied = await Deno.readTextFile(client);
    await Deno.writeTextFile(client, `LOCAL_HYPERVISOR = %w[az ec2 one provider].freeze\n`);
    assert.deepEqual(await control(["provider", hostId, "aws-x"], b64), started(""));
    assert.equal(recorded("stdin"), `${btoa(xml)}\n`);
    await Deno.writeTextFile(client, copied);

    // A client that dies before its first report: what it said goes to monitord as a failed
    // SYSTEM_HOST report (the host's ERROR keeps it), and the start itself answers nothing.
    await Deno.writeTextFile(`${record}/fail`, "");
    const said =
      `monitord-client_control.sh: OpenNebula's monitord client for host aws-x (id ${hostId}) exited with status 3 before its first report: stand-in client: cannot start\n`;
    assert.deepEqual(await control(["provider", hostId, "aws-x"], b64), {
      code: 0,
      stdout: "",
      stderr: said,
    });
    assert.equal(recorded("sent"), "stand-in client: cannot start\n");
    assert.equal(recorded("sent_config"), xml);
    await assert.rejects(Deno.stat(pidFile), Deno.errors.NotFound);
    // When even that cannot be sent, the start fails with the reason.
    await Deno.writeTextFile(`${record}/nosend`, "");
    assert.deepEqual(await control(["provider", hostId, "aws-x"], b64), {
      code: 1,
      stdout: "",
      stderr: said,
    });
  } finally {
    await control(["stop", "provider", hostId, "aws-x"], "");
    for (const suffix of ["pid", "error"]) {
      await Deno.remove(`/tmp/one-monitord-${hostId}.${suffix}`).catch(() => {});
    }
  }
});

test("install into 5.10 over a 5.12 install lays out 4.4-5.10's poll alone (the probes directory goes), and the installed probe reports the host from its new place", async () => {
  const remotes = await openNebulaRemotes("remotes-legacy", "5.12.0");
  assert.equal((await install(["--remotes", remotes])).code, 0);
  await Deno.writeTextFile(`${remotes}/VERSION`, "5.10.1\n");
  const result = await install(["--remotes", remotes, "--host", "aws-x"]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.includes("  onehost create aws-x -i provider -v provider\n"));
  assert.deepEqual(ours(remotes), [
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
  assert.deepEqual(ours(remotes), []);
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

test("dist/install.sh from a copy of dist/ alone installs with no Deno on the PATH and no HOME, and the installed action runs", async () => {
  const copy = `${tmp}/copied/dist`;
  await Deno.mkdir(`${tmp}/copied`, { recursive: true });
  const cp = await new Deno.Command("cp", { args: ["-pRP", DIST, copy] }).output();
  assert.ok(cp.success);
  const remotes = await openNebulaRemotes("remotes-sh", "5.4.0");
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

test("the driver program goes beside remotes, not into it: what onehost sync copies (scp -r, rsync -L follow links) is a few KB with no link out", async () => {
  const remotes = await openNebulaRemotes("remotes-small");
  const result = await runProcess(`${DIST}/install.sh`, ["--remotes", remotes]);
  assert.equal(result.code, 0, result.stderr);
  let bytes = 0;
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir}/${entry.name}`;
      // No links at all: OpenNebula's monitord client is copied (an installed im/ has no common.d).
      assert.ok(!entry.isSymlink, `${path} -> ${entry.isSymlink && Deno.readLinkSync(path)}`);
      if (entry.isDirectory) walk(path);
      else bytes += Deno.statSync(path).size;
    }
  };
  walk(remotes);
  assert.ok(bytes < 64 * 1024, `${bytes} bytes in remotes`);
  const program = `${tmp}/remotes-small/one-hybrid/provider/${await buildName(DIST)}`;
  assert.ok(Deno.statSync(`${program}/vmm/provider/.driver`).size > 0);
});

test("an upgrade installs the newer build beside the older, current names it, older builds are removed, and --rollback installs the previous build again, launchers and all", async () => {
  const remotes = await openNebulaRemotes("remotes-runtime");
  const runtime = `${tmp}/remotes-runtime/one-hybrid/provider`;
  const env = { PATH: await installerBin() };
  const old = await buildName(DIST);
  const first = await runProcess(`${DIST}/install.sh`, ["--remotes", remotes], { env });
  assert.equal(first.code, 0, first.stderr);
  assert.ok(
    first.stdout.includes(
      `/remotes/vmm/provider\nDriver program: ${runtime}/${old}, named in ${runtime}/current\n\n`,
    ),
    first.stdout,
  );
  assert.equal(await Deno.readTextFile(`${runtime}/current`), `${old}\n`);

  // A newer build whose poll launcher says so, then a newer one still.
  const newer = await distBuiltAt("newer-dist", "2099-01-02T03:04:05.006Z");
  await Deno.writeTextFile(`${newer}/vmm/provider/poll`, "\n# newer\n", { append: true });
  const second = await runProcess(`${newer}/install.sh`, ["--remotes", remotes], { env });
  assert.equal(second.code, 0, second.stderr);
  assert.ok(
    second.stdout.includes(
      `\nDriver program: ${runtime}/20990102T030405006Z, named in ${runtime}/current (was ${old}; --rollback goes back)\n`,
    ),
    second.stdout,
  );
  assert.match(await Deno.readTextFile(`${remotes}/vmm/provider/poll`), /# newer\n$/);
  const newest = await distBuiltAt("newest-dist", "2099-03-04T05:06:07.008Z");
  const third = await runProcess(`${newest}/install.sh`, ["--remotes", remotes], { env });
  assert.equal(third.code, 0, third.stderr);
  assert.ok(third.stdout.includes(`\nRemoved the older build ${runtime}/${old}\n`), third.stdout);
  assert.deepEqual(layout(runtime).filter((p) => !/\/./.test(p)), [
    ".one-hybrid-install 644",
    "20990102T030405006Z/",
    "20990304T050607008Z/",
    "current 644",
    "options 644",
    "previous 644",
  ]);

  const poll = () =>
    runProcess(`${remotes}/vmm/provider/poll`, ["x", "aws", "61", "aws"], {
      env: { PATH: `${tmp}/bare-bin` },
    });
  await bareBin();
  const invalid = 'Invalid deploy id "x": not an EC2 instance id (i-xxxxxxxxxxxxxxxxx)';
  assert.equal(failureLine(await poll()), invalid);

  // Back to the newer build, with its launchers (the newest build's are identical but for time).
  const back = await runProcess(`${DIST}/install.sh`, ["--rollback", "--remotes", remotes], {
    env,
  });
  assert.equal(back.code, 0, back.stderr);
  assert.ok(
    back.stdout.startsWith(
      `Rolling back ${runtime} from 20990304T050607008Z to 20990102T030405006Z\nInstalled the provider driver (portable build) into ${remotes}/vmm/provider\nDriver program: ${runtime}/20990102T030405006Z, named in ${runtime}/current (was 20990304T050607008Z; --rollback goes back)\n`,
    ),
    back.stdout,
  );
  assert.equal(await Deno.readTextFile(`${runtime}/current`), "20990102T030405006Z\n");
  assert.match(await Deno.readTextFile(`${remotes}/vmm/provider/poll`), /# newer\n$/);
  assert.equal(failureLine(await poll()), invalid);
  const forward = await runProcess(`${DIST}/install.sh`, ["--rollback", "--remotes", remotes], {
    env,
  });
  assert.equal(forward.code, 0, forward.stderr);
  assert.equal(await Deno.readTextFile(`${runtime}/current`), "20990304T050607008Z\n");
  assert.doesNotMatch(await Deno.readTextFile(`${remotes}/vmm/provider/poll`), /# newer/);

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

test("install --in-tree keeps the driver program in remotes/vmm/provider/.driver, and the actions run from there", async () => {
  const remotes = await openNebulaRemotes("remotes-in-tree");
  const result = await runProcess(`${DIST}/install.sh`, ["--remotes", remotes, "--in-tree"]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.startsWith("Installed the provider driver"), result.stdout);
  assert.ok(Deno.statSync(`${remotes}/vmm/provider/.driver`).isDirectory);
  await assert.rejects(Deno.stat(`${tmp}/remotes-in-tree/one-hybrid`), Deno.errors.NotFound);
  const bad = await runProcess(`${remotes}/vmm/provider/poll`, ["x", "aws", "61", "aws"], {
    env: { PATH: await bareBin() },
  });
  assert.equal(
    failureLine(bad),
    'Invalid deploy id "x": not an EC2 instance id (i-xxxxxxxxxxxxxxxxx)',
  );
  const both = await runProcess(`${DIST}/install.sh`, [
    "--remotes",
    remotes,
    "--in-tree",
    "--runtime-dir",
    "/opt/x",
  ]);
  assert.deepEqual(both, {
    code: 2,
    stdout: "",
    stderr: "install.sh: --in-tree and --runtime-dir exclude each other (see --help)\n",
  });
});

/** The lines of a printed section: from the line starting with `first` to the one ending in "]". */
function sectionOf(stdout: string, first: string): string[] {
  const lines = stdout.split("\n");
  const from = lines.findIndex((l) => l.startsWith(first));
  if (from === -1) return [];
  const to = lines.findIndex((l, i) => i >= from && l.endsWith("]"));
  return lines.slice(from, to + 1);
}

/**
 * The actions oned 5.0-6.10 allows on an imported VM when VM_MAD lists them: those the driver
 * does (terminate, power-off and its resume, suspend and resume, reboot, recover --delete) and
 * those oned does alone (hold, release, resched, unresched). Every name is valid in 5.0's
 * History::action_from_str and in 5.10-6.10's VMActions::action_from_str.
 */
const IMPORTED =
  "terminate, terminate-hard, hold, release, suspend, resume, delete, reboot, reboot-hard, resched, unresched, poweroff, poweroff-hard";

/** One release's printed configuration. */
interface Generation {
  readonly version: string;
  /** The VM_MAD section, line by line. */
  readonly vmm: readonly string[];
  /** The IM_MAD section (ours, or OpenNebula's dummy one to enable), line by line. */
  readonly im: readonly string[];
  /** The file the IM_MAD section goes into. */
  readonly imConf: string;
  readonly onehost: string;
}

/** A VM_MAD section of 3.2-4.14 (lower-case keys). */
function vmm4(name: string, args: string): string[] {
  return [
    "VM_MAD = [",
    `    name       = "${name}",`,
    '    executable = "one_vmm_sh",',
    `    arguments  = "${args}",`,
    '    type       = "xml" ]',
  ];
}

/** A VM_MAD section of 5.0-6.10: SUNSTONE_NAME and IMPORTED_VMS_ACTIONS, as 5.x's ec2 one. */
function vmm5(args: string): string[] {
  return [
    "VM_MAD = [",
    '    NAME                 = "provider",',
    '    SUNSTONE_NAME        = "one-hybrid",',
    '    EXECUTABLE           = "one_vmm_sh",',
    `    ARGUMENTS            = "${args}",`,
    '    TYPE                 = "xml",',
    `    IMPORTED_VMS_ACTIONS = "${IMPORTED}" ]`,
  ];
}

/** A VM_MAD section of 7.0+, which has no imported VMs (onehost importvm is gone). */
const VMM_7 = [
  "VM_MAD = [",
  '    NAME          = "provider",',
  '    SUNSTONE_NAME = "one-hybrid",',
  '    EXECUTABLE    = "one_vmm_sh",',
  '    ARGUMENTS     = "-t 15 -r 0 -p -w 600 provider",',
  '    TYPE          = "xml" ]',
];

/** Our IM_MAD of 4.4-4.14 (lower case, no SUNSTONE_NAME). */
const IM_4 = [
  "IM_MAD = [",
  '    name       = "provider",',
  '    executable = "one_im_sh",',
  '    arguments  = "-c -t 1 -r 0 provider" ]',
];

/** Our IM_MAD of 5.0+ (in oned.conf until 5.10, in monitord.conf from 5.12). */
function im5(args: string): string[] {
  return [
    "IM_MAD = [",
    '    NAME          = "provider",',
    '    SUNSTONE_NAME = "one-hybrid",',
    '    EXECUTABLE    = "one_im_sh",',
    `    ARGUMENTS     = "${args}" ]`,
  ];
}

/**
 * What install prints for each release, as read in that release's share/etc/oned.conf,
 * src/monitor/etc/monitord.conf, VirtualMachineManagerDriver.cc, one_vmm_exec.rb,
 * one_im_exec.rb and src/cli/onehost: the VM_MAD, the IM_MAD (ours, or the dummy one to enable)
 * and the onehost command.
 */
const GENERATIONS: readonly Generation[] = [
  {
    version: "3.2",
    vmm: vmm4("vmm_provider", "-t 15 -r 0 provider"),
    im: [`IM_MAD = [ name="im_dummy", executable="one_im_dummy"]`],
    imConf: "/etc/one/oned.conf",
    onehost: "  onehost create h1 im_dummy vmm_provider tm_dummy dummy",
  },
  {
    version: "3.8",
    vmm: vmm4("vmm_provider", "-t 15 -r 0 provider"),
    im: [`IM_MAD = [ name="im_dummy", executable="one_im_dummy"]`],
    imConf: "/etc/one/oned.conf",
    onehost: "  onehost create h1 -i im_dummy -v vmm_provider -n dummy",
  },
  {
    version: "4.2",
    vmm: vmm4("provider", "-t 15 -r 0 provider"),
    im: [`IM_MAD = [ name="dummy", executable="one_im_dummy"]`],
    imConf: "/etc/one/oned.conf",
    onehost: "  onehost create h1 -i dummy -v provider -n dummy",
  },
  {
    version: "4.4.1",
    vmm: vmm4("provider", "-t 15 -r 0 provider"),
    im: IM_4,
    imConf: "/etc/one/oned.conf",
    onehost: "  onehost create h1 -i provider -v provider -n dummy",
  },
  {
    version: "4.14.2",
    vmm: vmm4("provider", "-t 15 -r 0 -p provider"),
    im: IM_4,
    imConf: "/etc/one/oned.conf",
    onehost: "  onehost create h1 -i provider -v provider -n dummy",
  },
  {
    version: "5.0.2",
    vmm: vmm5("-t 15 -r 0 -p provider"),
    im: im5("-c -t 1 -r 0 provider"),
    imConf: "/etc/one/oned.conf",
    onehost: "  onehost create h1 -i provider -v provider",
  },
  {
    version: "5.10.1",
    vmm: vmm5("-t 15 -r 0 -p -w 600 provider"),
    im: im5("-c -t 1 -r 0 -w 600 provider"),
    imConf: "/etc/one/oned.conf",
    onehost: "  onehost create h1 -i provider -v provider",
  },
  ...["5.12.0", "6.0.0", "6.10.0"].map((version) => ({
    version,
    vmm: vmm5("-t 15 -r 0 -p -w 600 provider"),
    im: im5("-c -t 1 -r 0 -w 600 provider"),
    imConf: "/etc/one/monitord.conf",
    onehost: "  onehost create h1 -i provider -v provider",
  })),
  ...["7.0.0", "7.4.0"].map((version) => ({
    version,
    vmm: VMM_7,
    im: im5("-c -t 1 -r 0 -w 600 provider"),
    imConf: "/etc/one/monitord.conf",
    // 7.x places VMs on a system datastore of the host's cluster: one that does nothing.
    onehost: "  onehost create h1 -i provider -v provider --cluster hybrid",
  })),
];

test("install prints each release's own oned.conf and monitord.conf sections (SUNSTONE_NAME from 5.0, IMPORTED_VMS_ACTIONS in 5.0-6.10) and onehost command, the release read from remotes/VERSION or --opennebula", async () => {
  for (const { version, vmm, im, imConf, onehost } of GENERATIONS) {
    const old = Number(version.split(".")[0]) < 4 || version === "4.2";
    const remotes = await openNebulaRemotes(`remotes-${version}`, old ? null : version);
    const result = await runProcess(`${DIST}/install.sh`, [
      "--remotes",
      remotes,
      "--host",
      "h1",
      ...(old ? ["--opennebula", version] : []),
    ]);
    assert.equal(result.code, 0, `${version}: ${result.stderr}`);
    assert.equal(result.stderr, "", version);
    const lines = result.stdout.split("\n");
    assert.ok(lines.includes(`OpenNebula ${version}: add this to /etc/one/oned.conf:`), version);
    assert.deepEqual(sectionOf(result.stdout, "VM_MAD = ["), vmm, version);
    assert.deepEqual(sectionOf(result.stdout, "IM_MAD = ["), im, version);
    assert.ok(
      lines.some((l) =>
        l.includes(`${imConf} is not commented out:`) || l.includes(`${imConf} as well:`)
      ),
      `${version}: ${imConf}\n${result.stdout}`,
    );
    assert.ok(lines.includes(onehost), `${version} prints ${onehost}:\n${result.stdout}`);
    const commands = lines.slice(lines.findIndex((l) => l.startsWith("Then "))).filter((l) =>
      l.startsWith("  ")
    );
    assert.deepEqual(
      commands,
      version.startsWith("7.")
        ? [
          "  onecluster create hybrid",
          `  printf 'NAME = "hybrid-system"\\nTYPE = "SYSTEM_DS"\\nTM_MAD = "dummy"\\n' >hybrid-system.ds`,
          "  onedatastore create hybrid-system.ds --cluster hybrid",
          onehost,
        ]
        : [onehost],
      version,
    );
  }
});

test("install of a release newer than 7.4 says in one line on stderr that it was not tested, and installs as for 7.4", async () => {
  const remotes = await openNebulaRemotes("remotes-7.6", "7.6.0");
  const result = await runProcess(`${DIST}/install.sh`, ["--remotes", remotes, "--host", "h1"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stderr,
    "install.sh: warning: OpenNebula 7.6.0 is newer than the releases this driver was tested with (3.2 to 7.4); installing as for 7.4\n",
  );
  assert.deepEqual(sectionOf(result.stdout, "VM_MAD = ["), VMM_7);
  assert.deepEqual(sectionOf(result.stdout, "IM_MAD = ["), im5("-c -t 1 -r 0 -w 600 provider"));
  assert.deepEqual(ours(remotes), MONITORD_LAYOUT);
});

test("a self-contained OpenNebula (ONE_LOCATION): install names $ONE_LOCATION/etc's oned.conf and monitord.conf, found from the remotes path or from ONE_LOCATION, and says where the driver reads its configuration", async () => {
  const location = `${tmp}/self-contained`;
  const remotes = await openNebulaRemotes("self-contained", "6.10.0", { selfContained: true });
  assert.equal(remotes, `${location}/var/remotes`);
  const result = await runProcess(`${DIST}/install.sh`, ["--remotes", remotes, "--host", "h1"]);
  assert.equal(result.code, 0, result.stderr);
  // The driver reads hybrid_driver.json from $ONE_LOCATION/etc, which its drivers inherit.
  const conf = (etc: string) => [
    `OpenNebula 6.10.0: add this to ${etc}/oned.conf:`,
    `add this to ${etc}/monitord.conf as well:`,
    `settings in ${etc}/hybrid_driver.json; the host probes need its capacity there or in`,
  ];
  const lines = result.stdout.split("\n");
  for (const line of conf(`${location}/etc`)) assert.ok(lines.includes(line), line);
  assert.doesNotMatch(result.stdout, /\/etc\/one\/(oned|monitord)\.conf/);

  // ONE_LOCATION in the environment: the default remotes, and its etc/ even before oned.conf.
  const other = `${tmp}/one-location`;
  const otherRemotes = await openNebulaRemotes("one-location", "7.4.0", { selfContained: true });
  await Deno.remove(`${other}/etc/oned.conf`);
  const fromEnv = await runProcess(`${DIST}/install.sh`, ["--host", "h1"], {
    env: { ONE_LOCATION: other },
  });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.match(
    fromEnv.stdout,
    new RegExp(
      `^Installed the provider driver \\(\\w+ build\\) into ${otherRemotes}/vmm/provider\\n`,
    ),
  );
  const otherLines = fromEnv.stdout.split("\n");
  for (const line of conf(`${other}/etc`).slice(0, 2)) {
    assert.ok(otherLines.includes(line.replace("6.10.0", "7.4.0")), line);
  }
  assert.ok(
    otherLines.includes(
      `in ${other}/etc/hybrid_driver.json; the host probes need its capacity there or in the host`,
    ),
  );

  // An installed OpenNebula that is not self-contained: /etc/one, and no word of defaultrc.
  const system = await runProcess(`${DIST}/install.sh`, [
    "--remotes",
    await openNebulaRemotes("system-wide", "6.10.0"),
  ]);
  assert.ok(system.stdout.includes("\nOpenNebula 6.10.0: add this to /etc/one/oned.conf:\n"));
  assert.ok(system.stdout.includes("\nadd this to /etc/one/monitord.conf as well:\n"));
  assert.ok(system.stdout.includes("\nsettings in /etc/one/hybrid_driver.json; the host probes"));
});

test("install refuses a release it cannot serve, or host probes the release does not run, changing nothing", async () => {
  const remotes = await openNebulaRemotes("remotes-refused", null);
  const cases: [string[], string][] = [
    [
      [],
      `${remotes} has no VERSION file, so OpenNebula is older than 4.4: say which release with --opennebula (e.g. 3.2, 3.8, 4.2)`,
    ],
    [
      ["--opennebula", "3.0"],
      "OpenNebula 3.0 is older than the releases this driver supports (3.2 and later)",
    ],
    [["--opennebula", "five"], '--opennebula "five": give a release such as 3.2, 4.14 or 6.0'],
    [
      ["--opennebula", "4.14", "--im", "monitord"],
      "--im monitord needs OpenNebula 5.12 or later, not 4.14 (4.4-5.10: --im legacy)",
    ],
    [
      ["--opennebula", "6.0", "--im", "legacy"],
      "--im legacy is for OpenNebula 4.4 to 5.10, not 6.0 (5.12 and later: --im monitord; before 4.4: --im none)",
    ],
    [
      ["--opennebula", "4.2", "--im", "legacy"],
      "--im legacy is for OpenNebula 4.4 to 5.10, not 4.2 (5.12 and later: --im monitord; before 4.4: --im none)",
    ],
  ];
  for (const [args, message] of cases) {
    const result = await runProcess(`${DIST}/install.sh`, ["--remotes", remotes, ...args]);
    assert.deepEqual(result, { code: 1, stdout: "", stderr: `Cannot install: ${message}\n` });
  }
  assert.deepEqual(installedUnder(remotes), ["im/", "vmm/"]);
  await assert.rejects(Deno.stat(`${tmp}/remotes-refused/one-hybrid`), Deno.errors.NotFound);
});

test("scripts/install.ts itself needs no npm package: it installs with an empty Deno cache and an unreachable registry", async () => {
  const remotes = await openNebulaRemotes("remotes-no-cache");
  const empty = await Deno.makeTempDir({ dir: tmp, prefix: "deno-dir-" });
  const result = await runProcess(Deno.execPath(), [
    "run",
    "--allow-read",
    "--allow-run=sh",
    "--allow-env",
    INSTALL,
    "--remotes",
    remotes,
  ], { env: { DENO_DIR: empty, HOME: empty, NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/" } });
  assert.equal(result.stderr, "");
  assert.equal(result.code, 0);
  assert.ok(result.stdout.startsWith("Installed the provider driver"), result.stdout);
});

/** The uid of a user, or of this process without one (`id -u`: Deno.uid needs --allow-sys). */
async function uidOf(user?: string): Promise<number> {
  const out = await new Deno.Command("id", { args: ["-u", ...(user ? [user] : [])] }).output();
  assert.ok(out.success, `id -u ${user ?? ""}`);
  return Number(new TextDecoder().decode(out.stdout));
}

test("dist/install.sh run as root gives the files in remotes to --owner (oneadmin by default, when it exists)", async () => {
  const remotes = await openNebulaRemotes("remotes-owner");
  const me = await uidOf();
  const owner = me === 0 ? "nobody" : undefined;
  const args = ["--remotes", remotes, ...(owner ? ["--owner", owner] : [])];
  const result = await runProcess(`${DIST}/install.sh`, args);
  assert.equal(result.code, 0, result.stderr);
  const uid = owner ? await uidOf(owner) : me;
  assert.notEqual(uid, owner ? 0 : -1);
  const paths = ["vmm/provider", "vmm/provider/deploy", "im/provider.d"];
  for (const path of [...paths, "im/provider.d/monitord-client.rb"]) {
    assert.equal(Deno.lstatSync(`${remotes}/${path}`).uid, uid, path);
  }
  assert.equal(Deno.statSync(`${remotes}/vmm/kvm`).uid, me, "OpenNebula's own files");
  const program = `${tmp}/remotes-owner/one-hybrid/provider`;
  assert.equal(Deno.statSync(`${program}/current`).uid, me, "the driver program stays root's");
  if (me === 0) {
    const unknown = await runProcess(`${DIST}/install.sh`, [...args, "--owner", "no-such-user"]);
    assert.deepEqual(unknown, {
      code: 1,
      stdout: "",
      stderr: "Cannot install: --owner no-such-user: no such user\n",
    });
  }
});

/**
 * Runs a script of scripts/ or lab/ with deno, or dist/install.sh with sh, and returns what it
 * did.
 */
async function runScript(script: string, args: string[]): Promise<ActionResult> {
  if (script === "install.sh") return await runProcess(`${DIST}/install.sh`, args);
  const dir = ["demo", "bench", "soak", "mutants"].includes(script) ? LAB : SCRIPTS;
  return await runProcess(Deno.execPath(), ["run", "-A", `${dir}${script}.ts`, ...args], {
    env: { NO_COLOR: "1", HOME: Deno.env.get("HOME") ?? tmp, ...denoDir() },
  });
}

for (
  const script of [
    "build",
    "build_deb",
    "install",
    "install.sh",
    "demo",
    "bench",
    "soak",
    "mutants",
  ]
) {
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
