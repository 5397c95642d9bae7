/**
 * The warm driver server (`lib/driver_server.ts`), run as oned runs the driver: built `dist/`
 * executables as separate processes. A copy of `dist/` is used, so that its SDK bundle can be
 * taken away: once the server has the SDK loaded, only the server can still reach EC2, which
 * proves that an action was served and not run in its own process.
 */

import assert from "node:assert/strict";
import { type Ec2Endpoint, startEc2Endpoint, TEST_CREDENTIALS } from "./ec2_endpoint/mod.ts";
import { actionData, vmDeployment, writeDeployment } from "./deployments.ts";
import {
  type ActionResult,
  deployedId,
  fenced,
  FIXTURE_SECTION,
  instancesOfVm,
  oneBase64,
  runProcess,
  writeLocalConfig,
} from "./harness.ts";
import { LOST_SERVER, MAX_SERVERS } from "../lib/driver_client.ts";

const HOST = "aws-test";
const SLOW = "aws-slow";

const tmp = await Deno.makeTempDir({ prefix: "hybrid-server-" });
globalThis.addEventListener("unload", () => {
  // No server of these tests outlives them.
  for (const pid of servers(tmp)) Deno.kill(pid, "SIGKILL");
  Deno.removeSync(tmp, { recursive: true });
});

const copied = await new Deno.Command("cp", {
  args: ["-pRP", new URL("../dist", import.meta.url).pathname, `${tmp}/dist`],
}).output();
assert.ok(copied.success, "copied dist/");
const VMM = `${tmp}/dist/vmm/provider/`;
const SDK = `${VMM}.driver/js/sdk`;
const PORTABLE = (await Deno.readTextFile(`${tmp}/dist/BUILD_INFO`)).includes("mode=portable");

const ep: Ec2Endpoint = await startEc2Endpoint({ timing: { pendingMs: 100 } });
const slow: Ec2Endpoint = await startEc2Endpoint({
  timing: { pendingMs: 60_000, shuttingDownMs: 100 },
});
const config = await writeLocalConfig(`${tmp}/config.json`, ep.url, TEST_CREDENTIALS, {
  defaults: {
    pollWindowSeconds: 0,
    statePollSeconds: 0.1,
    stateWaitSeconds: 30,
    actionTimeoutSeconds: 60,
  },
  hosts: { [HOST]: {}, [SLOW]: { endpoint: slow.url } },
});
const RUN = `${tmp}/run`;
const ENV = {
  HOME: tmp,
  HYBRID_DRIVER_CONFIG: config,
  XDG_RUNTIME_DIR: RUN,
  HYBRID_DRIVER_SERVER_IDLE_SECONDS: "5",
};
const OFF = { ...ENV, HYBRID_DRIVER_SERVER: "off" };

/** Runs an action of the copy. */
function run(
  action: string,
  args: string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<ActionResult> {
  return runProcess(`${VMM}${action}`, args, { env, ...(stdin !== undefined ? { stdin } : {}) });
}

/** The pids of driver servers whose socket is under a directory (as `ps` lists them). */
function servers(dir: string): number[] {
  const out = new Deno.Command("ps", { args: ["-eo", "pid=,args="], stdout: "piped" }).outputSync();
  return new TextDecoder().decode(out.stdout).split("\n")
    .filter((line) => line.includes(` --serve ${dir}/`))
    .map((line) => Number(line.trim().split(" ")[0]));
}

/** The server sockets in a runtime directory. */
function sockets(runtime: string): string[] {
  try {
    return [...Deno.readDirSync(`${runtime}/one-hybrid`)].map((e) => e.name)
      .filter((name) => name.endsWith(".sock"));
  } catch {
    return [];
  }
}

/** Waits until a condition holds, failing the test after 20 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting until ${what}`);
}

/**
 * Registers a test of this file. The proofs take the SDK bundle away, which only the portable
 * form has; the compiled form embeds it.
 */
function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, ignore: !PORTABLE, sanitizeOps: false, sanitizeResources: false });
}

let deployId = "";

function pollArgs(): [string[], string] {
  return [[deployId, HOST, "301", HOST], oneBase64(actionData(301, HOST, deployId))];
}

