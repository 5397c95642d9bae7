/**
 * Input the driver must refuse quickly and in bounded memory, through the built `dist/`
 * actions: devices and endless pipes as deployment, checkpoint or configuration files or as
 * stdin, huge stdin, and configuration mistakes (unknown template keys, numbers out of range,
 * a malformed region, a syntax error next to a secret). Each fails with one exact line, well
 * inside oned's action timeout, and before any call reaches the cloud.
 */

import assert from "node:assert/strict";
import {
  AMAZON_LINUX_AMI,
  DEFAULT_SECURITY_GROUP,
  type Ec2Endpoint,
  startEc2Endpoint,
  SUBNET_A,
  TEST_CREDENTIALS,
} from "./ec2_endpoint/mod.ts";
import { actionData, vmDeployment, writeDeployment } from "./deployments.ts";
import {
  type ActionResult,
  DIST_VMM,
  failureLine,
  oneBase64,
  runAction,
  runProcess,
  sharedTest as test,
  writeLocalConfig,
} from "./harness.ts";

const HOST = "aws-test";
const INSTANCE = "i-0123456789abcdef0";
const SECTION = {
  AMI: AMAZON_LINUX_AMI,
  INSTANCETYPE: "t3.micro",
  SECURITYGROUPIDS: DEFAULT_SECURITY_GROUP,
  SUBNETID: SUBNET_A,
};

