/**
 * The documented way to run an action by hand (README's "Running an action by hand", and the
 * section of docs/actions.md it links to) is the way that works: every command line of the docs
 * is taken from them and run, in their order, by `sh` against the built `dist/` and the local
 * EC2 endpoint, the documented deployment file standing for the file oned wrote. Paths under
 * `/var/lib/one/` are moved into a scratch directory and the remotes into `dist/`; the example
 * instance id becomes the one the documented deploy printed. Each line's arguments are checked
 * against the contract's argument list of its action (driver-contract.md), so that what the
 * parsers accept is also what oned sends.
 */

import assert from "node:assert/strict";
import { startEc2Endpoint, TEST_CREDENTIALS } from "./ec2_endpoint/mod.ts";
import { type ActionResult, runProcess, sharedTest as test, writeLocalConfig } from "./harness.ts";
import { VMM_ACTIONS } from "../actions/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const EXAMPLE_ID = "i-0123456789abcdef0";

/** The text of a Markdown section, from its heading to the next heading of its level. */
function section(path: string, heading: string): string {
  const text = Deno.readTextFileSync(`${ROOT}${path}`);
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `${path} has a section "${heading}"`);
  const level = heading.split(" ")[0]!;
  const end = text.indexOf(`\n${level} `, start + heading.length + 2);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The fenced code blocks of a text in a language, in order. */
