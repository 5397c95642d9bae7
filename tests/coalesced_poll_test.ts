/**
 * Coalesced polling, played with the built `dist/` executables against the local endpoint:
 * polls of many VMs of one account share one listing within the host's `pollWindowSeconds`,
 * whether oned runs one poll process per VM (3.2–4.x, as here: no stdin) or a host probe lists
 * the account first. Each test works in a region of its own, so that its listing is its own.
 */

import assert from "node:assert/strict";
import { RunInstancesCommand } from "@aws-sdk/client-ec2";
import {
  AMAZON_LINUX_AMI,
  type CallRecord,
  type Ec2Endpoint,
  startEc2Endpoint,
  TEST_CREDENTIALS,
} from "./ec2_endpoint/mod.ts";
import { clientFor } from "./ec2_endpoint/testing.ts";
import { actionData } from "./deployments.ts";
import {
  type ActionResult,
  failureLine,
  oneBase64,
  runAction,
  runProcess,
  sharedTest as test,
  writeLocalConfig,
} from "./harness.ts";
import { parseConfig } from "../lib/core/config.ts";
import { EC2_KIND } from "../lib/providers/ec2/mod.ts";
import { scopeFileName } from "../lib/core/poll_state.ts";
import { PROVIDER_KINDS } from "../lib/providers/mod.ts";

const DIST = new URL("../dist", import.meta.url).pathname;

const tmp = await Deno.makeTempDir({ prefix: "hybrid-coalesce-" });
const ep: Ec2Endpoint = await startEc2Endpoint({ timing: { pendingMs: 0, shuttingDownMs: 100 } });
const HOSTS: Record<string, Record<string, unknown>> = {
  "aws-many": { region: "us-east-1" },
  "aws-many-direct": { region: "us-east-1", pollWindowSeconds: 0 },
  "aws-rounds": { region: "us-west-2", pollWindowSeconds: 6 },
  "aws-new": { region: "us-east-2" },
  "aws-new-other": { region: "us-east-2" },
  "aws-new-direct": { region: "us-east-2", pollWindowSeconds: 0 },
  "aws-fail": { region: "eu-west-1" },
  "aws-probe": { region: "ap-south-1" },
  "aws-change": { region: "eu-central-1", pollStateDir: `${tmp}/private/state` },
  "aws-change-direct": {
    region: "eu-central-1",
    pollStateDir: `${tmp}/private/state`,
    pollWindowSeconds: 0,
  },
};
const config = await writeLocalConfig(`${tmp}/hybrid_driver.json`, ep.url, TEST_CREDENTIALS, {
  defaults: { pollWindowSeconds: 60, statePollSeconds: 0.05 },
  hosts: HOSTS,
});
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config, XDG_RUNTIME_DIR: `${tmp}/run` };
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

/** Launches instances in a region, outside the driver; their ids. */
async function launch(region: string, count: number): Promise<string[]> {
  const ec2 = clientFor(ep, { region });
  try {
    const out = await ec2.send(
      new RunInstancesCommand({
        ImageId: AMAZON_LINUX_AMI,
        InstanceType: "t3.micro",
        MinCount: count,
        MaxCount: count,
      }),
    );
    return out.Instances!.map((i) => i.InstanceId!);
  } finally {
    ec2.destroy();
  }
}

/** Polls VMs at once as oned 3.2–4.x does: one process per VM, no stdin. */
function pollAll(ids: readonly string[], host: string): Promise<ActionResult[]> {
  return Promise.all(
    ids.map((id, vmId) => runAction("poll", [id, host, String(vmId)], { env: ENV })),
  );
}

/** The calls the endpoint got since `from` calls. */
const since = (from: number): CallRecord[] => ep.calls.slice(from);

/** Whether a call is a listing (DescribeInstances of every instance, paged). */
const isListing = (c: CallRecord) =>
  c.action === "DescribeInstances" && c.params["MaxResults"] === "1000" &&
  !Object.keys(c.params).some((k) => k.startsWith("InstanceId."));

/** Asserts successful polls, each one line of its own VM; their lines. */
function monitoringLines(results: readonly ActionResult[], ids: readonly string[]): string[] {
  return results.map((result, i) => {
    assert.equal(result.stderr, "", ids[i]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^STATE=a USEDMEMORY=1048576 AWS_STATE=running \S.*\n$/);
    assert.ok(result.stdout.includes(` AWS_INSTANCE_TYPE=t3.micro `));
    return result.stdout;
  });
}

/** The base of a host's shared state files: `<dir>/ec2-<digest>`. */
async function stateBase(host: string, dir = `${tmp}/run/one-hybrid`): Promise<string> {
  const settings = parseConfig(PROVIDER_KINDS, await Deno.readTextFile(config), config, host);
  const scope = EC2_KIND.listingScope(settings, new Map(Object.entries(ENV)));
  return `${dir}/${await scopeFileName("ec2", scope)}`;
}

