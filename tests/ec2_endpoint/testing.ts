/**
 * Helpers of the endpoint's own tests: an SDK client for an endpoint, a launch, an expected
 * error, and a clock the test moves.
 *
 * @module
 */

import { EC2Client, type EC2ClientConfig, RunInstancesCommand } from "@aws-sdk/client-ec2";
import type { RunInstancesCommandInput } from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "./auth.ts";
import { AMAZON_LINUX_AMI, type Ec2Endpoint, TEST_CREDENTIALS } from "./mod.ts";

/** An SDK client for an endpoint, without retries. */
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

/** Launches one t3.micro of Amazon Linux (with the extra parameters) and returns its id. */
export async function launchOne(
  ec2: EC2Client,
  extra: Partial<RunInstancesCommandInput> = {},
): Promise<string> {
  const input = { ImageId: AMAZON_LINUX_AMI, InstanceType: "t3.micro" as const, ...extra };
  const out = await ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, ...input }));
  return out.Instances![0]!.InstanceId!;
}

/** Asserts that a call fails with an EC2 error code (and HTTP status), and returns the error. */
export async function expectError(
  call: Promise<unknown>,
  code: string,
  status?: number,
): Promise<Error & { $metadata: { httpStatusCode?: number } }> {
  const error = await call.then(() => undefined, (e) => e);
  assert(error instanceof Error, `expected ${code}, but the call succeeded`);
  assert.equal(error.name, code, `expected ${code}, got ${error.name}: ${error.message}`);
  const sdkError = error as Error & { $metadata: { httpStatusCode?: number } };
  if (status !== undefined) assert.equal(sdkError.$metadata.httpStatusCode, status);
  return sdkError;
}

/** A clock that moves only when told: `now` for the endpoint's `clock` option. */
export class ManualClock {
  #now = Date.parse("2026-01-05T10:00:00Z");
  /** The current time (ms). */
  readonly now = (): number => this.#now;
  /** Moves the clock on by `ms`. */
  advance(ms: number): void {
    this.#now += ms;
  }
}

/**
 * Sends one signed call on a connection of its own (asking the endpoint to close it after the
 * answer) and returns every byte the endpoint wrote until the connection closed: what a client
 * sees, with no HTTP client in between that could resend or hide anything.
 *
 * @param endpoint The endpoint.
 * @param query The form-encoded call, `Action=...&Version=...`.
 * @returns The bytes received, as text ("" when the connection closed without an answer).
 */
export async function rawCall(endpoint: Ec2Endpoint, query: string): Promise<string> {
  const host = `127.0.0.1:${endpoint.port}`;
  const headers = { host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" };
  const signed = await new SignatureV4({
    credentials: TEST_CREDENTIALS,
    region: "us-east-1",
    service: "ec2",
    sha256: Sha256,
  }).sign({
    method: "POST",
    protocol: "http:",
    hostname: "127.0.0.1",
    path: "/",
    headers,
    body: query,
  });
  const lines = Object.entries(signed.headers).map(([name, value]) => `${name}: ${value}\r\n`);
  const body = new TextEncoder().encode(query);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: endpoint.port });
  try {
    await conn.write(new TextEncoder().encode(
      `POST / HTTP/1.1\r\n${
        lines.join("")
      }content-length: ${body.length}\r\nconnection: close\r\n\r\n`,
    ));
    await conn.write(body);
    const received: Uint8Array[] = [];
    const chunk = new Uint8Array(16 * 1024);
    for (let n = await conn.read(chunk); n !== null; n = await conn.read(chunk)) {
      received.push(chunk.slice(0, n));
    }
    return received.map((part) => new TextDecoder().decode(part)).join("");
  } finally {
    conn.close();
  }
}
