/**
 * The narrow seam between the driver and the AWS SDK: only the EC2 calls the driver makes,
 * and the construction of a client from a host's settings. The SDK itself is loaded on the
 * first call, so an action that fails on its input never pays for loading it.
 *
 * @module
 */

import type * as Sdk from "@aws-sdk/client-ec2";
import { InvalidInputError } from "../../util/errors.ts";
import { type Ec2Connection, REGION, REGION_PROBLEM } from "./settings.ts";
import { CallWindow, retrying } from "../../util/retry.ts";
import { failureKind } from "./errors.ts";

/**
 * The EC2 calls the driver makes: the one list. Each name is the SDK client's method name;
 * its command (`RunInstancesCommand`) and types follow from it.
 */
export const CALL_NAMES = [
  "runInstances",
  "describeInstances",
  "terminateInstances",
  "stopInstances",
  "startInstances",
  "rebootInstances",
  "createImage",
  "describeImages",
  "associateAddress",
  "describeAddresses",
  "describeInstanceTypes",
  "createTags",
] as const;

/** The names of the EC2 calls the driver makes. */
export type CallName = typeof CALL_NAMES[number];

/** The SDK command class of a call (`RunInstancesCommand` for `runInstances`). */
export type CommandOf<K extends CallName> = (typeof Sdk)[`${Capitalize<K>}Command`];
/** The input a call takes. */
export type CallInput<K extends CallName> = NonNullable<ConstructorParameters<CommandOf<K>>[0]>;
/** The output a call answers with. */
export type CallOutput<K extends CallName> = Awaited<
  ReturnType<ReturnType<InstanceType<CommandOf<K>>["resolveMiddleware"]>>
>["output"];

/** The EC2 calls, each taking its command input and returning its output. */
export type Ec2Calls = { [K in CallName]: (input: CallInput<K>) => Promise<CallOutput<K>> };

/** The EC2 calls the driver uses and the region they go to; the EC2 provider depends on this alone. */
export interface Ec2Api extends Ec2Calls {
  /** The region requests go to, when known before the first call. */
  readonly region: string | undefined;
  /**
   * When the calls' retries end (the action's deadline, less what later steps keep back);
   * absent in test doubles, which do not retry.
   */
  readonly window?: CallWindow;
}

/**
 * Calls whose second sending could do something twice on an endpoint that ignores EC2's
 * idempotency token (RunInstances) or has none (CreateImage): after an attempt whose outcome
 * is unknown they are not sent again here; the provider looks for what they did first.
 */
const NOT_RESENT: ReadonlySet<CallName> = new Set(["runInstances", "createImage"]);

/**
 * Time limits of one EC2 attempt, as docs/actions.md states them. A call retries what may pass
 * until the action's deadline is near (`retry.ts`), each attempt within these limits.
 */
export const CALL_LIMITS = {
  /** Milliseconds to wait for a TCP (and TLS) connection, within `requestMs`. */
  connectMs: 5_000,
  /** Milliseconds one attempt may take, from connecting to the answer's last byte. */
  requestMs: 10_000,
  /** Attempts per call of the STS client that assumes a role (the SDK's own retries). */
  attempts: 3,
} as const;

/**
 * Builds the SDK client configuration for a host: region, credentials (static keys or a
 * profile; otherwise the SDK's chain; with a role, these are what assumes it), endpoint, connection timeout and retries. Unless the settings
 * allow it, the instance metadata service is switched off, so an on-premises front-end never
 * waits on it.
 *
 * @param settings The host's settings.
 * @param env The environment to switch IMDS off in (defaults to the process environment).
 * @returns Configuration for `new EC2Client()`.
 */
