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
    result.stdout.includes("onehost create aws-eu-west-1 -i dummy -v provider"),
    result.stdout,
  );
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