/** How many processes wait for a lock on the file (from /proc/locks). */
async function lockWaiters(path: string): Promise<number> {
  const inode = (await Deno.stat(path)).ino;
  const out = await new Deno.Command("cat", { args: ["/proc/locks"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((line) =>
    line.includes(" -> ") && line.includes(`:${inode} `)
  ).length;
}

test("30 concurrent polls of 30 VMs make one DescribeInstances listing; unshared polls (window 0) make one DescribeInstances each and print the same bytes", async () => {
  const ids = await launch("us-east-1", 30);
  const before = ep.calls.length;
  const shared = monitoringLines(await pollAll(ids, "aws-many"), ids);
  const calls = since(before);
  assert.equal(calls.length, 1, JSON.stringify(calls.map((c) => c.params)));
  assert.ok(isListing(calls[0]!), JSON.stringify(calls[0]!.params));
  assert.equal(calls[0]!.region, "us-east-1");

  // A third of them, unshared, to keep the suite quick: the same lines, one request each.
  const some = ids.slice(0, 10);
  const direct = await pollAll(some, "aws-many-direct");
  const directCalls = since(before + 1);
  assert.equal(directCalls.length, some.length);
  assert.deepEqual(
    directCalls.map((c) => c.params["InstanceId.1"]).sort(),
    [...some].sort(),
    "window 0: one DescribeInstances of its own instance per poll",
  );
  assert.deepEqual(monitoringLines(direct, some), shared.slice(0, some.length));
});

test("a round of polls after the window lists once more, and polls within it ask nothing", async () => {
  const ids = await launch("us-west-2", 5);
  const before = ep.calls.length;
  monitoringLines(await pollAll(ids, "aws-rounds"), ids);
  const firstRoundEnd = Date.now();
  assert.equal(since(before).filter(isListing).length, 1);
  assert.equal(since(before).length, 1);
  // The window (6 s) counts from when the listing was asked for, before the round ended.
  await new Promise((resolve) => setTimeout(resolve, firstRoundEnd + 6_100 - Date.now()));
  monitoringLines(await pollAll(ids, "aws-rounds"), ids);
  assert.equal(since(before).length, 2);
  assert.ok(since(before).every(isListing));
  monitoringLines(await pollAll(ids.slice(0, 2), "aws-rounds"), ids);
  assert.equal(since(before).length, 2);
});

test("a VM missing from a fresh listing (launched after it) is still described alone; other host names of the account are served from the listing", async () => {
  const [first] = await launch("us-east-2", 1);
  const before = ep.calls.length;
  monitoringLines(await pollAll([first!], "aws-new"), [first!]);
  assert.equal(since(before).length, 1);
  const [late] = await launch("us-east-2", 1);
  const afterLaunch = ep.calls.length;
  const served = await pollAll([first!, late!], "aws-new-other");
  const calls = since(afterLaunch);
  assert.equal(calls.length, 1, "the VM in the listing is served; the new one is described");
  assert.equal(calls[0]!.action, "DescribeInstances");
  assert.equal(calls[0]!.params["InstanceId.1"], late);
  const direct = await pollAll([first!, late!], "aws-new-direct");
  assert.deepEqual(
    monitoringLines(served, [first!, late!]),
    monitoringLines(direct, [first!, late!]),
  );
});

test("when the shared listing fails, every poll that waited for it fails with its one-line error, and the next round lists again", async () => {
  const ids = await launch("eu-west-1", 10);
  const base = await stateBase("aws-fail");
  await Deno.mkdir(`${tmp}/run/one-hybrid`, { recursive: true, mode: 0o700 });
  // Holding the lock, the test makes all ten polls wait, as polls wait for a slow listing.
  const lock = await Deno.open(`${base}.lock`, { create: true, write: true, mode: 0o600 });
  await lock.lock(true);
  const before = ep.calls.length;
  let polls: Promise<ActionResult[]>;
  try {
    polls = pollAll(ids, "aws-fail");
    const deadline = Date.now() + 60_000;
    while (await lockWaiters(`${base}.lock`) < ids.length) {
      assert.ok(Date.now() < deadline, "the polls wait for the lock");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(ep.calls.length, before, "nothing asked while the lock is held");
    ep.fail("DescribeInstances", { code: "UnauthorizedOperation" });
  } finally {
    lock.close();
  }
  const lines = (await polls).map(failureLine);
  assert.match(
    lines[0]!,
    /^Cannot list the instances: UnauthorizedOperation: .*\(host aws-fail, region eu-west-1\)$/,
  );
  assert.deepEqual(lines, ids.map(() => lines[0]));
  assert.equal(since(before).length, 1);
  assert.equal(since(before)[0]!.errorCode, "UnauthorizedOperation");

  monitoringLines(await pollAll(ids, "aws-fail"), ids);
  assert.equal(since(before).length, 2);
  assert.ok(isListing(since(before)[1]!));
});

test("a host probe's listing serves the polls that follow it: they make no call", async () => {
  const ids = await launch("ap-south-1", 3);
  const probe = `${DIST}/im/provider-probes.d/vm/monitor`;
  const before = ep.calls.length;
  const report = await runProcess("./probe_vm_monitor", [
    "provider",
    "/var/lib/one",
    "4124",
    "20",
    "7",
    "aws-probe",
  ], {
    cwd: probe,
    env: ENV,
  });
  assert.equal(report.stderr, "");
  assert.equal(report.code, 0);
  assert.equal(since(before).length, 1);
  assert.ok(isListing(since(before)[0]!));
  monitoringLines(await pollAll(ids, "aws-probe"), ids);
  assert.equal(since(before).length, 1);
});

test("a poll after an action changed an instance is not served the listing taken before it, whichever host of the account acted", async () => {
  const ids = await launch("eu-central-1", 2);
  const before = ep.calls.length;
  monitoringLines(await pollAll(ids, "aws-change"), ids);
  assert.equal(since(before).length, 1);
  const cancel = (id: string, host: string) =>
    runAction("cancel", [id, host, "1", host], {
      stdin: oneBase64(actionData(1, host, id, { lcmState: 13 })),
      env: ENV,
    });
  assert.deepEqual(await cancel(ids[0]!, "aws-change"), { code: 0, stdout: "", stderr: "" });
  const [first] = await pollAll([ids[0]!], "aws-change");
  assert.equal(first!.code, 0);
  assert.match(first!.stdout, /^STATE=d AWS_STATE=terminated /);
  // A host of the same account that does not share its own polls still marks the listing.
  monitoringLines(await pollAll([ids[1]!], "aws-change"), [ids[1]!]);
  assert.deepEqual(await cancel(ids[1]!, "aws-change-direct"), { code: 0, stdout: "", stderr: "" });
  const [second] = await pollAll([ids[1]!], "aws-change");
  assert.equal(second!.code, 0);
  assert.match(second!.stdout, /^STATE=d AWS_STATE=terminated /);
  const base = await stateBase("aws-change", `${tmp}/private/state`);
  assert.ok((await Deno.stat(`${base}.listing`)).isFile, "the host's pollStateDir is used");
  assert.equal((await Deno.stat(`${tmp}/private/state`)).mode! & 0o777, 0o700);
});

test("a poll refuses a state directory others may write to, naming it and the way out, and asks nothing", async () => {
  const runtime = `${tmp}/open`;
  await Deno.mkdir(`${runtime}/one-hybrid`, { recursive: true });
  await Deno.chmod(`${runtime}/one-hybrid`, 0o777);
  const before = ep.calls.length;
  const result = await runAction("poll", ["i-0123456789abcdef0", "aws-many", "1"], {
    env: { ...ENV, XDG_RUNTIME_DIR: runtime },
  });
  assert.equal(
    failureLine(result),
    `Cannot share polls through ${runtime}/one-hybrid: group or others may write to it (mode 777); fix it, set "pollStateDir" to a directory of this user, or "pollWindowSeconds" to 0`,
  );
  assert.equal(ep.calls.length, before);
});

test("a poll served from the shared listing never loads the AWS SDK; one that must ask EC2 does", async () => {
  const ids = await launch("sa-east-1", 2);
  const host = "aws-sdk";
  const env = { ...ENV, HYBRID_DRIVER_CONFIG: `${tmp}/sdk.json` };
  await writeLocalConfig(env.HYBRID_DRIVER_CONFIG, ep.url, TEST_CREDENTIALS, {
    defaults: { region: "sa-east-1" },
  });
  const listed = await runAction("poll", [ids[0]!, host, "1"], { env });
  assert.equal(listed.code, 0, listed.stdout);
  // The poll module run from source with an empty Deno cache that may not be filled: loading
  // any npm package (the SDK) fails the poll.
  const denoDir = await Deno.makeTempDir({ dir: tmp });
  const fromSource = (id: string) =>
    runProcess(
      Deno.execPath(),
      [
        "run",
        "--cached-only",
        "-A",
        new URL("../actions/poll.ts", import.meta.url).pathname,
        id,
        host,
        "1",
      ],
      { env: { ...env, DENO_DIR: denoDir } },
    );
  const before = ep.calls.length;
  const served = await fromSource(ids[1]!);
  assert.deepEqual(served, {
    code: 0,
    stdout: (await runAction("poll", [ids[1]!, host, "1"], { env })).stdout,
    stderr: "",
  });
  assert.equal(ep.calls.length, before);
  const missing = await fromSource("i-0123456789abcdef0");
  assert.match(failureLine(missing), /npm package not found in cache/);
});
