/**
 * The only module that loads the AWS SDK at run time; `api.ts` imports it on the first EC2
 * call.
 *
 * @module
 */

import {
  AssociateAddressCommand,
  CreateImageCommand,
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  type EC2ClientConfig,
  RebootInstancesCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import type { CallName, Ec2Calls } from "./api.ts";

/** The SDK command behind each call. */
const COMMANDS = {
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
} satisfies Record<CallName, unknown>;

/**
 * Creates one SDK client and the EC2 calls the driver makes through it.
 *
 * @param config Client configuration (see `clientConfig()` in `api.ts`).
 * @returns The calls.
 */
export function sdkCalls(config: EC2ClientConfig): Ec2Calls {
  const client = new EC2Client(config);
  const calls: Record<string, unknown> = {};
  for (const [name, Command] of Object.entries(COMMANDS)) {
    // deno-lint-ignore no-explicit-any
    calls[name] = (input: any) => client.send(new (Command as any)(input));
  }
  return calls as unknown as Ec2Calls;
}
