/**
 * A soak under faults: many VMs deployed, polled and terminated at once through the built
 * `dist/` actions, as oned 5.x runs them (with its retries of a failed action), against the
 * project's endpoint answering with random throttling, server errors, connections dropped after
 * the call was applied, and new instances that stay invisible for a while. It then checks what
 * must hold whatever the faults: exactly one tagged instance launched per VM, all terminated at
 * the end, no action past its deadline, no secret in any output.
 *
 * Usage: deno task soak [--vms 100] [--concurrency 15] [--seed 1]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseCli } from "./cli.ts";
import { AMAZON_LINUX_AMI, startEc2Endpoint, TEST_CREDENTIALS } from "../tests/ec2_endpoint/mod.ts";
import { actionData, vmDeployment, writeDeployment } from "../tests/deployments.ts";
import { type ActionResult, oneBase64, runAction, writeLocalConfig } from "../tests/harness.ts";

/** The size of a soak and its faults. */
export interface SoakOptions {
  /** VMs deployed. */
  readonly vms: number;
  /** Actions running at once. */
  readonly concurrency: number;
  /** Seed of the fault draws. */
  readonly seed: number;
  /** Share of calls throttled. */
  readonly throttleRate: number;
  /** Share of calls answered with a server error. */
  readonly serverErrorRate: number;
  /** Share of applied calls whose connection is dropped. */
  readonly dropAfterApplyRate: number;
  /** How long a new instance stays invisible to DescribeInstances, in ms. */
  readonly visibilityDelayMs: number;
  /** Attempts per action, as `one_vmm_sh -r` retries a failed one. */
  readonly attempts: number;
}

/** The full size: 100 deploys, 15 at once, 30% throttling, 5% 5xx, 5% drops. */
export const FULL_SOAK: SoakOptions = {
  vms: 100,
  concurrency: 15,
  seed: 1,
  throttleRate: 0.3,
  serverErrorRate: 0.05,
  dropAfterApplyRate: 0.05,
  visibilityDelayMs: 1_000,
  attempts: 5,
};

/** What a soak saw. */
export interface SoakReport {
  /** Instances tagged with a soak VM's id, launched in all. */
  readonly launched: number;
  /** VMs with more than one instance. */
  readonly duplicated: number[];
  /** Instances not terminated at the end. */
  readonly notTerminated: string[];
  /** VMs whose deploy, poll or shutdown failed on every attempt. */
  readonly failedVms: number[];
  /** Action runs in all, and how many failed (to be retried). */
  readonly actionRuns: number;
  /** Action runs that failed. */
  readonly failedRuns: number;
  /** Longest action run, in ms. */
  readonly longestActionMs: number;
  /** Action runs that took longer than the action deadline. */
  readonly pastDeadline: number;
  /** Outputs in which the secret key appeared. */
  readonly secretLeaks: number;
  /** API calls answered, and the faults among them. */
  readonly calls: {
    total: number;
    throttled: number;
    serverErrors: number;
    dropped: number;
  };
  /** Wall time, in s. */
  readonly seconds: number;
}

/** Seconds an action may take in the soak's configuration. */
const ACTION_TIMEOUT_SECONDS = 60;
/** What the process may add to the action's own deadline (start-up, output). */
const DEADLINE_SLACK_MS = 5_000;
const HOST = "aws-soak";
const FIRST_VM = 1_000;

