/**
 * The parts of the AWS SDK the driver runs, and nothing of the driver's own: the one module
 * through which the SDK is loaded (by `sdk_client.ts`, itself imported on the first EC2 call).
 * The portable build bundles this module apart from the driver (`scripts/build.ts`), so that
 * no action that stops before a cloud call reads, parses or compiles the SDK, nor the `node:`
 * compatibility modules its CommonJS parts need. It must import no module of the driver: the
 * separate bundle would hold a second copy of it (a second secret registry, other error
 * classes).
 *
 * @module
 */

export {
  AssociateAddressCommand,
  CreateImageCommand,
  CreateTagsCommand,
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  EC2Client,
  RebootInstancesCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
export type { EC2ClientConfig } from "@aws-sdk/client-ec2";

/**
 * Loads CloudWatch's client (a host whose monitoring reads CloudWatch): apart from EC2's, so
 * that no other process reads, parses or compiles it (about 58 KB of the bundle).
 */
export function cloudWatchSdk() {
  return import("@aws-sdk/client-cloudwatch");
}

/** Loads the SDK's credential providers (a host that assumes a role). */
export function credentialProviders() {
  return import("@aws-sdk/credential-providers");
}

/** Loads STS's role assumers (a role assumed with a web identity token). */
export function stsClient() {
  return import("@aws-sdk/nested-clients/sts");
}
