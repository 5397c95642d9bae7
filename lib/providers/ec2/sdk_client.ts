/**
 * The only module that loads the AWS SDK at run time; `api.ts` imports it on the first EC2
 * call. The client is built so that every answer passes `transport.ts` before the SDK reads
 * it, every secret the SDK resolves is registered for redaction before any request, and the
 * SDK itself prints nothing. A host's IAM role is assumed with the SDK's own credential
 * providers (`@aws-sdk/credential-providers`), loaded only when a host names a role.
 *
 * @module
 */

import {
  AssociateAddressCommand,
  CreateImageCommand,
  CreateTagsCommand,
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  EC2Client,
  type EC2ClientConfig,
  RebootInstancesCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "./aws_sdk.ts";
import { cloudWatchSdk, credentialProviders, stsClient } from "./aws_sdk.ts";
import {
  CALL_LIMITS,
  type CallName,
  type CommandOf,
  MAX_TOKEN_FILE_BYTES,
  type RoleConfig,
} from "./api.ts";
import { RoleError } from "./errors.ts";
import type { GetMetricDataInput, GetMetricDataOutput } from "./cloudwatch.ts";
import {
  type AnswerCheck,
  CheckedHandler,
  CLOUDWATCH_ANSWERS,
  EC2_ANSWERS,
  type HandlerLike,
} from "./transport.ts";
import { readBoundedText } from "../../util/bounded_read.ts";
import { fileErrorReason } from "../../util/file_errors.ts";
import { addSecret } from "../../util/redact.ts";

/**
 * The command of each call in `CALL_NAMES` (api.ts), which is the list: the type makes this
 * map name exactly those calls. The commands are imported by name so that the bundle keeps only
 * these twelve of the SDK's hundreds (importing the whole module costs about 0.2 s per process).
 */
const COMMANDS: { readonly [K in CallName]: CommandOf<K> } = {
  runInstances: RunInstancesCommand,
  describeInstances: DescribeInstancesCommand,
  terminateInstances: TerminateInstancesCommand,
  stopInstances: StopInstancesCommand,
  startInstances: StartInstancesCommand,
  rebootInstances: RebootInstancesCommand,
  createImage: CreateImageCommand,
  describeImages: DescribeImagesCommand,
  associateAddress: AssociateAddressCommand,
  describeAddresses: DescribeAddressesCommand,
  describeInstanceTypes: DescribeInstanceTypesCommand,
  createTags: CreateTagsCommand,
};

/** Sends one call by name, once, within `timeoutMs` at most; a signal aborts it. */
type Sender = (
  name: CallName,
  input: unknown,
  signal?: AbortSignal,
  timeoutMs?: number,
) => Promise<unknown>;

/**
 * Creates one SDK client and the function that sends the driver's calls through it.
 *
 * @param config Client configuration (see `clientConfig()` in `api.ts`).
 * @param role The host's role (see `roleConfig()` in `api.ts`): the client calls EC2 as it.
 * @returns The sender.
 */
export function sdkSender(config: EC2ClientConfig, role?: RoleConfig): Sender {
  const client = new EC2Client(driverConfig(config, role, EC2_ANSWERS));
  return (name, input, signal, timeoutMs) => {
    // deno-lint-ignore no-explicit-any
    const Command = COMMANDS[name] as new (input: any) => any;
    return client.send(new Command(input), sendOptions(signal, timeoutMs));
  };
}

/**
 * A client's configuration as the driver builds every one: the host's settings, the role's
 * credentials when it names one, a silent logger and the driver's extension.
 */
function driverConfig(config: EC2ClientConfig, role: RoleConfig | undefined, answers: AnswerCheck) {
  const credentials = role ? roleCredentials(role, config.credentials) : config.credentials;
  return {
    ...config,
    ...(credentials ? { credentials } : {}),
    logger: SILENT,
    extensions: [driverExtension(answers)],
  };
}

/** The options of one send: the action's signal, and the attempt's time limit. */
function sendOptions(signal: AbortSignal | undefined, timeoutMs: number | undefined) {
  return {
    ...(signal ? { abortSignal: signal } : {}),
    ...(timeoutMs !== undefined ? { requestTimeout: timeoutMs } : {}),
  };
}

/** Sends one GetMetricData, once, within `timeoutMs` at most; a signal aborts it. */
type MetricsSender = (
  input: GetMetricDataInput,
  signal?: AbortSignal,
  timeoutMs?: number,
) => Promise<GetMetricDataOutput>;

/**
 * Loads CloudWatch's client (once per process: the first read of a host's usage) and builds
 * one for the settings, as {@link sdkSender} builds EC2's: the same region, credentials, role,
 * time limits and answer checks (CloudWatch's JSON), and no retries of its own.
 *
 * @param config Client configuration (see `cloudWatchConfig()` in `cloudwatch_api.ts`).
 * @param role The host's role, as for EC2.
 * @returns The sender.
 */
export async function cloudWatchSender(
  config: EC2ClientConfig,
  role?: RoleConfig,
): Promise<MetricsSender> {
  const { CloudWatchClient, GetMetricDataCommand } = await cloudWatchSdk();
  const client = new CloudWatchClient(
    driverConfig(config, role, CLOUDWATCH_ANSWERS) as NonNullable<
      ConstructorParameters<typeof CloudWatchClient>[0]
    >,
  );
  return (input, signal, timeoutMs) =>
    client.send(new GetMetricDataCommand(input), sendOptions(signal, timeoutMs));
}

/** A logger that drops everything: the driver's only output is the action's one line. */
const SILENT = { debug() {}, info() {}, warn() {}, error() {} };

/** What the SDK's credential chain resolves to (a subset of its `AwsCredentialIdentity`). */
interface Credentials {
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/** A credential provider, or fixed credentials, as the SDK's `credentials` setting takes them. */
type CredentialSource = EC2ClientConfig["credentials"];

/** A credential provider as the driver calls it. */
type Resolver = (options?: unknown) => Promise<unknown>;

/** A provider that registers, for redaction, every secret the given provider yields. */
function registering(resolve: unknown): Resolver {
  return async (options?: unknown) => {
    const credentials =
      (typeof resolve === "function" ? await resolve(options) : resolve) as Credentials;
    addSecret(credentials.secretAccessKey);
    addSecret(credentials.sessionToken);
    return credentials;
  };
}

/**
 * The credentials of a host's role: `AssumeRole` with the host's static keys, its profile or
 * the SDK chain as the source (whose secrets are registered too), or `AssumeRoleWithWebIdentity`
 * with the token file's content (registered as a secret as well). The SDK's providers are
 * loaded on the first request; any failure becomes a {@link RoleError} naming the role.
 */
function roleCredentials(role: RoleConfig, keys: CredentialSource): CredentialSource {
  const sts = { ...role.sts, logger: SILENT };
  let assumed: Resolver | undefined;
  const provider = async (options?: unknown): Promise<unknown> => {
    const providers = await credentialProviders();
    if (assumed === undefined) {
      if (role.webIdentityTokenFile !== undefined) {
        const token = await readToken(role);
        addSecret(token);
        // The provider would import STS's role assumer itself; in the portable bundle, a
        // CommonJS module imported dynamically keeps only its default export, so the assumer
        // is imported here, in whichever shape the build gives it.
        const loaded = await stsClient();
        const named: Partial<typeof loaded> = loaded;
        const getDefaultRoleAssumerWithWebIdentity = named.getDefaultRoleAssumerWithWebIdentity ??
          loaded.default.getDefaultRoleAssumerWithWebIdentity;
        assumed = providers.fromWebToken({
          roleArn: role.roleArn,
          webIdentityToken: token,
          roleAssumerWithWebIdentity: getDefaultRoleAssumerWithWebIdentity(sts),
          logger: SILENT,
          ...(role.roleSessionName ? { roleSessionName: role.roleSessionName } : {}),
        }) as Resolver;
      } else {
        const source = keys ?? registering(
          providers.fromNodeProviderChain({
            logger: SILENT,
            ...(role.sourceProfile ? { profile: role.sourceProfile } : {}),
          }),
        );
        assumed = providers.fromTemporaryCredentials({
          params: {
            RoleArn: role.roleArn,
            ...(role.externalId ? { ExternalId: role.externalId } : {}),
            ...(role.roleSessionName ? { RoleSessionName: role.roleSessionName } : {}),
          },
          masterCredentials: source as never,
          clientConfig: sts,
          logger: SILENT,
        }) as Resolver;
      }
    }
    try {
      return await assumed!(options);
    } catch (error) {
      throw new RoleError(role.roleArn, { cause: error });
    }
  };
  return registering(provider) as CredentialSource;
}

/** The web-identity token, read within the driver's bounds on size and time. */
async function readToken(role: RoleConfig): Promise<string> {
  const path = role.webIdentityTokenFile!;
  try {
    return (await readBoundedText(path, MAX_TOKEN_FILE_BYTES)).trim();
  } catch (error) {
    throw new RoleError(role.roleArn, {
      problem: `cannot read web identity token file ${path}: ${fileErrorReason(error)}`,
    });
  }
}

/**
 * The SDK's runtime extension point, as far as the driver uses it: the client's HTTP handler
 * and credential provider, each replaced by a wrapper.
 *
 * @param answers How the client's service answers (EC2's XML, CloudWatch's JSON).
 */
const driverExtension = (answers: AnswerCheck) => ({
  configure(extension: {
    httpHandler(): unknown;
    setHttpHandler(handler: never): void;
    credentials(): unknown;
    setCredentials(credentials: never): void;
  }): void {
    const handler = new CheckedHandler(
      extension.httpHandler() as HandlerLike,
      CALL_LIMITS,
      answers,
    );
    extension.setHttpHandler(handler as never);
    const resolve = extension.credentials();
    if (resolve === undefined) return;
    // Whatever the chain finds (environment, shared files, process, SSO, an assumed role) is
    // registered as a secret before the signer uses it, so that no answer can echo it.
    extension.setCredentials(registering(resolve) as never);
  },
});