function blocks(text: string, language: string): string[] {
  return [...text.matchAll(new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g"))].map((m) =>
    m[1]!
  );
}

/** The lines of a shell block that are commands (not blank, not comments). */
const commands = (block: string) =>
  block.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#"));

/**
 * The words of a documented command's last pipeline stage (`./action 'a' 'b' 42 host`), up to
 * a redirection or a comment: what the action's argv is.
 */
function argvOf(line: string): { program: string; args: string[] } {
  const stage = line.split(" | ").at(-1)!.split(" && ").at(-1)!;
  const words = [...stage.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  const end = words.findIndex((w) => w.startsWith("#") || w.startsWith("<"));
  const [program, ...args] = end < 0 ? words : words.slice(0, end);
  return { program: program!.replace(/^\.\//, ""), args };
}

/**
 * Each VMM action's arguments as oned 4.x-7.x sends them (driver-contract.md, "How an action is
 * invoked", with restore's 4.x+ form): own parameters, then `<vmid> <host>`.
 */
const CONTRACT: Record<string, string[]> = {
  deploy: ["deployment_file", "host", "vmid", "host"],
  shutdown: ["deploy_id", "host", "vmid", "host"],
  cancel: ["deploy_id", "host", "vmid", "host"],
  save: ["deploy_id", "checkpoint_file", "host", "vmid", "host"],
  checkpoint: ["deploy_id", "checkpoint_file", "host", "vmid", "host"],
  restore: ["checkpoint_file", "host", "deploy_id", "vmid", "host"],
  migrate: ["deploy_id", "dest_host", "host", "vmid", "host"],
  poll: ["deploy_id", "host", "vmid", "host"],
  reboot: ["deploy_id", "host", "vmid", "host"],
  reset: ["deploy_id", "host", "vmid", "host"],
};

/** Checks a documented line's arguments against the contract's list for its action. */
function checkArguments(line: string): void {
  const { program, args } = argvOf(line);
  const names = CONTRACT[program];
  if (names === undefined) return;
  assert.equal(args.length, names.length, `${line}: ${names.join(" ")}`);
  names.forEach((name, i) => {
    const value = args[i]!;
    const ok = name === "vmid"
      ? value === "42"
      : name === "deploy_id"
      ? value === EXAMPLE_ID
      : name === "host" || name === "dest_host"
      ? /^aws-us-east-1(-b)?$/.test(value)
      : value.startsWith("/var/lib/one/");
    assert.ok(ok, `${line}: argument ${i + 1} is not a <${name}>: ${value}`);
  });
  // oned appends `<vmid> <host>` unquoted, after its own quoted parameters.
  assert.ok(line.includes(` 42 ${args.at(-1)}`), `${line}: ends with the unquoted <vmid> <host>`);
}

const actions = section("docs/actions.md", "## Running an action by hand");
const readme = section("README.md", "## Running an action by hand");
const [deploymentXml] = blocks(actions, "xml");
const [prelude, lifecycle, unsupported, probes] = blocks(actions, "sh");
const [readmeBlock] = blocks(readme, "sh");
assert.ok(deploymentXml && prelude && lifecycle && unsupported && probes && readmeBlock);

const ep = await startEc2Endpoint({ timing: { pendingMs: 100, stoppingMs: 100 } });
const tmp = await Deno.makeTempDir({ prefix: "hybrid-replay-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const config = await writeLocalConfig(`${tmp}/hybrid_driver.json`, ep.url, TEST_CREDENTIALS, {
  defaults: { statePollSeconds: 0.05, notFoundRetrySeconds: 1 },
  hosts: {
    "aws-us-east-1": { capacity: { "t3.micro": 4 } },
    "aws-us-east-1-b": { capacity: { "t3.micro": 4 } },
  },
});
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };
const VMS = `${tmp}/one/vms/42`;
await Deno.mkdir(VMS, { recursive: true });
await Deno.mkdir(`${tmp}/one//datastores/100/42`, { recursive: true });

/** A documented line as it runs here: paths moved, the example id made the deployed one. */
function localized(line: string, id: string): string {
  return line
    .replaceAll("/var/lib/one/remotes/vmm/", `${ROOT}dist/vmm/`)
    .replaceAll("/var/lib/one/remotes/im/", `${ROOT}dist/im/`)
    .replaceAll("/var/lib/one/", `${tmp}/one/`)
    .replaceAll(EXAMPLE_ID, id);
}

/** Runs one documented line with `sh`, after the documented setup lines. */
function run(setup: readonly string[], line: string, id: string): Promise<ActionResult> {
  const script = [...setup, line].map((l) => localized(l, id)).join("\n");
  return runProcess("/bin/sh", ["-c", script], { env: ENV });
}

/** The action a documented line runs. */
const actionOf = (line: string) => argvOf(line).program;

Deno.test("the documented lines run every VMM action, each with the arguments the contract lists", () => {
  const documented = new Set(
    [...commands(lifecycle), ...commands(unsupported)].map(actionOf),
  );
  const shipped = Object.keys(VMM_ACTIONS).filter((a) => a !== "doctor");
  assert.deepEqual(shipped.filter((a) => !documented.has(a)), []);
  for (const line of [...commands(lifecycle), ...commands(readmeBlock)]) checkArguments(line);
});

test("the README's deploy and power-off lines run as documented", async () => {
  ep.reset();
  await Deno.writeTextFile(`${VMS}/deployment.0`, deploymentXml);
  const [deploy, shutdown] = commands(readmeBlock);
  const deployed = await run([`cd ${ROOT}dist/vmm/provider`], deploy!, EXAMPLE_ID);
  assert.deepEqual([deployed.code, deployed.stderr], [0, ""], deployed.stdout);
  const id = deployed.stdout.trim();
  assert.match(id, /^i-[0-9a-f]{17}$/);
  const off = await run([`cd ${ROOT}dist/vmm/provider`], shutdown!, id);
  assert.deepEqual(off, { code: 0, stdout: "", stderr: "" });
  assert.equal(ep.instances("us-east-1").find((i) => i.instanceId === id)?.state, "stopped");
});

test("every documented action line, run in order through a VM's life, does what its comment says", async () => {
  ep.reset();
  const setup = commands(prelude);
  await Deno.writeTextFile(`${VMS}/deployment.0`, deploymentXml);
  let id = EXAMPLE_ID;
  for (const line of commands(lifecycle)) {
    if (line.includes("deployment.1")) {
      // What the docs say oned writes for the resume: the VM in BOOT_POWEROFF, with its id.
      assert.equal(deploymentXml.split("<LCM_STATE>2</LCM_STATE>").length, 2);
      assert.equal(deploymentXml.split("<DEPLOY_ID></DEPLOY_ID>").length, 2);
      await Deno.writeTextFile(
        `${VMS}/deployment.1`,
        deploymentXml.replace("<LCM_STATE>2</LCM_STATE>", "<LCM_STATE>20</LCM_STATE>")
          .replace("<DEPLOY_ID></DEPLOY_ID>", `<DEPLOY_ID>${id}</DEPLOY_ID>`),
      );
    }
    const result = await run(setup, line, id);
    assert.deepEqual([result.code, result.stderr], [0, ""], `${line}\n${result.stdout}`);
    const action = actionOf(line);
    if (action === "deploy") {
      if (id === EXAMPLE_ID) id = result.stdout.trim();
      assert.equal(result.stdout, `${id}\n`, line);
    } else if (action === "poll") {
      assert.match(result.stdout, /^STATE=a MEMORY=1048576 AWS_STATE=running /, line);
    } else {
      assert.equal(result.stdout, "", line);
    }
  }
  assert.equal(ep.instances("us-east-1").find((i) => i.instanceId === id)?.state, "terminated");
});

test("every documented line of an action EC2 cannot do fails saying so", async () => {
  for (const line of commands(unsupported)) {
    const result = await run(commands(prelude), line, EXAMPLE_ID);
    assert.equal(result.code, 1, line);
    assert.match(
      result.stdout,
      new RegExp(`^Action ${actionOf(line)} is not supported by the EC2 driver: `),
      line,
    );
  }
});

test("the documented probe lines report the host", async () => {
  ep.reset();
  const [legacy, monitor] = commands(probes);
  const poll = await run([], legacy!, EXAMPLE_ID);
  assert.deepEqual([poll.code, poll.stderr], [0, ""], poll.stdout);
  assert.match(poll.stdout, /^HYPERVISOR=ec2\nPUBLIC_CLOUD=YES\n/);
  const vms = await run([], monitor!, EXAMPLE_ID);
  assert.deepEqual(vms, { code: 0, stdout: "", stderr: "" });
});
