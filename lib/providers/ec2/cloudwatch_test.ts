import assert from "node:assert/strict";
import {
  type GetMetricDataInput,
  type GetMetricDataOutput,
  INSTANCES_PER_REQUEST,
  MAX_QUERIES,
  readUsage,
} from "./cloudwatch.ts";

const P = 300_000;

/** A GetMetricData that answers each query with one datapoint naming its instance's number. */
function fakeCloudWatch(pages: (input: GetMetricDataInput) => GetMetricDataOutput[]) {
  const sent: GetMetricDataInput[] = [];
  const getMetricData = (input: GetMetricDataInput) => {
    sent.push(input);
    const answers = pages(input);
    const page = input.NextToken === undefined ? 0 : Number(input.NextToken);
    return Promise.resolve(answers[page]!);
  };
  return { sent, getMetricData };
}

/** One page answering every query with a datapoint at `at` whose value is the instance's number. */
function onePage(input: GetMetricDataInput, at: number, token?: string): GetMetricDataOutput {
  return {
    MetricDataResults: input.MetricDataQueries!.map((q) => ({
      Id: q.Id,
      Timestamps: [new Date(at)],
      Values: [Number(q.MetricStat!.Metric!.Dimensions![0]!.Value!.slice(2))],
    })),
    ...(token ? { NextToken: token } : {}),
  };
}

Deno.test("readUsage() asks one GetMetricData for up to 166 instances, 500 metrics at most, and maps each answer to its instance", async () => {
  const ids = Array.from({ length: INSTANCES_PER_REQUEST + 1 }, (_, n) => `i-${n}`);
  const cw = fakeCloudWatch((input) => [onePage(input, 0)]);
  const samples = await readUsage(cw.getMetricData, ids, 0, 12 * P, 300);
  assert.deepEqual(cw.sent.map((i) => i.MetricDataQueries!.length), [498, 3]);
  assert.ok(cw.sent.every((i) => i.MetricDataQueries!.length <= MAX_QUERIES));
  assert.deepEqual(samples.get("i-166"), {
    cpuPercent: [{ at: 0, value: 166 }],
    received: [{ at: 0, value: 166 }],
    sent: [{ at: 0, value: 166 }],
  });
  assert.equal(samples.get("i-7")?.received[0]?.value, 7);
  const metrics = cw.sent[0]!.MetricDataQueries!.slice(0, 3).map((q) => [
    q.MetricStat!.Metric!.MetricName,
    q.MetricStat!.Stat,
    q.MetricStat!.Period,
  ]);
  assert.deepEqual(metrics, [
    ["CPUUtilization", "Average", 300],
    ["NetworkIn", "Sum", 300],
    ["NetworkOut", "Sum", 300],
  ]);
  assert.deepEqual([cw.sent[0]!.StartTime, cw.sent[0]!.EndTime], [new Date(0), new Date(12 * P)]);
});

Deno.test("readUsage() follows a request's pages and joins their datapoints", async () => {
  const cw = fakeCloudWatch((input) => [onePage(input, 0, "1"), onePage(input, P)]);
  const samples = await readUsage(cw.getMetricData, ["i-4"], 0, 12 * P, 300);
  assert.deepEqual(cw.sent.map((i) => i.NextToken), [undefined, "1"]);
  assert.deepEqual(samples.get("i-4")?.sent, [{ at: 0, value: 4 }, { at: P, value: 4 }]);
});

Deno.test("readUsage() gives up on an endpoint that repeats its page token", async () => {
  const cw = fakeCloudWatch((input) => [onePage(input, 0, "1"), onePage(input, P, "1")]);
  await assert.rejects(
    readUsage(cw.getMetricData, ["i-4"], 0, 12 * P, 300),
    /GetMetricData kept answering with more pages \(2 read\)/,
  );
});

Deno.test("readUsage() leaves an instance CloudWatch has nothing on with empty series, and ignores answers to no query", async () => {
  const cw = fakeCloudWatch(
    () => [{ MetricDataResults: [{ Id: "x9", Timestamps: [new Date(0)], Values: [1] }] }],
  );
  const samples = await readUsage(cw.getMetricData, ["i-1"], 0, 12 * P, 300);
  assert.deepEqual(samples.get("i-1"), { cpuPercent: [], received: [], sent: [] });
});
