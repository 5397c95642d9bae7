import assert from "node:assert/strict";
import type { UsageSample } from "./provider.ts";
import { LOOKBACK_PERIODS, type UsageSource, UsageState } from "./usage_state.ts";

const PERIOD_S = 300;
const P = PERIOD_S * 1000;

/** A source that counts what it is asked, answering one instance's usage. */
function countingSource(options: { fail?: string; delayMs?: number; ids?: string[] } = {}) {
  const asked = {
    targets: 0,
    reads: [] as { ids: readonly string[]; start: number; end: number }[],
  };
  const source: UsageSource = {
    targets() {
      asked.targets++;
      return Promise.resolve((options.ids ?? ["i-1"]).map((id) => ({ id, vcpus: 2 })));
    },
    async read(ids, start, end) {
      asked.reads.push({ ids, start, end });
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (options.fail) throw new Error(options.fail);
      const sample: UsageSample = {
        cpuPercent: [{ at: 9 * P, value: 30 }],
        received: [{ at: 9 * P, value: 100 * asked.reads.length }],
        sent: [{ at: 9 * P, value: 10 }],
      };
      return new Map([["i-1", sample]]);
    },
  };
  return { source, asked };
}

/** A host's memory in a fresh private directory, on a clock the test moves. */
async function memory(host = "aws-a", scope = '["eu-west-1"]') {
  const dir = await Deno.makeTempDir();
  const clock = { now: 10 * P + 1234 };
  const open = (h = host, s = scope) =>
    UsageState.open({
      dir,
      kind: "ec2",
      scope: s,
      host: h,
      periodSeconds: PERIOD_S,
      clock: () => clock.now,
      uid: Deno.statSync(dir).uid,
    });
  return { dir, clock, open, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

const signal = new AbortController().signal;

Deno.test("UsageState.usage() reads the service once per period for every run that asks at once", async () => {
  await using m = await memory();
  const { source, asked } = countingSource({ delayMs: 50 });
  const served = await Promise.all(
    Array.from({ length: 5 }, async () => (await m.open()).usage(source, signal)),
  );
  assert.equal(asked.reads.length, 1);
  assert.equal(asked.targets, 1);
  assert.deepEqual(served.map((s) => s.readHere).filter(Boolean), [true]);
  for (const s of served) {
    assert.deepEqual(s.figures.get("i-1"), { cpu: 60, netrx: 100, nettx: 10 });
  }
});

Deno.test("UsageState.usage() reads whole periods over the look-back, ending at the last boundary", async () => {
  await using m = await memory();
  const { source, asked } = countingSource();
  await (await m.open()).usage(source, signal);
  assert.deepEqual(asked.reads, [{
    ids: ["i-1"],
    start: 10 * P - LOOKBACK_PERIODS * P,
    end: 10 * P,
  }]);
});

Deno.test("UsageState.usage() serves the memory without asking while the last read is younger than a period", async () => {
  await using m = await memory();
  const { source, asked } = countingSource();
  await (await m.open()).usage(source, signal);
  m.clock.now += P - 1;
  const served = await (await m.open()).usage(source, signal);
  assert.deepEqual([asked.targets, asked.reads.length, served.readHere], [1, 1, false]);
  m.clock.now += 1;
  const again = await (await m.open()).usage(source, signal);
  assert.deepEqual([asked.reads.length, again.readHere], [2, true]);
  assert.equal(again.figures.get("i-1")?.netrx, 200, "the grown period adds its growth");
});

Deno.test("UsageState.usage() records a failed read: runs of the period serve the counters without CPU and do not ask again", async () => {
  await using m = await memory();
  await (await m.open()).usage(countingSource().source, signal);
  m.clock.now += P;
  const failing = countingSource({ fail: "AccessDenied: not allowed cloudwatch:GetMetricData" });
  const failed = await (await m.open()).usage(failing.source, signal);
  assert.equal(failed.failure, "AccessDenied: not allowed cloudwatch:GetMetricData");
  assert.deepEqual(failed.figures.get("i-1"), { netrx: 100, nettx: 10 });
  m.clock.now += 1000;
  const later = await (await m.open()).usage(failing.source, signal);
  assert.equal(failing.asked.reads.length, 1);
  assert.equal(later.readHere, false);
  assert.deepEqual(later.figures.get("i-1"), { netrx: 100, nettx: 10 });
});

Deno.test("UsageState.usage() sends no read for a host without running instances", async () => {
  await using m = await memory();
  const { source, asked } = countingSource({ ids: [] });
  const served = await (await m.open()).usage(source, signal);
  assert.deepEqual([asked.targets, asked.reads.length, served.figures.size], [1, 0, 0]);
});

Deno.test("UsageState keeps each host's memory apart, and forgets instances no longer running", async () => {
  await using m = await memory();
  await (await m.open("aws-a")).usage(countingSource().source, signal);
  const other = countingSource();
  await (await m.open("aws-b")).usage(other.source, signal);
  await (await m.open("aws-a", '["us-east-1"]')).usage(other.source, signal);
  assert.equal(other.asked.reads.length, 2);
  m.clock.now += P;
  const gone = await (await m.open("aws-a")).usage(countingSource({ ids: [] }).source, signal);
  assert.equal(gone.figures.size, 0);
});
