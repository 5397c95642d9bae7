/**
 * Where an EC2 host's connection settings may come from besides the configuration file: its
 * OpenNebula template, with the attributes OpenNebula's own EC2 driver (5.4–6.x) read there
 * (`REGION_NAME`, `EC2_ACCESS`, `EC2_SECRET`, the last two kept encrypted by oned), and the
 * environment the AWS SDK chain reads.
 *
 * @module
 */

import type { TemplateSetting } from "../../core/provider.ts";
import type { Ec2Connection } from "./settings.ts";

/**
 * The settings that name a host's credentials: with one of them in the file, the template's
 * `EC2_ACCESS` and `EC2_SECRET` are not used. A role (`roleArn`) is not among them: the
 * template's keys may assume it.
 */
const CREDENTIAL_SOURCES = [
  "accessKeyId",
  "secretAccessKey",
  "sessionToken",
  "profile",
  "webIdentityTokenFile",
  "useInstanceMetadata",
] as const;

/** The EC2 settings a host's OpenNebula template may give. */
export const EC2_TEMPLATE_SETTINGS: readonly TemplateSetting[] = [
  { attribute: "REGION_NAME", setting: "region", decidedBy: ["region"] },
  {
    attribute: "EC2_ACCESS",
    setting: "accessKeyId",
    decidedBy: CREDENTIAL_SOURCES,
    encrypted: true,
  },
  {
    attribute: "EC2_SECRET",
    setting: "secretAccessKey",
    decidedBy: CREDENTIAL_SOURCES,
    encrypted: true,
    secret: true,
  },
];

/**
 * What the environment gives an EC2 host where its settings are silent, in words (variable
 * names, never values), for the preflight.
 *
 * @param connection The host's connection settings.
 * @param env The environment the SDK would read.
 * @returns One phrase per setting the environment decides.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ec2EnvironmentSources } from "./setting_sources.ts";
 * const env = new Map([["AWS_REGION", "eu-west-1"], ["AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"]]);
 * assert.deepEqual(ec2EnvironmentSources({ useInstanceMetadata: false }, env), [
 *   "region from AWS_REGION",
 *   "credentials from AWS_ACCESS_KEY_ID",
 * ]);
 * assert.deepEqual(ec2EnvironmentSources({ region: "us-east-1", profile: "p", useInstanceMetadata: false }, env), []);
 * ```
 */
export function ec2EnvironmentSources(
  connection: Ec2Connection,
  env: { get(name: string): string | undefined },
): string[] {
  const set = (...names: string[]) => names.find((name) => env.get(name));
  const sources: string[] = [];
  if (connection.region === undefined) {
    const variable = set("AWS_REGION", "AWS_DEFAULT_REGION");
    sources.push(variable ? `region from ${variable}` : "region from the AWS SDK chain (~/.aws)");
  }
  const named = CREDENTIAL_SOURCES.some((key) =>
    connection[key] !== undefined && connection[key] !== false
  );
  if (!named) {
    const variable = set("AWS_ACCESS_KEY_ID", "AWS_PROFILE");
    sources.push(
      variable ? `credentials from ${variable}` : "credentials from the AWS SDK chain (~/.aws)",
    );
  }
  if (connection.endpoint === undefined) {
    const variable = set("AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL");
    if (variable) sources.push(`endpoint from ${variable}`);
  }
  return sources;
}