test("a served action prints and exits exactly as in a process of its own, and reaches EC2 when the process could not", async () => {
  const deployment = await writeDeployment(tmp, 301, vmDeployment(301, FIXTURE_SECTION));
  // The first action runs in its process and starts the server.
  deployId = deployedId(await run("deploy", [deployment, HOST, "301", HOST], ENV));
  await until(() => servers(RUN).length === 1 && sockets(RUN).length === 1, "a server listens");
  const socket = await Deno.lstat(`${RUN}/one-hybrid/${sockets(RUN)[0]}`);
  assert.equal(socket.mode! & 0o777, 0o600, "only this user may connect");

  const cases: [string, string[], string?][] = [
    ["poll", ...pollArgs()],
    ["poll", [deployId, HOST]],
    ["poll", ["i-0123456789abcdef0", HOST, "302", HOST]],
    ["poll", [deployId, HOST, "301", HOST], "not base64 at all!"],
    ["deploy", [`${tmp}/missing.xml`, HOST, "303", HOST]],
    ["shutdown", [deployId, "aws-nowhere", "301", "aws-nowhere"]],
    ["reboot", ["i-0123456789abcdef0", HOST, "304", HOST]],
  ];
  for (const [action, args, stdin] of cases) {
    const served = await run(action, args, ENV, stdin);
    const alone = await run(action, args, OFF, stdin);
    assert.deepEqual(served, alone, `${action} ${args.join(" ")}`);
  }

  const [args, stdin] = pollArgs();
  const before = await run("poll", args, ENV, stdin);
  assert.equal(before.code, 0);
  // Without its SDK bundle the copy cannot reach EC2 in a process of its own; its server can.
  await Deno.rename(SDK, `${tmp}/sdk-aside`);
  assert.deepEqual(await run("poll", args, ENV, stdin), before);
  const alone = await run("poll", args, OFF, stdin);
  assert.equal(alone.code, 1, `no SDK in the process: ${alone.stdout}`);
  assert.equal(servers(RUN).length, 1, "one server served them all");
});

