/**
 * The EC2 connection settings of a host (region, credentials, endpoint), read from the driver
 * configuration. With none of them, the standard AWS SDK chain applies (environment variables,
 * shared config and credentials files, profiles, `AWS_ENDPOINT_URL_EC2`). A host may also name
 * an IAM role to assume, with its other credentials (or the chain) as the source, or with a
 * web-identity token file; several hosts may share an account or a region.
 *
 * @module
 */

import type { SettingReader } from "../../core/provider.ts";
import { addSecret } from "../../util/redact.ts";
import { endpointProblem } from "../../util/url.ts";

/** The connection settings of one EC2 host. */
export interface Ec2Connection {
  /** AWS region; when absent the SDK chain (`AWS_REGION`, profile) decides. */
  readonly region?: string;
  /** Named profile of the shared config/credentials files. */
  readonly profile?: string;
  /** Static access key id (with `secretAccessKey`). */
  readonly accessKeyId?: string;
  /** Static secret access key. */
  readonly secretAccessKey?: string;
  /** Session token for temporary static credentials. */
  readonly sessionToken?: string;
  /** EC2 endpoint URL; when absent the SDK's (`AWS_ENDPOINT_URL_EC2`, then the region's). */
  readonly endpoint?: string;
  /** Whether the SDK may ask the instance metadata service for credentials (off by default). */
  readonly useInstanceMetadata: boolean;
  /** IAM role to assume (`arn:aws:iam::123456789012:role/name`); EC2 is called as that role. */
  readonly roleArn?: string;
  /** External id the role's trust policy asks for (`AssumeRole` only). */
  readonly externalId?: string;
  /** Session name of the assumed role, as CloudTrail shows it; the SDK makes one up when absent. */
  readonly roleSessionName?: string;
  /** Absolute path of an OIDC token file: the role is assumed with `AssumeRoleWithWebIdentity`. */
  readonly webIdentityTokenFile?: string;
  /** STS endpoint URL for assuming the role; when absent the SDK's for the region. */
  readonly stsEndpoint?: string;
  /**
   * Whether monitoring reads the host's VMs' CPU and network figures from CloudWatch (off by
   * default: CloudWatch bills every metric read).
   */
  readonly cloudWatch?: true;
  /** CloudWatch endpoint URL; when absent the SDK's (`AWS_ENDPOINT_URL_CLOUDWATCH`, the region's). */
  readonly cloudWatchEndpoint?: string;
}

/**
 * The environment variables with which the SDK chain completes a host's settings: they decide
 * the region, endpoint and credentials as much as the settings do. Secrets are not among them.
 */
const SCOPE_VARIABLES = [
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_PROFILE",
  "AWS_ACCESS_KEY_ID",
  "AWS_ENDPOINT_URL_EC2",
  "AWS_ENDPOINT_URL",
  "AWS_ROLE_ARN",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "HOME",
] as const;

/**
 * What decides which instances a host's DescribeInstances sees: its connection settings but
 * the secrets, and the environment variables the SDK chain would read for the rest.
 *
 * @param connection The host's connection settings.
 * @param env The environment the SDK would read.
 * @returns A JSON text; equal texts see the same instances.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ec2ListingScope } from "./settings.ts";
 * const scope = ec2ListingScope(
 *   { region: "eu-west-1", accessKeyId: "AKIAEXAMPLE", secretAccessKey: "s3cr3t", useInstanceMetadata: false },
 *   new Map(),
 * );
 * assert.ok(scope.includes("AKIAEXAMPLE") && !scope.includes("s3cr3t"));
 * ```
 */
export function ec2ListingScope(
  connection: Ec2Connection,
  env: { get(name: string): string | undefined },
): string {
  // CloudWatch's settings change what monitoring reads, not which instances a listing sees.
  const {
    secretAccessKey: _secret,
    sessionToken: _token,
    cloudWatch: _cloudWatch,
    cloudWatchEndpoint: _cloudWatchEndpoint,
    ...rest
  } = connection;
  const settings = Object.entries(rest).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  return JSON.stringify([settings, SCOPE_VARIABLES.map((name) => env.get(name) ?? null)]);
}

/** The string settings, in the order they are read. */
const TEXT_KEYS = [
  "region",
  "profile",
  "accessKeyId",
  "secretAccessKey",
  "sessionToken",
  "endpoint",
  "roleArn",
  "externalId",
  "roleSessionName",
  "webIdentityTokenFile",
  "stsEndpoint",
  "cloudWatchEndpoint",
] as const;

/** Every EC2 connection setting. */
export const EC2_SETTING_KEYS: readonly string[] = [
  ...TEXT_KEYS,
  "useInstanceMetadata",
  "cloudWatch",
];

/** What a region name may look like (EC2's `us-east-1`, private clouds' `RegionOne`). */
export const REGION = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/;

