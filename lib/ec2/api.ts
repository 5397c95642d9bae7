/**
 * The narrow seam between the driver and the AWS SDK: only the EC2 calls the driver makes,
 * and the construction of a client from a host's settings. The SDK itself is loaded on the
 * first call, so an action that fails on its input never pays for loading it.
 *
 * @module
 */

import type {
  DescribeInstancesCommandInput,
  DescribeInstancesCommandOutput,
  EC2ClientConfig,
  RunInstancesCommandInput,
  RunInstancesCommandOutput,
  TerminateInstancesCommandInput,
  TerminateInstancesCommandOutput,
} from "@aws-sdk/client-ec2";
import type { HostSettings } from "../config.ts";

/** The EC2 calls the driver uses; the EC2 provider depends on this alone. */
export interface Ec2Api {
  /** The region requests go to, when known before the first call. */
  readonly region: string | undefined;
  /** RunInstances. */
  runInstances(input: RunInstancesCommandInput): Promise<RunInstancesCommandOutput>;
  /** DescribeInstances. */
  describeInstances(input: DescribeInstancesCommandInput): Promise<DescribeInstancesCommandOutput>;
  /** TerminateInstances. */
  terminateInstances(
    input: TerminateInstancesCommandInput,
  ): Promise<TerminateInstancesCommandOutput>;
}

/** Seconds to wait for a TCP connection to the endpoint. */
const CONNECTION_TIMEOUT_MS = 5_000;
/** Seconds to wait for a response once connected. */
const REQUEST_TIMEOUT_MS = 20_000;
/** Attempts per call (the SDK's standard retry mode, with its retry quota and back-off). */
const MAX_ATTEMPTS = 3;

/**
 * Builds the SDK client configuration for a host: region, credentials (static keys or a
 * profile; otherwise the SDK's chain), endpoint, timeouts and retries. Unless the settings
 * allow it, the instance metadata service is switched off, so an on-premises front-end never
 * waits on it.
 *
 * @param settings The host's settings.
 * @param env The environment to switch IMDS off in (defaults to the process environment).
 * @returns Configuration for `new EC2Client()`.
 */
export function clientConfig(
  settings: HostSettings,
  env: { get(name: string): string | undefined; set(name: string, value: string): void } = Deno.env,
): EC2ClientConfig {
  if (!settings.useInstanceMetadata && env.get("AWS_EC2_METADATA_DISABLED") === undefined) {
    env.set("AWS_EC2_METADATA_DISABLED", "true");
  }
  const config: EC2ClientConfig = {
    maxAttempts: MAX_ATTEMPTS,
    retryMode: "standard",
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
    },
  };
  if (settings.region) config.region = settings.region;
  if (settings.profile) config.profile = settings.profile;
  if (settings.endpoint) config.endpoint = settings.endpoint;
  if (settings.accessKeyId && settings.secretAccessKey) {
    config.credentials = {
      accessKeyId: settings.accessKeyId,
      secretAccessKey: settings.secretAccessKey,
      ...(settings.sessionToken ? { sessionToken: settings.sessionToken } : {}),
    };
  }
  return config;
}

/** The EC2 calls of {@link Ec2Api}, without the region. */
export type Ec2Calls = Omit<Ec2Api, "region">;

/**
 * Creates the EC2 API for a host. Neither the SDK is loaded nor a request sent until a
 * method is called.
 *
 * @param settings The host's settings.
 * @returns The seam, backed by one SDK client (one retry quota per process).
 */
export function createEc2Api(settings: HostSettings): Ec2Api {
  let calls: Promise<Ec2Calls> | undefined;
  const sdk = () =>
    calls ??= import("./sdk_client.ts").then((m) => m.sdkCalls(clientConfig(settings)));
  return {
    region: settings.region ?? (Deno.env.get("AWS_REGION") || Deno.env.get("AWS_DEFAULT_REGION")),
    runInstances: async (input) => (await sdk()).runInstances(input),
    describeInstances: async (input) => (await sdk()).describeInstances(input),
    terminateInstances: async (input) => (await sdk()).terminateInstances(input),
  };
}
