/**
 * The only module that loads the AWS SDK at run time; `api.ts` imports it on the first EC2
 * call. The client is built so that every answer passes `transport.ts` before the SDK reads
 * it, every secret the SDK resolves is registered for redaction before any request, and the
 * SDK itself prints nothing.
 *
 * @module
 */

import {
  AssociateAddressCommand,
  CreateImageCommand,
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
} from "@aws-sdk/client-ec2";
import { CALL_LIMITS, type CallName, type CommandOf } from "./api.ts";
import { CheckedHandler, type HandlerLike } from "./transport.ts";
import { addSecret } from "../redact.ts";

/**
 * The command of each call in `CALL_NAMES` (api.ts), which is the list: the type makes this
 * map name exactly those calls. The commands are imported by name so that the bundle keeps only
 * these eleven of the SDK's hundreds (importing the whole module costs about 0.2 s per process).
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
};

/** Sends one call by name; a signal aborts it. */
export type Sender = (name: CallName, input: unknown, signal?: AbortSignal) => Promise<unknown>;

/**
 * Creates one SDK client and the function that sends the driver's calls through it.
 *
 * @param config Client configuration (see `clientConfig()` in `api.ts`).
 * @returns The sender.
 */
export function sdkSender(config: EC2ClientConfig): Sender {
  const client = new EC2Client({ ...config, logger: SILENT, extensions: [DRIVER_EXTENSION] });
  return (name, input, signal) => {
    // deno-lint-ignore no-explicit-any
    const Command = COMMANDS[name] as new (input: any) => any;
    return client.send(new Command(input), signal ? { abortSignal: signal } : {});
  };
}

/** A logger that drops everything: the driver's only output is the action's one line. */
const SILENT = { debug() {}, info() {}, warn() {}, error() {} };

/** What the SDK's credential chain resolves to (a subset of its `AwsCredentialIdentity`). */
interface Credentials {
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/**
 * The SDK's runtime extension point, as far as the driver uses it: the client's HTTP handler
 * and credential provider, each replaced by a wrapper.
 */
const DRIVER_EXTENSION = {
  configure(extension: {
    httpHandler(): unknown;
    setHttpHandler(handler: never): void;
    credentials(): unknown;
    setCredentials(credentials: never): void;
  }): void {
    const handler = new CheckedHandler(extension.httpHandler() as HandlerLike, CALL_LIMITS);
    extension.setHttpHandler(handler as never);
    const resolve = extension.credentials();
    if (resolve === undefined) return;
    // Whatever the chain finds (environment, shared files, process, SSO) is registered as a
    // secret before the signer uses it, so that no answer can echo it into the output.
    const registering = async (options?: unknown): Promise<unknown> => {
      const credentials =
        (typeof resolve === "function" ? await resolve(options) : resolve) as Credentials;
      addSecret(credentials.secretAccessKey);
      addSecret(credentials.sessionToken);
      return credentials;
    };
    extension.setCredentials(registering as never);
  },
};
