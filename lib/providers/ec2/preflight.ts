/**
 * The EC2 side of the preflight: whether a host's credentials are accepted by its endpoint,
 * whether they may launch, and whether its default AMI exists. Three cheap calls at most, none
 * of which changes anything: DescribeInstances (5 at most), DescribeImages of the default AMI,
 * and a RunInstances with `DryRun`, which EC2 answers `DryRunOperation` when it would be allowed.
 *
 * @module
 */

import { type HostSettings, settingPlace } from "../../core/config.ts";
import { CredentialsError } from "../../util/errors.ts";
import type { Check } from "../../core/preflight.ts";
import type { Ec2Api } from "./api.ts";
import { askedEndpoint } from "./endpoint.ts";
import { errorCode, toDriverError } from "./errors.ts";
import type { Ec2Connection } from "./settings.ts";
import { cloudWatchReader } from "./cloudwatch_api.ts";

/** What to change when EC2 refuses the credentials, by its code. */
const CREDENTIAL_FIXES: Readonly<Record<string, string>> = {
  UnauthorizedOperation: "allow ec2:DescribeInstances to the host's IAM identity",
  OptInRequired: "enable the region for the account (or use another region)",
  RequestExpired: "set the front-end's clock right (NTP)",
  ExpiredToken: "renew the session token, or use long-term keys, a profile or a role",
};

/**
 * Runs the EC2 checks of one host: `endpoint` (it answers), `credentials` (it accepts them),
 * `default AMI` (template.AMI exists) and `launch` (RunInstances is allowed, by a dry run).
 * Checks that need an earlier one to pass are skipped, saying which.
 *
 * @param settings The host's settings.
 * @param api Its EC2 calls.
 * @param env The environment the SDK reads (its endpoint variables name the endpoint asked).
 * @returns One check each, in that order.
 */
export async function ec2Preflight(
  settings: HostSettings,
  api: Ec2Api,
  env: { get(name: string): string | undefined } = Deno.env,
): Promise<Check[]> {
  const connection = settings.connection as Ec2Connection;
  const where = settings.source || "the driver configuration";
  const host = settings.host;
  const region = connection.region ?? api.region;
  const endpoint = askedEndpoint(connection.endpoint, region, env);
  const regionWords = region ? `region ${region}` : "no region";
  const checks: Check[] = [];
  try {
    await api.describeInstances({ MaxResults: 5 });
    checks.push(
      { check: "endpoint", result: "PASS", detail: `${endpoint} answered (${regionWords})` },
      { check: "credentials", result: "PASS", detail: `accepted (${identity(connection)})` },
    );
  } catch (thrown) {
    const error = toDriverError(thrown, "DescribeInstances", { host, region });
    if (error instanceof CredentialsError) {
      const fix = CREDENTIAL_FIXES[error.code] ??
        `check ${identity(connection)} of host ${host} in ${
          settingPlace(settings, ["accessKeyId", "secretAccessKey"])
        }`;
      checks.push(
        { check: "endpoint", result: "PASS", detail: `${endpoint} answered (${regionWords})` },
        { check: "credentials", result: "FAIL", detail: `${error.message}; fix: ${fix}` },
      );
    } else {
      checks.push(
        {
          check: "endpoint",
          result: "FAIL",
          detail:
            `${error.message}; fix: check "region" and "endpoint" of host ${host} in ${where}, and the network (proxy, firewall)`,
        },
        { check: "credentials", result: "SKIP", detail: "the endpoint did not answer" },
      );
    }
    const why = "needs the credentials accepted";
    checks.push(
      { check: "default AMI", result: "SKIP", detail: why },
      { check: "launch", result: "SKIP", detail: why },
    );
    return checks;
  }
  const ami = settings.template["AMI"];
  if (ami === undefined) {
    const why = `no default AMI: set "template": {"AMI": ...} for host ${host} in ${where}`;
    checks.push(
      { check: "default AMI", result: "SKIP", detail: why },
      { check: "launch", result: "SKIP", detail: "needs a default AMI to try a launch with" },
    );
    return checks;
  }
  const image = await amiCheck(api, ami, { host, region, regionWords, where });
  checks.push(image);
  if (image.result !== "PASS") {
    checks.push({ check: "launch", result: "SKIP", detail: "needs the default AMI to exist" });
    return checks;
  }
  checks.push(await launchCheck(api, settings, ami, { host, region }));
  return checks;
}

