/**
 * The seam between actions and clouds. Actions only see this interface; `lib/ec2/provider.ts`
 * implements it for Amazon EC2, and a partner OpenNebula cloud can implement it later without
 * touching `actions/`.
 *
 * @module
 */

import type { Deployment } from "./opennebula/template.ts";

/** What OpenNebula's monitoring makes of an instance state (`STATE=` in a poll). */
export type VmState = "a" | "p" | "e" | "d" | "-";

/** One cloud instance, flattened from the provider's own representation once. */
export interface Instance {
  /** The provider's id: the deploy id OpenNebula stores. */
  readonly id: string;
  /** The provider's own state name (e.g. `running`). */
  readonly state: string;
  /** The state as OpenNebula's monitoring understands it. */
  readonly vmState: VmState;
  /** Memory given to the instance in KiB, when known. */
  readonly memoryKiB?: number;
  /** Provider facts for the monitoring string, keys without prefix (`PUBLIC_IP_ADDRESS`). */
  readonly facts: Readonly<Record<string, string>>;
}

/** What deploy asks of a provider. */
export interface LaunchRequest {
  /** OpenNebula VM id. */
  readonly vmId: number;
  /** OpenNebula host name the VM is deployed to. */
  readonly host: string;
  /** The parsed deployment file. */
  readonly deployment: Deployment;
  /** Name of the deployment file (e.g. `deployment.0`): distinguishes a new deploy from a retry. */
  readonly deploymentName: string;
}

/**
 * A cloud that OpenNebula sees as a host. Every method is safe to repeat: oned retries actions.
 */
export interface Provider {
  /** Prefix of the facts in the monitoring string (`AWS`). */
  readonly factPrefix: string;

  /**
   * Checks a launch request without calling the cloud and returns a function that performs it.
   * Validation errors surface here, before any API call.
   *
   * @throws {InvalidInputError} when the template section is missing or invalid.
   */
  prepareLaunch(request: LaunchRequest): PreparedLaunch;

  /**
   * Describes one instance.
   *
   * @throws {NotFoundError} when the cloud does not know the id (which, shortly after launch,
   * is not proof that it is gone).
   * @throws {InvalidInputError} when the id is not a valid id for this provider.
   */
  describe(id: string): Promise<Instance>;

  /**
   * Terminates an instance. Terminating one that is already shutting down or terminated
   * succeeds without a second request.
   *
   * @throws {NotFoundError} when the cloud still does not know the id after the grace period.
   */
  terminate(id: string): Promise<Instance>;
}

/** A validated launch, ready to run. */
export interface PreparedLaunch {
  /** The idempotency token sent with the launch. */
  readonly token: string;
  /**
   * Launches the instance, or returns the one an earlier attempt with the same token launched.
   * @returns the instance (its id is the deploy id).
   */
  run(): Promise<Instance>;
}