export function clientConfig(
  settings: Ec2Connection,
  env: { get(name: string): string | undefined; set(name: string, value: string): void } = Deno.env,
): Sdk.EC2ClientConfig {
  if (!settings.useInstanceMetadata && env.get("AWS_EC2_METADATA_DISABLED") === undefined) {
    env.set("AWS_EC2_METADATA_DISABLED", "true");
  }
  const config: Sdk.EC2ClientConfig = {
    // Retries are the driver's own (`retry.ts`), within the action's deadline.
    maxAttempts: 1,
    // The per-attempt deadline is kept by `transport.ts`, which aborts the request; the SDK's
    // own request timeout would only print a warning. Every request gets a connection of its
    // own: Deno's node:http sends a request again, unseen by any retry logic, when a kept-alive
    // connection closes without an answer, so a RunInstances could be sent twice.
    requestHandler: {
      connectionTimeout: CALL_LIMITS.connectMs,
      httpAgent: { keepAlive: false },
      httpsAgent: { keepAlive: false },
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

/** How the SDK client assumes a host's role, built from its settings by {@link roleConfig}. */
export interface RoleConfig {
  /** The role to assume. */
  readonly roleArn: string;
  /** The external id its trust policy asks for. */
  readonly externalId?: string;
  /** The session name. */
  readonly roleSessionName?: string;
  /** The OIDC token file: assume with `AssumeRoleWithWebIdentity` instead of `AssumeRole`. */
  readonly webIdentityTokenFile?: string;
  /** The profile whose credentials assume the role, when neither keys nor a token file are set. */
  readonly sourceProfile?: string;
  /** Configuration of the STS client that assumes it: region, endpoint, time limits, retries. */
  readonly sts: {
    region?: string;
    endpoint?: string;
    maxAttempts: number;
    requestHandler: { connectionTimeout: number; requestTimeout: number };
  };
}

/** Bytes of a web-identity token file read at most (STS takes tokens up to 20,000 characters). */
export const MAX_TOKEN_FILE_BYTES = 64 * 1024;

/**
 * Describes how a host's role is assumed, or `undefined` when it names none. The source
 * credentials of `AssumeRole` are the host's static keys (then in the client configuration),
 * else its profile, else the SDK chain; a web-identity token needs none.
 *
 * @param settings The host's settings.
 * @returns The role's configuration, or `undefined`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roleConfig } from "./api.ts";
 * const role = roleConfig({
 *   useInstanceMetadata: false,
 *   region: "eu-west-1",
 *   profile: "ops",
 *   roleArn: "arn:aws:iam::111122223333:role/burst",
 * });
 * assert.equal(role?.sourceProfile, "ops");
 * assert.equal(role?.sts.region, "eu-west-1");
 * assert.equal(roleConfig({ useInstanceMetadata: false }), undefined);
 * ```
 */
export function roleConfig(settings: Ec2Connection): RoleConfig | undefined {
  if (settings.roleArn === undefined) return undefined;
  const sts: RoleConfig["sts"] = {
    maxAttempts: CALL_LIMITS.attempts,
    requestHandler: {
      connectionTimeout: CALL_LIMITS.connectMs,
      requestTimeout: CALL_LIMITS.requestMs,
    },
  };
  if (settings.region) sts.region = settings.region;
  if (settings.stsEndpoint) sts.endpoint = settings.stsEndpoint;
  return {
    roleArn: settings.roleArn,
    sts,
    ...(settings.externalId ? { externalId: settings.externalId } : {}),
    ...(settings.roleSessionName ? { roleSessionName: settings.roleSessionName } : {}),
    ...(settings.webIdentityTokenFile
      ? { webIdentityTokenFile: settings.webIdentityTokenFile }
      : {}),
    ...(settings.profile && !settings.accessKeyId ? { sourceProfile: settings.profile } : {}),
  };
}

/**
 * Creates the EC2 API for a host. Neither the SDK is loaded nor a request sent until a
 * method is called. Each call retries what may pass (throttling, server errors, lost
 * connections, no answer) until the action's deadline is near.
 *
 * @param settings The host's connection settings.
 * @param time `signal` aborts every call in flight, and refuses new ones, once the action's
 *   time is up; `deadline` is when (without it, each call is sent once).
 * @returns The seam, backed by one SDK client.
 * @throws {InvalidInputError} when the region comes from a malformed `AWS_REGION`.
 */
export function createEc2Api(
  settings: Ec2Connection,
  time: { readonly signal?: AbortSignal; deadline?(): number } = {},
): Ec2Api {
  const { signal } = time;
  const window = new CallWindow(time.deadline?.bind(time));
  let client: ReturnType<typeof sdkClient> | undefined;
  const fromEnv = Deno.env.get("AWS_REGION") ? "AWS_REGION" : "AWS_DEFAULT_REGION";
  const region = settings.region ?? (Deno.env.get(fromEnv) || undefined);
  if (settings.region === undefined && region !== undefined && !REGION.test(region)) {
    // The configuration's region is checked when it is loaded; the environment's here, before
    // the SDK builds a host name from it.
    throw new InvalidInputError(`${fromEnv} ${REGION_PROBLEM}`);
  }
  const api: Record<string, unknown> = { region, window };
  for (const name of CALL_NAMES) {
    const call = `${name[0]!.toUpperCase()}${name.slice(1)}`;
    const options = {
      call,
      classify: failureKind,
      window,
      resendable: !NOT_RESENT.has(name),
      signal,
    };
    api[name] = async (input: unknown) => {
      signal?.throwIfAborted();
      const send = await (client ??= sdkClient(settings));
      return await retrying(
        (timeoutMs) => send(name, input, signal, timeoutMs),
        options,
        CALL_LIMITS.requestMs,
      );
    };
  }
  return api as unknown as Ec2Api;
}

/** Loads the SDK (once) and builds the client for the settings. */
function sdkClient(settings: Ec2Connection) {
  return import("./sdk_client.ts").then((m) =>
    m.sdkSender(clientConfig(settings), roleConfig(settings))
  );
}