/**
 * Runs one soak and reports what it saw; the caller decides what must hold.
 *
 * @param options Size and faults.
 * @returns The report.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const random = seeded(options.seed);
  await using ep = await startEc2Endpoint({
    timing: { pendingMs: 300, shuttingDownMs: 300, visibilityDelayMs: options.visibilityDelayMs },
    faults: {
      throttleRate: options.throttleRate,
      serverErrorRate: options.serverErrorRate,
      dropAfterApplyRate: options.dropAfterApplyRate,
      random,
    },
  });
  const tmp = await Deno.makeTempDir({ prefix: "hybrid-soak-" });
  try {
    const config = await writeLocalConfig(`${tmp}/config.json`, ep.url, TEST_CREDENTIALS, {
      defaults: {
        actionTimeoutSeconds: ACTION_TIMEOUT_SECONDS,
        stateWaitSeconds: 40,
        statePollSeconds: 0.3,
        notFoundRetrySeconds: 3,
        notFoundGraceSeconds: 120,
      },
    });
    const env = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };
    const runs: { result: ActionResult; ms: number }[] = [];
    const failedVms = new Set<number>();
    const run = async (action: string, args: string[], stdin: string) => {
      for (let attempt = 0; attempt < options.attempts; attempt++) {
        const begin = Date.now();
        const result = await runAction(action, args, { stdin, env });
        runs.push({ result, ms: Date.now() - begin });
        if (result.code === 0) return result;
      }
      return undefined;
    };
    const vmIds = Array.from({ length: options.vms }, (_, i) => FIRST_VM + i);
    const deployIds = new Map<number, string>();
    const stime = Math.floor(Date.now() / 1000);

    await pool(vmIds, options.concurrency, async (vmId) => {
      const xml = vmDeployment(vmId, { AMI: AMAZON_LINUX_AMI, INSTANCETYPE: "t3.micro" }, {
        stime,
      });
      const path = await writeDeployment(tmp, vmId, xml);
      const done = await run("deploy", [path, HOST, String(vmId), HOST], oneBase64(xml));
      if (done) deployIds.set(vmId, done.stdout.trim());
      else failedVms.add(vmId);
    });
    const deployed = [...deployIds.entries()];
    await pool(deployed, options.concurrency, async ([vmId, id]) => {
      const data = oneBase64(actionData(vmId, HOST, id, { stime }));
      if (!await run("poll", [id, HOST, String(vmId), HOST], data)) failedVms.add(vmId);
    });
    await pool(deployed, options.concurrency, async ([vmId, id]) => {
      const data = oneBase64(actionData(vmId, HOST, id, { lcmState: 12, stime }));
      if (!await run("shutdown", [id, HOST, String(vmId), HOST], data)) failedVms.add(vmId);
    });

    const soakInstances = ep.instances("us-east-1").filter((i) =>
      Number(i.tags["opennebula:vm-id"]) >= FIRST_VM
    );
    const perVm = new Map<number, number>();
    for (const i of soakInstances) {
      const vmId = Number(i.tags["opennebula:vm-id"]);
      perVm.set(vmId, (perVm.get(vmId) ?? 0) + 1);
    }
    const calls = ep.calls;
    return {
      launched: soakInstances.length,
      duplicated: [...perVm.entries()].filter(([, n]) => n > 1).map(([vmId]) => vmId),
      notTerminated: soakInstances.filter((i) => i.state !== "terminated").map((i) => i.instanceId),
      failedVms: [...failedVms].sort((a, b) => a - b),
      actionRuns: runs.length,
      failedRuns: runs.filter((r) => r.result.code !== 0).length,
      longestActionMs: Math.max(0, ...runs.map((r) => r.ms)),
      pastDeadline: runs.filter((r) => r.ms > ACTION_TIMEOUT_SECONDS * 1000 + DEADLINE_SLACK_MS)
        .length,
      secretLeaks: runs.filter((r) =>
        `${r.result.stdout}${r.result.stderr}`.includes(TEST_CREDENTIALS.secretAccessKey)
      ).length,
      calls: {
        total: calls.length,
        throttled: calls.filter((c) =>
          c.errorCode === "RequestLimitExceeded"
        ).length,
        serverErrors: calls.filter((c) => c.errorCode === "InternalError").length,
        dropped: calls.filter((c) => c.dropped).length,
      },
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Runs `work` on every item, at most `limit` at once. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A small seeded generator (mulberry32), so a soak's faults can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

if (import.meta.main) {
  const usage = `Usage: deno task soak [--vms 100] [--concurrency 15] [--seed 1]

Deploys, polls and terminates many VMs at once through dist/ against the local endpoint
answering with random faults, then checks what must hold whatever the faults.

  --vms N          how many VMs (${FULL_SOAK.vms})
  --concurrency N  how many at once (${FULL_SOAK.concurrency})
  --seed N         seed of the random faults (${FULL_SOAK.seed})

Exit status: 0 every check held, 1 a check failed, 2 bad command line.`;
  const { values } = parseCli("soak", usage, () =>
    parseArgs({
      args: Deno.args,
      options: {
        vms: { type: "string", default: String(FULL_SOAK.vms) },
        concurrency: { type: "string", default: String(FULL_SOAK.concurrency) },
        seed: { type: "string", default: String(FULL_SOAK.seed) },
      },
    }));
  const report = await runSoak({
    ...FULL_SOAK,
    vms: Number(values.vms),
    concurrency: Number(values.concurrency),
    seed: Number(values.seed),
  });
  console.log(JSON.stringify(report, null, 2));
  const ok = report.launched === Number(values.vms) && report.duplicated.length === 0 &&
    report.notTerminated.length === 0 && report.failedVms.length === 0 &&
    report.pastDeadline === 0 && report.secretLeaks === 0;
  console.log(ok ? "soak: every check held" : "soak: a check failed");
  Deno.exit(ok ? 0 : 1);
}
