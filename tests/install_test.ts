/**
 * The install script and the installed driver: `dist/` copied into a remotes directory works
 * there on its own, with no Deno on the PATH and no usable HOME, as oned's oneadmin runs it.
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

const tmp = await Deno.makeTempDir({ prefix: "hybrid-install-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const ep: Ec2Endpoint = await startEc2Endpoint({ timing: { pendingMs: 100 } });

/** Runs the install script with its task's permissions. */
async function install(args: string[]): Promise<ActionResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", INSTALL, ...args],
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
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
  const remotes = `${tmp}/remotes-a`;
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
  assert.deepEqual(installed, built);
  for (const action of ["deploy", "poll", "shutdown", "cancel", "save", "restore"]) {
    const mode = Deno.statSync(`${remotes}/vmm/provider/${action}`).mode! & 0o777;
    assert.equal(mode & 0o111, 0o111, `${action} is executable by everyone`);
  }
});

test("install without a build fails with one line and installs nothing", async () => {
  const remotes = `${tmp}/remotes-b`;
  const result = await install(["--remotes", remotes, "--dist", `${tmp}/no-dist`]);
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    `Cannot install: ${tmp}/no-dist/vmm/provider/deploy does not exist; run "deno task build" first\n`,
  );
  await assert.rejects(Deno.stat(remotes), Deno.errors.NotFound);
});

test("the installed driver deploys with no Deno on the PATH and no HOME, from its new place", async () => {
  const remotes = `${tmp}/remotes-c`;
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
  const remotes = `${tmp}/remotes-im`;
  const result = await install(["--remotes", remotes]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(layout(`${remotes}/im`), [
    "provider-probes.d/",
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
    "provider.d/monitord-client.rb -> ../common.d/monitord-client.rb",
    "provider.d/monitord-client_control.sh -> ../common.d/monitord-client_control.sh",
  ]);
  assert.ok(layout(`${remotes}/vmm/provider`).includes("orphans 755"));
});

test("install --im legacy lays out 4.4-5.10's poll alone, and the installed probe reports the host from its new place", async () => {
  const remotes = `${tmp}/remotes-legacy`;
  const result = await install(["--remotes", remotes, "--im", "legacy", "--host", "aws-x"]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.includes("onehost create aws-x -i provider -v provider -n dummy"));
  assert.deepEqual(layout(`${remotes}/im`), ["provider.d/", "provider.d/poll 755"]);
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

test("install --im none installs no probes and says to use the dummy IM; an unknown --im fails", async () => {
  const remotes = `${tmp}/remotes-none`;
  const result = await install(["--remotes", remotes, "--im", "none"]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.includes("onehost create aws-us-east-1 -i dummy -v provider"));
  await assert.rejects(Deno.stat(`${remotes}/im`), Deno.errors.NotFound);
  const bad = await install(["--remotes", `${tmp}/remotes-bad`, "--im", "4.x"]);
  assert.deepEqual(bad, {
    code: 1,
    stdout: "",
    stderr: 'Cannot install: --im must be monitord, legacy or none, not "4.x"\n',
  });
});