/** The message for a malformed region name. */
export const REGION_PROBLEM =
  "must be a region name: up to 64 letters, digits, '-', '_' or '.' (e.g. us-east-1)";

/** What an IAM role ARN looks like, in any partition (`aws`, `aws-cn`, `aws-us-gov`, ...). */
const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:role\/[\w+=,.@\/-]{1,512}$/;
/** What STS accepts as a role session name. */
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
/** What STS accepts as an external id. */
const EXTERNAL_ID = /^[\w+=,.@:\/-]{2,1224}$/;

/**
 * Reads and checks a host's EC2 connection settings; registers its secrets for redaction.
 *
 * @param read The configuration's reader for the host.
 * @returns The settings.
 * @throws naming the setting: a key without its secret, a malformed region or endpoint.
 */
export function parseEc2Connection(read: SettingReader): Ec2Connection {
  const connection: { -readonly [K in keyof Ec2Connection]: Ec2Connection[K] } = {
    useInstanceMetadata: read.flag("useInstanceMetadata") ?? false,
  };
  for (const key of TEXT_KEYS) {
    const value = read.text(key);
    if (value !== undefined) connection[key] = value;
  }
  if (read.flag("cloudWatch")) connection.cloudWatch = true;
  if ((connection.accessKeyId === undefined) !== (connection.secretAccessKey === undefined)) {
    const missing = connection.accessKeyId === undefined ? "accessKeyId" : "secretAccessKey";
    const given = missing === "accessKeyId" ? "secretAccessKey" : "accessKeyId";
    throw read.fail(missing, `must be given together with "${given}"`);
  }
  if (connection.region !== undefined && !REGION.test(connection.region)) {
    throw read.fail("region", REGION_PROBLEM);
  }
  for (const key of ["endpoint", "stsEndpoint", "cloudWatchEndpoint"] as const) {
    const value = connection[key];
    const problem = value === undefined ? undefined : ec2EndpointProblem(value, key);
    if (problem !== undefined) throw read.fail(key, problem);
  }
  checkRole(connection, read);
  addSecret(connection.secretAccessKey);
  addSecret(connection.sessionToken);
  return connection;
}

/** Refuses role settings that are malformed or cannot go together, naming the setting. */
function checkRole(connection: Ec2Connection, read: SettingReader): void {
  const { roleArn, webIdentityTokenFile } = connection;
  if (roleArn === undefined) {
    // `stsEndpoint` and `roleSessionName` may sit in `defaults` for the hosts that have a role.
    for (const key of ["externalId", "webIdentityTokenFile"]) {
      if (connection[key as keyof Ec2Connection] !== undefined) {
        throw read.fail(key, 'needs "roleArn" (the role to assume)');
      }
    }
    return;
  }
  if (!ROLE_ARN.test(roleArn)) {
    throw read.fail(
      "roleArn",
      "must be an IAM role ARN: arn:aws:iam::<12-digit account>:role/<name> (or another partition's arn:aws-...)",
    );
  }
  if (connection.roleSessionName !== undefined && !SESSION_NAME.test(connection.roleSessionName)) {
    throw read.fail(
      "roleSessionName",
      "must be 2 to 64 letters, digits or the characters + = , . @ _ -",
    );
  }
  if (connection.externalId !== undefined && !EXTERNAL_ID.test(connection.externalId)) {
    throw read.fail(
      "externalId",
      "must be 2 to 1224 letters, digits or the characters + = , . @ : / _ -",
    );
  }
  if (webIdentityTokenFile === undefined) return;
  if (!webIdentityTokenFile.startsWith("/")) {
    throw read.fail("webIdentityTokenFile", "must be an absolute path");
  }
  // AssumeRoleWithWebIdentity is signed by the token alone: other credentials would be unused.
  for (const key of ["accessKeyId", "profile", "externalId"] as const) {
    if (connection[key] !== undefined) {
      throw read.fail(key, 'must not be given with "webIdentityTokenFile"');
    }
  }
}

/** The host name of each endpoint setting's example URL. */
const ENDPOINT_EXAMPLES = { endpoint: "ec2", stsEndpoint: "sts", cloudWatchEndpoint: "monitoring" };

/** What is wrong with an endpoint setting (`endpoint`, `stsEndpoint`, ...), in EC2's words. */
function ec2EndpointProblem(
  value: string,
  key: keyof typeof ENDPOINT_EXAMPLES,
): string | undefined {
  return endpointProblem(value, {
    expected: `must be an http(s) URL such as https://${
      ENDPOINT_EXAMPLES[key]
    }.us-east-1.amazonaws.com`,
    credentials:
      "must not contain a user name or password (put credentials in accessKeyId and secretAccessKey)",
    detailed: true,
  });
}
