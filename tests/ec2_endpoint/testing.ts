/**
 * Helpers for this directory's tests: an SDK client pointed at an endpoint, an endpoint with
 * a client for one test, one-instance launches and look-ups, SDK error capture, a controllable
 * clock, and raw signed requests.
 *
 * @module
 */

import {
  DescribeInstancesCommand,
  EC2Client,
  type EC2ClientConfig,
  type Instance,
  RunInstancesCommand,
  type RunInstancesCommandInput,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import {
  AMAZON_LINUX_AMI,
  type Ec2Endpoint,
  type EndpointOptions,
  startEc2Endpoint,
  TEST_CREDENTIALS,
} from "./mod.ts";
import { type SignOptions, signRequest } from "./sigv4.ts";

/**
 * An SDK client for an endpoint: us-east-1, the test credentials, one attempt (retries would
 * hide what the endpoint answered).
 *
 * @param endpoint The endpoint.
 * @param config Overrides.
 * @returns The client (destroy it after use).
 */
export function clientFor(endpoint: Ec2Endpoint, config: EC2ClientConfig = {}): EC2Client {
  return new EC2Client({
    endpoint: endpoint.url,
    region: "us-east-1",
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
    // The default user agent reads os.release(), which needs --allow-sys.
    defaultUserAgentProvider: () => Promise.resolve([["one-hybrid-tests"]]),
    ...config,
  });
}

/**
 * Runs a test body with a fresh endpoint and an SDK client, closing both afterwards.
 *
 * @param options Endpoint options.
 * @param body The test.
 */
export async function withEndpoint(
  options: EndpointOptions,
  body: (endpoint: Ec2Endpoint, client: EC2Client) => Promise<void>,
): Promise<void> {
  const endpoint = await startEc2Endpoint(options);
  const client = clientFor(endpoint);
  try {
    await body(endpoint, client);
  } finally {
    client.destroy();
    await endpoint.close();
  }
}

/** RunInstances of one t3.micro of Amazon Linux; spread it to add or override parameters. */
export const LAUNCH: RunInstancesCommandInput = {
  ImageId: AMAZON_LINUX_AMI,
  InstanceType: "t3.micro",
  MinCount: 1,
  MaxCount: 1,
};

/**
 * Launches one t3.micro of Amazon Linux, with changes.
 *
 * @param ec2 The client.
 * @param extra Parameters to add or override.
 * @returns The instance id.
 */
export async function launchOne(
  ec2: EC2Client,
  extra: Partial<RunInstancesCommandInput> = {},
): Promise<string> {
  const out = await ec2.send(
    new RunInstancesCommand({ ...LAUNCH, ...extra }),
  );
  return out.Instances![0]!.InstanceId!;
}

/**
 * DescribeInstances of one instance.
 *
 * @param ec2 The client.
 * @param id The instance id.
 * @returns Its description.
 */
export async function describeOne(ec2: EC2Client, id: string): Promise<Instance> {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return out.Reservations![0]!.Instances![0]!;
}

/** An SDK service error as thrown by `client.send`. */
export interface SdkError extends Error {
  /** HTTP details. */
  readonly $metadata: { readonly httpStatusCode?: number; readonly requestId?: string };
}

/**
 * Awaits a call that must fail and returns the SDK's error.
 *
 * @param call The pending call.
 * @param code The expected EC2 error code (the error's `name`).
 * @param status The expected HTTP status.
 * @returns The error, for further checks.
 */
export async function expectError(
  call: Promise<unknown>,
  code: string,
  status?: number,
): Promise<SdkError> {
  let error: unknown;
  try {
    await call;
  } catch (caught) {
    error = caught;
  }
  assert(error instanceof Error, `expected ${code}, but the call succeeded`);
  const sdkError = error as SdkError;
  assert.equal(sdkError.name, code, `expected ${code}, got ${sdkError.name}: ${sdkError.message}`);
  if (status !== undefined) assert.equal(sdkError.$metadata.httpStatusCode, status);
  return sdkError;
}

/** A clock the test moves by hand. */
export class ManualClock {
  #now: number;

  /** @param start Start time (default: the real now, so SDK signatures stay in range). */
  constructor(start: number = Date.now()) {
    this.#now = start;
  }

  /** The current time, for `EndpointOptions.clock`. */
  readonly now = (): number => this.#now;

  /**
   * Moves the clock forward.
   *
   * @param ms How far.
   */
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** A raw response: status, body and the error code in it, if any. */
export interface RawResponse {
  /** HTTP status. */
  readonly status: number;
  /** Body text. */
  readonly text: string;
  /** `<Code>` of an error document. */
  readonly code: string | undefined;
}

/** How to send a raw request. */
export interface RawOptions {
  /** Signing parameters; unsigned when `false`. Defaults to the test credentials. */
  readonly sign?: Partial<SignOptions> | false;
  /** HTTP method (default POST). */
  readonly method?: string;
  /** Extra headers, set before signing. */
  readonly headers?: Record<string, string>;
  /** Changes the request after signing (to tamper with it). */
  readonly afterSigning?: (request: { headers: Headers; body: string }) => void;
}

/**
 * Sends a Query API request with `fetch`, signed like the SDK does unless told otherwise.
 *
 * @param endpoint The endpoint.
 * @param body Form body text (the query string of a GET).
 * @param options Signing, method, headers, tampering.
 * @returns The response.
 */
export async function rawRequest(
  endpoint: Ec2Endpoint,
  body: string,
  options: RawOptions = {},
): Promise<RawResponse> {
  const method = options.method ?? "POST";
  const url = new URL(`${endpoint.url}/`);
  if (method === "GET") {
    url.search = body;
    body = "";
  }
  const headers = new Headers({
    "content-type": "application/x-www-form-urlencoded",
    ...options.headers,
  });
  if (options.sign !== false) {
    signRequest({ method, url, headers, body: new TextEncoder().encode(body) }, {
      accessKeyId: TEST_CREDENTIALS.accessKeyId,
      secretAccessKey: TEST_CREDENTIALS.secretAccessKey,
      region: "us-east-1",
      ...options.sign,
    });
  }
  const request = { headers, body };
  options.afterSigning?.(request);
  const response = await fetch(url, {
    method,
    headers: request.headers,
    ...(method === "GET" ? {} : { body: request.body }),
  });
  const text = await response.text();
  return { status: response.status, text, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] };
}

/**
 * Waits.
 *
 * @param ms How long.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