/** Whether the default AMI exists in the host's region. */
async function amiCheck(
  api: Ec2Api,
  ami: string,
  at: { host: string; region: string | undefined; regionWords: string; where: string },
): Promise<Check> {
  const missing: Check = {
    check: "default AMI",
    result: "FAIL",
    detail:
      `${ami} does not exist in ${at.regionWords}; fix: set template.AMI of host ${at.host} in ${at.where} to an AMI of that region`,
  };
  try {
    const out = await api.describeImages({ ImageIds: [ami] });
    const found = out.Images?.find((i) => i.ImageId === ami);
    if (!found) return missing;
    return {
      check: "default AMI",
      result: "PASS",
      detail: `${ami} exists${found.Name ? ` (${found.Name})` : ""}`,
    };
  } catch (thrown) {
    const code = errorCode(thrown) ?? "";
    if (code.startsWith("InvalidAMIID.")) return missing;
    const error = toDriverError(thrown, `DescribeImages ${ami}`, at);
    return { check: "default AMI", result: "FAIL", detail: error.message };
  }
}

/** Whether a launch of the default AMI would be allowed: RunInstances with `DryRun`. */
async function launchCheck(
  api: Ec2Api,
  settings: HostSettings,
  ami: string,
  at: { host: string; region: string | undefined },
): Promise<Check> {
  const type = settings.template["INSTANCETYPE"] ?? "t3.micro";
  try {
    const out = await api.runInstances({
      ImageId: ami,
      InstanceType: type as never,
      MinCount: 1,
      MaxCount: 1,
      DryRun: true,
    });
    const ids = (out.Instances ?? []).map((i) => i.InstanceId).join(", ");
    return {
      check: "launch",
      result: "FAIL",
      detail: `the endpoint ignored DryRun and launched ${
        ids || "an instance"
      }; terminate it, and do not rely on this check for this endpoint`,
    };
  } catch (thrown) {
    const code = errorCode(thrown);
    if (code === "DryRunOperation") {
      return {
        check: "launch",
        result: "PASS",
        detail: `RunInstances of ${ami} (${type}) would be allowed (dry run)`,
      };
    }
    const error = toDriverError(thrown, "RunInstances (dry run)", at);
    const fix = code === "UnauthorizedOperation"
      ? "; fix: allow ec2:RunInstances and ec2:CreateTags to the host's IAM identity"
      : "";
    return { check: "launch", result: "FAIL", detail: `${error.message}${fix}` };
  }
}

/** How long the CloudWatch check may take, in milliseconds. */
const CLOUDWATCH_CHECK_MS = 15_000;

/**
 * Whether CloudWatch answers the host's GetMetricData, for a host with `cloudWatch`: one request
 * for a made-up instance over the last period (3 metrics, $0.00003 at $0.01 per 1,000), which
 * reads nothing and changes nothing.
 *
 * @param settings The host's settings.
 * @param periodSeconds The period monitoring reads.
 * @param signal Ends the request.
 * @returns The `cloudwatch` check.
 */
export async function cloudWatchCheck(
  settings: HostSettings,
  periodSeconds: number,
  signal: AbortSignal,
): Promise<Check> {
  const connection = settings.connection as Ec2Connection;
  const deadline = Date.now() + CLOUDWATCH_CHECK_MS;
  const reader = cloudWatchReader(connection, settings.host, periodSeconds, {
    signal,
    deadline: () => deadline,
  });
  const period = periodSeconds * 1000;
  const end = Math.floor(Date.now() / period) * period;
  const where = connection.cloudWatchEndpoint ??
    (connection.region ? `region ${connection.region}` : "the SDK's default region");
  try {
    await reader.read(["i-00000000000000000"], end - period, end);
    return {
      check: "cloudwatch",
      result: "PASS",
      detail:
        `GetMetricData answered (${where}); each running VM costs 3 metrics per read, at most every ${
          periodSeconds / 60
        } minutes`,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const fix = /AccessDenied|UnauthorizedOperation|not authorized/i.test(message)
      ? "allow cloudwatch:GetMetricData to the host's IAM identity"
      : `check "cloudWatchEndpoint" and "region" of host ${settings.host}, or set "cloudWatch" to false`;
    return { check: "cloudwatch", result: "FAIL", detail: `${message}; fix: ${fix}` };
  }
}

/** The host's credentials in words, never the secret: which key, profile or role. */
function identity(c: Ec2Connection): string {
  if (c.roleArn) return `role ${c.roleArn}`;
  if (c.accessKeyId) return `accessKeyId ${c.accessKeyId} and its secretAccessKey`;
  if (c.profile) return `profile ${c.profile}`;
  return "the AWS SDK's default credentials";
}
