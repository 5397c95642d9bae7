/**
 * The narrow seam between the driver and the AWS SDK: only the EC2 calls the driver makes,
 * and the construction of a client from a host's settings.
 *
 * @module
 */

import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  type DescribeInstancesCommandOutput,
  EC2Client,
  type EC2ClientConfig,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  type RunInstancesCommandOutput,
  TerminateInstancesCommand,
  type TerminateInstancesCommandInput,
  type TerminateInstancesCommandOutput,
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

/**
 * Creates the EC2 API for a host. No request is sent until a method is called.
 *
 * @param settings The host's settings.
 * @returns The seam, backed by one SDK client (one retry quota per process).
 */
export function createEc2Api(settings: HostSettings): Ec2Api {
  const client = new EC2Client(clientConfig(settings));
  return {
    region: settings.region ?? (Deno.env.get("AWS_REGION") || Deno.env.get("AWS_DEFAULT_REGION")),
    runInstances: (input) => client.send(new RunInstancesCommand(input)),
    describeInstances: (input) => client.send(new DescribeInstancesCommand(input)),
    terminateInstances: (input) => client.send(new TerminateInstancesCommand(input)),
  };
}
