/**
 * The CloudWatch side of an EC2 host: its usage reader, backed by one SDK client built from the
 * host's settings as EC2's is (`api.ts`), loaded on the first read. GetMetricData only reads,
 * so a failure that may pass is asked again until the read's deadline is near.
 *
 * @module
 */

import type * as Sdk from "@aws-sdk/client-ec2";
import type { ActionTime, UsageReader } from "../../core/provider.ts";
import { CallWindow, retrying } from "../../util/retry.ts";
import { CALL_LIMITS, clientConfig, roleConfig } from "./api.ts";
import { type GetMetricDataInput, type GetMetricDataOutput, readUsage } from "./cloudwatch.ts";
import { failureKind, toDriverError } from "./errors.ts";
import type { Ec2Connection } from "./settings.ts";

/**
 * The configuration of a host's CloudWatch client: EC2's (region, profile, keys, time limits,
 * no retries of its own), its endpoint `cloudWatchEndpoint` instead of `endpoint`.
 *
 * @param settings The host's connection settings.
 * @returns Configuration for `new CloudWatchClient()`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cloudWatchConfig } from "./cloudwatch_api.ts";
 * const config = cloudWatchConfig({
 *   useInstanceMetadata: true,
 *   region: "eu-west-1",
 *   endpoint: "http://127.0.0.1:5000",
 *   cloudWatchEndpoint: "http://127.0.0.1:5001",
 * });
 * assert.equal(config.endpoint, "http://127.0.0.1:5001");
 * assert.equal(config.region, "eu-west-1");
 * assert.equal(config.maxAttempts, 1);
 * ```
 */
export function cloudWatchConfig(settings: Ec2Connection): Sdk.EC2ClientConfig {
  const { endpoint: _ec2, ...config } = clientConfig(settings);
  return settings.cloudWatchEndpoint
    ? { ...config, endpoint: settings.cloudWatchEndpoint }
    : config;
}

/**
 * A host's CloudWatch reader. Neither the SDK is loaded nor a request sent until it reads.
 *
 * @param settings The host's connection settings.
 * @param host The OpenNebula host, for messages.
 * @param periodSeconds The period of the datapoints read.
 * @param time Ends every request, and the retries, of a read.
 * @returns The reader.
 */
export function cloudWatchReader(
  settings: Ec2Connection,
  host: string,
  periodSeconds: number,
  time: ActionTime,
): UsageReader {
  const window = new CallWindow(() => time.deadline());
  let sender: ReturnType<typeof loadSender> | undefined;
  const getMetricData = async (input: GetMetricDataInput): Promise<GetMetricDataOutput> => {
    time.signal.throwIfAborted();
    const send = await (sender ??= loadSender(settings));
    return await retrying((timeoutMs) => send(input, time.signal, timeoutMs), {
      call: "GetMetricData",
      classify: failureKind,
      window,
      resendable: true,
      signal: time.signal,
    }, CALL_LIMITS.requestMs);
  };
  return {
    service: "CloudWatch",
    periodSeconds,
    async read(ids, start, end) {
      try {
        return await readUsage(getMetricData, ids, start, end, periodSeconds);
      } catch (error) {
        throw toDriverError(error, "Cannot read CloudWatch's metrics", {
          host,
          region: settings.region,
        });
      }
    },
  };
}

/** Loads the SDK's CloudWatch client (once) and builds it for the settings. */
function loadSender(settings: Ec2Connection) {
  return import("./sdk_client.ts").then((m) =>
    m.cloudWatchSender(cloudWatchConfig(settings), roleConfig(settings))
  );
}
