/**
 * The usage of EC2 instances as CloudWatch gives it: `CPUUtilization` (average), `NetworkIn`
 * and `NetworkOut` (sums) of namespace `AWS/EC2` per instance, all read with GetMetricData:
 * one request per {@link INSTANCES_PER_REQUEST} instances (CloudWatch takes at most
 * {@link MAX_QUERIES} metrics a request), each followed through its pages (`NextToken`).
 * CloudWatch bills GetMetricData by the metric requested: three per instance and request.
 *
 * @module
 */

import type {
  GetMetricDataCommandInput,
  GetMetricDataCommandOutput,
  MetricDataQuery,
} from "@aws-sdk/client-cloudwatch";
import type { Datapoint, UsageSample } from "../../core/provider.ts";

/** GetMetricData's input, as the driver sends it. */
export type GetMetricDataInput = GetMetricDataCommandInput;
/** GetMetricData's output, as far as the driver reads it. */
export type GetMetricDataOutput = Pick<
  GetMetricDataCommandOutput,
  "MetricDataResults" | "NextToken"
>;

/** Most metrics one GetMetricData request may ask for (CloudWatch's limit). */
export const MAX_QUERIES = 500;

/** The metrics read per instance: query id prefix, metric name, statistic, sample field. */
const METRICS = [
  { prefix: "c", name: "CPUUtilization", stat: "Average", field: "cpuPercent" },
  { prefix: "r", name: "NetworkIn", stat: "Sum", field: "received" },
  { prefix: "s", name: "NetworkOut", stat: "Sum", field: "sent" },
] as const;

/** Instances per request: all three metrics of an instance go in the same request. */
export const INSTANCES_PER_REQUEST = Math.floor(MAX_QUERIES / METRICS.length);

/**
 * Pages followed per request at most: a window of a few periods never needs a second page
 * (CloudWatch pages at 100,800 datapoints), so more means an endpoint that pages forever.
 */
const MAX_PAGES = 10;

/**
 * The GetMetricData requests that read some instances over a time range: one per
 * {@link INSTANCES_PER_REQUEST} instances, three queries each (`c<n>`, `r<n>`, `s<n>` for the
 * n-th instance of the request).
 *
 * @param ids The instances.
 * @param start Start of the range, epoch ms.
 * @param end End of the range, epoch ms.
 * @param periodSeconds The period of each datapoint.
 * @returns The requests' inputs, without `NextToken`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { metricRequests } from "./cloudwatch.ts";
 * const ids = Array.from({ length: 200 }, (_, n) => `i-${n}`);
 * const requests = metricRequests(ids, 0, 3_600_000, 300);
 * assert.deepEqual(requests.map((r) => r.MetricDataQueries?.length), [498, 102]);
 * assert.deepEqual(requests[1]!.MetricDataQueries![0], {
 *   Id: "c0",
 *   MetricStat: {
 *     Metric: { Namespace: "AWS/EC2", MetricName: "CPUUtilization", Dimensions: [{ Name: "InstanceId", Value: "i-166" }] },
 *     Period: 300,
 *     Stat: "Average",
 *   },
 *   ReturnData: true,
 * });
 * ```
 */
export function metricRequests(
  ids: readonly string[],
  start: number,
  end: number,
  periodSeconds: number,
): GetMetricDataInput[] {
  const requests: GetMetricDataInput[] = [];
  for (let first = 0; first < ids.length; first += INSTANCES_PER_REQUEST) {
    const batch = ids.slice(first, first + INSTANCES_PER_REQUEST);
    const queries: MetricDataQuery[] = batch.flatMap((id, n) =>
      METRICS.map((metric) => ({
        Id: `${metric.prefix}${n}`,
        MetricStat: {
          Metric: {
            Namespace: "AWS/EC2",
            MetricName: metric.name,
            Dimensions: [{ Name: "InstanceId", Value: id }],
          },
          Period: periodSeconds,
          Stat: metric.stat,
        },
        ReturnData: true,
      }))
    );
    requests.push({
      MetricDataQueries: queries,
      StartTime: new Date(start),
      EndTime: new Date(end),
      ScanBy: "TimestampAscending",
    });
  }
  return requests;
}

/**
 * Reads the usage of instances with GetMetricData ({@link metricRequests}), each request
 * followed through its pages.
 *
 * @param getMetricData Sends one GetMetricData (retrying what may pass).
 * @param ids The instances.
 * @param start Start of the range, epoch ms.
 * @param end End of the range, epoch ms.
 * @param periodSeconds The period of each datapoint.
 * @returns Each instance's sample, by id; instances CloudWatch has nothing on have empty
 * series.
 * @throws what `getMetricData` threw; an `Error` when an endpoint pages on past
 * {@link MAX_PAGES} pages or repeats its token.
 */
export async function readUsage(
  getMetricData: (input: GetMetricDataInput) => Promise<GetMetricDataOutput>,
  ids: readonly string[],
  start: number,
  end: number,
  periodSeconds: number,
): Promise<Map<string, UsageSample>> {
  const samples = new Map<string, { [K in keyof UsageSample]: Datapoint[] }>();
  const requests = metricRequests(ids, start, end, periodSeconds);
  for (const [r, request] of requests.entries()) {
    const batch = ids.slice(r * INSTANCES_PER_REQUEST, (r + 1) * INSTANCES_PER_REQUEST);
    for (const id of batch) samples.set(id, { cpuPercent: [], received: [], sent: [] });
    const tokens = new Set<string>();
    let token: string | undefined;
    for (let page = 1;; page++) {
      const output = await getMetricData(
        token === undefined ? request : { ...request, NextToken: token },
      );
      for (const result of output.MetricDataResults ?? []) {
        const match = /^([crs])(\d+)$/.exec(result.Id ?? "");
        const id = match ? batch[Number(match[2])] : undefined;
        const metric = METRICS.find((m) => m.prefix === match?.[1]);
        if (id === undefined || metric === undefined) continue;
        const series = samples.get(id)![metric.field];
        const times = result.Timestamps ?? [];
        const values = result.Values ?? [];
        for (let i = 0; i < Math.min(times.length, values.length); i++) {
          const at = times[i]!.getTime();
          if (Number.isFinite(at) && Number.isFinite(values[i])) {
            series.push({ at, value: values[i]! });
          }
        }
      }
      token = output.NextToken || undefined;
      if (token === undefined) break;
      if (page >= MAX_PAGES || tokens.has(token)) {
        throw new Error(
          `GetMetricData kept answering with more pages (${page} read); CloudWatch ends within one for ${INSTANCES_PER_REQUEST} instances over this range`,
        );
      }
      tokens.add(token);
    }
  }
  return samples;
}