test("a client killed while its deploy is served stops that deploy at its next step, as a killed process would", async () => {
  assert.equal(servers(RUN).length, 1, "the server of the previous test still runs");
  const deployment = await writeDeployment(tmp, 310, vmDeployment(310, FIXTURE_SECTION));
  const launched = slow.countCalls("RunInstances");
  const client = new Deno.Command(`${VMM}deploy`, {
    args: [deployment, SLOW, "310", SLOW],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...ENV },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  // The copy has no SDK: only the server can launch it.
  await until(() => slow.countCalls("RunInstances") === launched + 1, "the deploy launched");
  await until(() => slow.countCalls("DescribeInstances") > 0, "the deploy waits for running");
  client.kill("SIGKILL");
  await client.status;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const described = slow.countCalls("DescribeInstances");
  // A deploy still waiting would ask every 0.1 s.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.equal(slow.countCalls("DescribeInstances"), described, "the served deploy stopped");
  const states = instancesOfVm(slow, 310).map((i) => i.state);
  assert.deepEqual(states, ["pending"], "what a killed process leaves: the launched instance");
  assert.equal(servers(RUN).length, 1, "the server keeps serving");
});

test("a server killed after accepting a deploy fails it with one line; the next action runs in its process and starts a new server", async () => {
  const [old] = servers(RUN);
  assert.ok(old !== undefined);
  const deployment = await writeDeployment(tmp, 311, vmDeployment(311, FIXTURE_SECTION));
  const launched = slow.countCalls("RunInstances");
  const client = new Deno.Command(`${VMM}deploy`, {
    args: [deployment, SLOW, "311", SLOW],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...ENV },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await until(() => slow.countCalls("RunInstances") === launched + 1, "the deploy launched");
  Deno.kill(old, "SIGKILL");
  const out = await client.output();
  const decoder = new TextDecoder();
  assert.deepEqual(
    { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) },
    { code: 1, stdout: `${LOST_SERVER}\n`, stderr: fenced(LOST_SERVER) },
  );

  await Deno.rename(`${tmp}/sdk-aside`, SDK);
  const [args, stdin] = pollArgs();
  const result = await run("poll", args, ENV, stdin);
  assert.deepEqual(result, await run("poll", args, OFF, stdin));
  assert.equal(result.code, 0);
  await until(() => servers(RUN).length === 1 && servers(RUN)[0] !== old, "a new server runs");
});

test("another environment gets a server of its own", async () => {
  const [current] = servers(RUN);
  const other = { ...ENV, LANG: "C.UTF-8" };
  const [args, stdin] = pollArgs();
  assert.equal((await run("poll", args, other, stdin)).code, 0);
  await until(() => servers(RUN).length === 2 && sockets(RUN).length === 2, "two servers run");
  assert.ok(servers(RUN).includes(current!), "the first one still runs");
});

test("an idle server exits and removes its socket and files", async () => {
  const runtime = `${tmp}/run-idle`;
  const env = { ...ENV, XDG_RUNTIME_DIR: runtime, HYBRID_DRIVER_SERVER_IDLE_SECONDS: "1" };
  assert.equal((await run("poll", ["i-1", HOST], env)).code, 1);
  await until(() => servers(runtime).length === 1, "a server runs");
  await until(() => servers(runtime).length === 0, "it is gone");
  const left = [...Deno.readDirSync(`${runtime}/one-hybrid`)].map((e) => e.name);
  assert.deepEqual(left, [], "no socket, pid file or lock file left");
});

test("a server whose runtime directory was removed still exits when idle", async () => {
  const runtime = `${tmp}/run-gone`;
  const env = { ...ENV, XDG_RUNTIME_DIR: runtime, HYBRID_DRIVER_SERVER_IDLE_SECONDS: "1" };
  assert.equal((await run("poll", ["i-1", HOST], env)).code, 1);
  await until(() => servers(runtime).length === 1 && sockets(runtime).length === 1, "one listens");
  // As a test's clean-up, or a logout's, removes the directory under it.
  await Deno.remove(runtime, { recursive: true });
  await until(() => servers(runtime).length === 0, "it is gone");
});

test("with an unsafe runtime directory actions run in their own processes and no server starts", async () => {
  const runtime = `${tmp}/run-unsafe`;
  await Deno.mkdir(`${runtime}/one-hybrid`, { recursive: true });
  await Deno.chmod(`${runtime}/one-hybrid`, 0o777);
  const env = { ...ENV, XDG_RUNTIME_DIR: runtime };
  const [args, stdin] = pollArgs();
  for (let i = 0; i < 2; i++) {
    const result = await run("poll", args, env, stdin);
    assert.equal(result.code, 0, result.stdout);
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.deepEqual([servers(runtime), sockets(runtime)], [[], []]);
});

test("a user with MAX_SERVERS servers already gets no more: an environment that varied per action cannot fill memory with idle servers", async () => {
  const runtime = `${tmp}/run-full`;
  await Deno.mkdir(`${runtime}/one-hybrid`, { recursive: true, mode: 0o700 });
  await Deno.chmod(`${runtime}/one-hybrid`, 0o700);
  for (let i = 0; i < MAX_SERVERS; i++) {
    await Deno.writeTextFile(`${runtime}/one-hybrid/driver-${"ab".repeat(11)}${i}${i}.sock`, "");
  }
  const env = { ...ENV, XDG_RUNTIME_DIR: runtime };
  const [args, stdin] = pollArgs();
  const result = await run("poll", args, env, stdin);
  assert.equal(result.code, 0, result.stdout);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.deepEqual([servers(runtime), sockets(runtime).length], [[], MAX_SERVERS]);
});

test("concurrent first actions start exactly one server", async () => {
  const runtime = `${tmp}/run-many`;
  const env = { ...ENV, XDG_RUNTIME_DIR: runtime };
  const [args, stdin] = pollArgs();
  const results = await Promise.all(
    Array.from({ length: 6 }, () => run("poll", args, env, stdin)),
  );
  for (const result of results) assert.deepEqual(result, results[0]);
  assert.equal(results[0]!.code, 0);
  await until(() => sockets(runtime).length === 1 && servers(runtime).length === 1, "one serves");
  // Those that lost the race have exited; the winner still serves.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(servers(runtime).length, 1);
  assert.deepEqual(await run("poll", args, env, stdin), results[0]);
});
