/**
 * Runs the built `dist/` executables the way OpenNebula's `one_vmm_sh` does: as separate
 * processes, with oned's argument lists, an environment of its own (no inherited AWS
 * settings, an empty HOME) and stdin either closed-empty (3.2–4.x) or base64 text (5.0+).
 *
 * @module
 */

import { type EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import {
  AMAZON_LINUX_AMI,
  DEFAULT_SECURITY_GROUP,
  type Ec2Endpoint,
  type InstanceSnapshot,
  SUBNET_A,
} from "./ec2_endpoint/mod.ts";

/** Where the build puts the VMM actions. */
export const DIST_VMM = new URL("../dist/vmm/provider/", import.meta.url).pathname;

/** A template section the local endpoint's fixtures accept: its AMI, key pair, group and subnet. */
export const FIXTURE_SECTION = {
  AMI: AMAZON_LINUX_AMI,
  INSTANCETYPE: "t3.micro",
  KEYPAIR: "one-key",
  SECURITYGROUPIDS: DEFAULT_SECURITY_GROUP,
  SUBNETID: SUBNET_A,
} as const;

/** What oned gets back from one action. */
export interface ActionResult {
  /** Exit code. */
  readonly code: number;
  /** Standard output. */
  readonly stdout: string;
  /** Standard error. */
  readonly stderr: string;
}

/** How to run one action. */
export interface RunOptions {
  /** Text written to stdin, then closed; empty stdin when absent. */
  readonly stdin?: string;
  /**
   * Write stdin in two halves with this pause between them, as a writer that is still writing
   * when the action may already be done; a write the action no longer reads fails the run.
   */
  readonly stdinPauseMs?: number;
  /** Environment variables (nothing else is inherited but PATH). */
  readonly env?: Record<string, string>;
  /** Working directory (OpenNebula's probe runners `cd` into the probe's directory). */
  readonly cwd?: string;
}

/**
 * Runs one action of `dist/` and waits for it.
 *
 * @param action Action name (`deploy`, `poll`, ...).
 * @param args Its arguments, as one_vmm_sh passes them.
 * @param options stdin and environment.
 * @returns Exit code, stdout and stderr.
 */
export function runAction(
  action: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ActionResult> {
  return runProcess(`${DIST_VMM}${action}`, args, options);
}

/**
 * Runs a program as oned's driver layer does: an environment of its own (PATH from this
 * process unless the options set one), stdin written and closed.
 *
 * @param path The program.
 * @param args Its arguments.
 * @param options stdin and environment.
 * @returns Exit code, stdout and stderr.
 */
export async function runProcess(
  path: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ActionResult> {
  const child = new Deno.Command(path, {
    args: [...args],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...options.env },
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const input = new TextEncoder().encode(options.stdin ?? "");
  if (options.stdinPauseMs !== undefined) {
    const half = Math.floor(input.length / 2);
    await writer.write(input.subarray(0, half));
    await new Promise((resolve) => setTimeout(resolve, options.stdinPauseMs));
    await writer.write(input.subarray(half));
  } else if (input.length > 0) {
    await writer.write(input);
  }
  await writer.close();
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * Base64 of a text wrapped every 60 characters, as OpenNebula 5.10 writes it to stdin.
 *
 * @param text The text.
 * @returns The wrapped base64 with a final newline.
 */
export function oneBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  const encoded = btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
  return `${encoded.replace(/(.{60})/g, "$1\n")}\n`;
}

/**
 * The stderr a failed action must write: the message fenced for OpenNebula's driver layer.
 *
 * @param message The one-line message.
 * @returns The fenced block.
 */
export function fenced(message: string): string {
  return `ERROR MESSAGE --8<------\n${message}\nERROR MESSAGE ------>8--\n`;
}

/**
 * Writes a driver configuration that points every host at a local endpoint with its test
 * credentials, region us-east-1; mode 0600, as a file holding a secret must be.
 *
 * @param path Where to write it.
 * @param endpoint The endpoint's URL.
 * @param credentials An access key the endpoint accepts.
 * @param extra Further defaults, and a `hosts` section when given.
 * @returns The path.
 */
export async function writeLocalConfig(
  path: string,
  endpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  extra: { defaults?: Record<string, unknown>; hosts?: Record<string, Record<string, unknown>> } =
    {},
): Promise<string> {
  const config = {
    defaults: {
      region: "us-east-1",
      endpoint,
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...extra.defaults,
    },
    ...(extra.hosts ? { hosts: extra.hosts } : {}),
  };
  await Deno.writeTextFile(path, JSON.stringify(config, null, 2), { mode: 0o600 });
  // It holds a secret: the driver refuses such a file when other users may read it.
  await Deno.chmod(path, 0o600);
  return path;
}

/**
 * Runs a script of `tests/testdata/` that calls EC2 through the driver's API in a process of its
 * own, with the permissions the SDK needs (the test runner's are narrower), and returns what it
 * printed; it must exit 0.
 *
 * @param script The script's file name in `tests/testdata/`.
 * @param args Its arguments.
 * @param home The process's HOME.
 * @returns Its standard output.
 */
export async function runSdkScript(script: string, args: string[], home: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-net=127.0.0.1",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      new URL(`./testdata/${script}`, import.meta.url).pathname,
      ...args,
    ],
    env: { HOME: home },
  }).output();
  if (out.code !== 0) throw new Error(`${script}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/**
 * Registers a test that shares its module's endpoint, whose server ops span tests.
 *
 * @param name What the test proves.
 * @param fn The test.
 */
export function sharedTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

/**
 * Asserts a successful deploy: exit 0, nothing on stderr, one instance id on stdout.
 *
 * @param result The deploy's result.
 * @returns The instance id.
 */
export function deployedId(result: ActionResult): string {
  assert.equal(result.stderr, "");
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^i-[0-9a-f]{17}\n$/);
  return result.stdout.trim();
}

/**
 * Asserts a failure as the contract wants it: exit 1, one line on stdout, the same line fenced
 * on stderr.
 *
 * @param result The action's result.
 * @returns The line.
 */
export function failureLine(result: ActionResult): string {
  assert.equal(result.code, 1, `expected a failure, got ${JSON.stringify(result)}`);
  const line = result.stdout.replace(/\n$/, "");
  assert.ok(!line.includes("\n"));
  assert.equal(result.stderr, fenced(line));
  return line;
}

/**
 * Splits a monitoring string into its pairs (the value is everything after the first `=`).
 *
 * @param line The monitoring string.
 * @returns The pairs.
 */
export function monitoringPairs(line: string): Record<string, string> {
  return Object.fromEntries(
    line.trim().split(" ").map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]),
  );
}

/**
 * The endpoint's instance with this id, in us-east-1; fails the test when there is none.
 *
 * @param ep The endpoint.
 * @param id The instance id.
 * @returns The instance.
 */
export function instanceOf(ep: Ec2Endpoint, id: string): InstanceSnapshot {
  const found = ep.instances("us-east-1").find((i) => i.instanceId === id);
  assert.ok(found, `the endpoint has no instance ${id}`);
  return found;
}

/**
 * The endpoint's instances tagged with this OpenNebula VM id, in us-east-1.
 *
 * @param ep The endpoint.
 * @param vmId The VM id.
 * @returns The instances, oldest first.
 */
export function instancesOfVm(ep: Ec2Endpoint, vmId: number): InstanceSnapshot[] {
  return ep.instances("us-east-1").filter((i) => i.tags["opennebula:vm-id"] === String(vmId));
}

/**
 * Launches an instance the way an operator would by hand, outside OpenNebula (a "wild"
 * instance): no driver tags, a `Name` tag only.
 *
 * @param client An SDK client of the endpoint.
 * @param imageId The AMI.
 * @returns The instance id.
 */
export async function launchByHand(client: EC2Client, imageId: string): Promise<string> {
  const out = await client.send(
    new RunInstancesCommand({
      ImageId: imageId,
      InstanceType: "t3.small",
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "by hand" }] }],
    }),
  );
  return out.Instances![0]!.InstanceId!;
}
