/**
 * The only module that loads the AWS SDK at run time; `api.ts` imports it on the first EC2
 * call.
 *
 * @module
 */

import {
  DescribeInstancesCommand,
  EC2Client,
  type EC2ClientConfig,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import type { Ec2Calls } from "./api.ts";

/**
 * Creates one SDK client and the EC2 calls the driver makes through it.
 *
 * @param config Client configuration (see `clientConfig()` in `api.ts`).
 * @returns The calls.
 */
export function sdkCalls(config: EC2ClientConfig): Ec2Calls {
  const client = new EC2Client(config);
  return {
    runInstances: (input) => client.send(new RunInstancesCommand(input)),
    describeInstances: (input) => client.send(new DescribeInstancesCommand(input)),
    terminateInstances: (input) => client.send(new TerminateInstancesCommand(input)),
  };
}