const tmp = await Deno.makeTempDir({ prefix: "hybrid-bounded-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const ep: Ec2Endpoint = await startEc2Endpoint({ timing: { pendingMs: 100 } });
const config = await writeLocalConfig(`${tmp}/hybrid_driver.json`, ep.url, TEST_CREDENTIALS, {
  defaults: { statePollSeconds: 0.05 },
});
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };

/** How long any of these actions may take: the 10 s input limit plus start-up and slack. */
const BOUND_MS = 25_000;

/** Runs an action and checks that it ended within the bound. */
async function timed(run: () => Promise<ActionResult>): Promise<ActionResult> {
  const started = Date.now();
  const result = await run();
  const elapsed = Date.now() - started;
  assert.ok(elapsed < BOUND_MS, `took ${elapsed} ms`);
  return result;
}

/** Runs an action with stdin read from a file (a device such as /dev/zero). */
function withStdinFrom(
  file: string,
  action: string,
  args: readonly string[],
  env: Record<string, string> = ENV,
) {
  return runProcess("/bin/sh", [
    "-c",
    'exec "$0" "$@" < "$STDIN_FILE"',
    `${DIST_VMM}${action}`,
    ...args,
  ], {
    env: { ...env, STDIN_FILE: file },
  });
}

/**
 * Runs an action whose stdin gets `text` and then, unless `close`, stays open until the
 * action has ended. Write errors (the action stopped reading) are ignored.
 */
async function withPipedStdin(
  action: string,
  args: readonly string[],
  text: Uint8Array,
  close: boolean,
): Promise<ActionResult> {
  const child = new Deno.Command(`${DIST_VMM}${action}`, {
    args: [...args],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...ENV },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const writing = writer.write(text).then(() => close ? writer.close() : undefined).catch(() => {});
  const out = await child.output();
  await writing;
  await writer.close().catch(() => {});
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Makes a FIFO that a writer holds open without writing, until the returned function runs. */
async function neverEndingFifo(
  name: string,
): Promise<{ path: string; release: () => Promise<void> }> {
  const path = `${tmp}/${name}`;
  const made = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.ok(made.success);
  // `sleep` holds the write end open; it is killed when the test is done.
  const holder = new Deno.Command("/bin/sh", {
    args: ["-c", 'exec sleep 120 > "$0"', path],
    stdout: "null",
    stderr: "null",
  }).spawn();
  return {
    path,
    release: async () => {
      holder.kill("SIGKILL");
      await holder.status;
    },
  };
}

// --- Files that are devices, pipes or system files -------------------------------------------

test("deploy with /dev/zero as the deployment file fails at the 4 MiB limit, launching nothing", async () => {
  ep.reset();
  const result = await timed(() =>
    runAction("deploy", ["/dev/zero", HOST, "601", HOST], {
      stdin: oneBase64(vmDeployment(601, SECTION)),
      env: ENV,
    })
  );
  assert.equal(
    failureLine(result),
    "Cannot read deployment file /dev/zero: larger than the 4 MiB limit",
  );
  assert.equal(ep.countCalls(), 0);
});

test("deploy with a FIFO that never ends as the deployment file gives up after 10 s", async () => {
  ep.reset();
  const fifo = await neverEndingFifo("deployment.fifo");
  try {
    const result = await timed(() =>
      runAction("deploy", [fifo.path, HOST, "602", HOST], { env: ENV })
    );
    assert.equal(
      failureLine(result),
      `Cannot read deployment file ${fifo.path}: it did not end within 10 s`,
    );
  } finally {
    await fifo.release();
  }
  assert.equal(ep.countCalls(), 0);
});

test("deploy with a system file as the deployment file says so in the driver's words", async () => {
  const result = await timed(() =>
    runAction("deploy", ["/proc/self/environ", HOST, "603", HOST], { env: ENV })
  );
  assert.equal(
    failureLine(result),
    "Cannot read deployment file /proc/self/environ: the driver may not open device or system files, and standard input is empty",
  );
});

test("restore with /dev/zero as the checkpoint file fails at the 1 MiB limit, in both argument forms", async () => {
  ep.reset();
  const message = "Cannot read checkpoint file /dev/zero: larger than the 1 MiB limit";
  const legacy = await timed(() =>
    runAction("restore", ["/dev/zero", HOST, "604", HOST], { env: ENV })
  );
  assert.equal(failureLine(legacy), message);
  const current = await timed(() =>
    runAction("restore", ["/dev/zero", HOST, INSTANCE, "604", HOST], {
      stdin: oneBase64(actionData(604, HOST, INSTANCE)),
      env: ENV,
    })
  );
  assert.equal(failureLine(current), message);
  assert.equal(ep.countCalls(), 0);
});

test("any action with HYBRID_DRIVER_CONFIG=/dev/zero fails at the 1 MiB limit", async () => {
  for (const action of ["poll", "shutdown"]) {
    const result = await timed(() =>
      runAction(action, [INSTANCE, HOST, "605", HOST], {
        env: { ...ENV, HYBRID_DRIVER_CONFIG: "/dev/zero" },
      })
    );
    assert.equal(
      failureLine(result),
      "Cannot read driver configuration /dev/zero: larger than the 1 MiB limit",
    );
  }
});

test("a configuration FIFO that never ends fails the action after 10 s", async () => {
  const fifo = await neverEndingFifo("config.fifo");
  try {
    const result = await timed(() =>
      runAction("poll", [INSTANCE, HOST, "606", HOST], {
        env: { ...ENV, HYBRID_DRIVER_CONFIG: fifo.path },
      })
    );
    assert.equal(
      failureLine(result),
      `Cannot read driver configuration ${fifo.path}: it did not end within 10 s`,
    );
  } finally {
    await fifo.release();
  }
});

// --- Standard input --------------------------------------------------------------------------

test("poll with /dev/zero as stdin fails at the 8 MiB limit, quickly", async () => {
  ep.reset();
  const started = Date.now();
  const result = await withStdinFrom("/dev/zero", "poll", [INSTANCE, HOST, "607", HOST]);
  assert.equal(failureLine(result), "Standard input is larger than the 8 MiB limit");
  assert.ok(Date.now() - started < 10_000);
  assert.equal(ep.countCalls(), 0);
});

test("poll with 20 MB of base64 on stdin fails at the 8 MiB limit", async () => {
  ep.reset();
  const huge = new TextEncoder().encode(
    `${"QUJD".repeat(15 * 1024 * 1024 / 3)}\n`.replace(/(.{60})/g, "$1\n"),
  );
  assert.ok(huge.length > 20_000_000);
  const result = await timed(() =>
    withPipedStdin("poll", [INSTANCE, HOST, "608", HOST], huge, true)
  );
  assert.equal(failureLine(result), "Standard input is larger than the 8 MiB limit");
  assert.equal(ep.countCalls(), 0);
});

test("poll whose stdin never closes fails after 10 s instead of guessing there is no action data", async () => {
  ep.reset();
  const data = new TextEncoder().encode(oneBase64(actionData(609, HOST, INSTANCE)));
  const result = await timed(() =>
    withPipedStdin("poll", [INSTANCE, HOST, "609", HOST], data, false)
  );
  assert.equal(failureLine(result), "Standard input did not end within 10 s");
  assert.equal(ep.countCalls(), 0);
});

test("deploy from a readable file is not held by a stdin that never closes", async () => {
  ep.reset();
  const xml = vmDeployment(610, SECTION);
  const path = await writeDeployment(tmp, 610, xml);
  const result = await timed(() =>
    withPipedStdin(
      "deploy",
      [path, HOST, "610", HOST],
      new TextEncoder().encode(oneBase64(xml)),
      false,
    )
  );
  assert.equal(result.stderr, "");
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^i-[0-9a-f]{17}\n$/);
});

test("poll still reads action data of a normal size to its end", async () => {
  ep.reset();
  // 3 MB of action data: well under the limit, far more than one pipe buffer.
  const padding = `<PADDING>${"x".repeat(3_000_000)}</PADDING>`;
  const data = actionData(611, HOST, INSTANCE).replace("<DATASTORE/>", `<DATASTORE/>${padding}`);
  const result = await timed(() =>
    runAction("poll", [INSTANCE, HOST, "611", HOST], { stdin: oneBase64(data), env: ENV })
  );
  // The harness wrote all of it (no broken pipe); the unknown id fails the fresh VM's poll.
  assert.match(failureLine(result), /InvalidInstanceID\.NotFound/);
});

// --- Configuration mistakes ------------------------------------------------------------------

async function writeConfig(name: string, extra: Parameters<typeof writeLocalConfig>[3]) {
  return await writeLocalConfig(`${tmp}/${name}.json`, ep.url, TEST_CREDENTIALS, extra);
}

test("a misspelt template key in the deployment fails deploy before any API call", async () => {
  ep.reset();
  const xml = vmDeployment(612, { ...SECTION, KEYPAIRR: "ops" });
  const path = await writeDeployment(tmp, 612, xml);
  const result = await timed(() => runAction("deploy", [path, HOST, "612", HOST], { env: ENV }));
  assert.equal(
    failureLine(result),
    "KEYPAIRR: unknown PUBLIC_CLOUD attribute; did you mean KEYPAIR?",
  );
  assert.equal(ep.countCalls(), 0);
});

test("a misspelt template key in the configuration fails every action of that host, naming the file", async () => {
  ep.reset();
  const path = await writeConfig("typo", {
    hosts: { [HOST]: { template: { SUBNET_ID: SUBNET_A } }, other: {} },
  });
  const message =
    `Invalid key "SUBNET_ID" in hosts.${HOST}.template of ${path}: unknown template attribute; did you mean SUBNETID?`;
  const env = { ...ENV, HYBRID_DRIVER_CONFIG: path };
  const deployment = await writeDeployment(tmp, 613, vmDeployment(613, SECTION));
  for (
    const [action, args] of [
      ["deploy", [deployment, HOST, "613", HOST]],
      ["poll", [INSTANCE, HOST, "613", HOST]],
      ["shutdown", [INSTANCE, HOST, "613", HOST]],
    ] as const
  ) {
    const result = await timed(() => runAction(action, args, { env }));
    assert.equal(failureLine(result), message, action);
  }
  // Another host of the same file is not affected by it.
  const other = await runAction("poll", [INSTANCE, "other", "613", "other"], { env });
  assert.match(failureLine(other), /InvalidInstanceID\.NotFound/);
  assert.equal(ep.countCalls("RunInstances") + ep.countCalls("TerminateInstances"), 0);
});

test("actionTimeoutSeconds out of range fails with the key, file and range, and nothing else", async () => {
  const path = await writeConfig("timeout", { defaults: { actionTimeoutSeconds: 3_000_000 } });
  const result = await timed(() =>
    runAction("poll", [INSTANCE, HOST, "614", HOST], {
      env: { ...ENV, HYBRID_DRIVER_CONFIG: path },
    })
  );
  // failureLine() checks that stderr holds the fenced line and nothing else (no timer warning).
  assert.equal(
    failureLine(result),
    `Setting "actionTimeoutSeconds" for host ${HOST} in ${path} must be a number of seconds from 15 to 86400`,
  );
});

test("a region with blanks or slashes is refused before the SDK sees it", async () => {
  ep.reset();
  const path = await writeConfig("region", { defaults: { region: "us-east-1/../x" } });
  const result = await timed(() =>
    runAction("poll", [INSTANCE, HOST, "615", HOST], {
      env: { ...ENV, HYBRID_DRIVER_CONFIG: path },
    })
  );
  assert.equal(
    failureLine(result),
    `Setting "region" for host ${HOST} in ${path} must be a region name: up to 64 letters, digits, '-', '_' or '.' (e.g. us-east-1)`,
  );
  assert.equal(ep.countCalls(), 0);
});

test("a JSON syntax error next to a secret is reported by position, without the secret", async () => {
  const path = `${tmp}/broken.json`;
  const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
  await Deno.writeTextFile(path, `{"defaults": {\n  "secretAccessKey": ${secret}\n}}\n`);
  const result = await timed(() =>
    runAction("poll", [INSTANCE, HOST, "616", HOST], {
      env: { ...ENV, HYBRID_DRIVER_CONFIG: path },
    })
  );
  assert.equal(
    failureLine(result),
    `Invalid JSON in driver configuration ${path} at line 2, column 22: unexpected character, expected a value`,
  );
  assert.ok(
    !result.stdout.includes(secret.slice(0, 4)) && !result.stderr.includes(secret.slice(0, 4)),
  );
});
