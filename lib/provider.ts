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
  /** The OpenNebula VM the driver launched the instance for, when it is tagged with one. */
  readonly ownerVmId?: number;
  /** Provider facts for the monitoring string, keys without prefix (`PUBLIC_IP_ADDRESS`). */
  readonly facts: Readonly<Record<string, string>>;
}

/** A state an action waits for, in provider-neutral words. */
export type StateGoal = "running" | "stopped" | "terminated";

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
   * Where this host's instances live (account, region, endpoint). Two hosts with the same
   * location see the same instances, so moving a VM between them needs no work.
   */
  readonly location: string;
  /** The location in words, for messages (`region us-east-1`). */
  readonly locationLabel: string;

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
   * Lists the instances the driver launched for a VM on a host that still exist (running or
   * stopped), found by the tags every launch puts on them. For a VM whose deploy never
   * returned an id.
   *
   * @param vmId OpenNebula VM id.
   * @param host OpenNebula host name.
   */
  findLaunched(vmId: number, host: string): Promise<Instance[]>;

  /**
   * Terminates an instance. Terminating one that is already shutting down or terminated
   * succeeds without a second request.
   *
   * @throws {NotFoundError} when the cloud still does not know the id after the grace period.
   */
  terminate(id: string): Promise<Instance>;

  /**
   * Stops (powers off) an instance, keeping it and its disks. Stopping a stopped one succeeds.
   *
   * @param options `force` skips the guest's orderly shutdown.
   * @returns the instance in the state the request left it (usually still stopping).
   */
  stop(id: string, options?: { force?: boolean }): Promise<Instance>;

  /**
   * Starts a stopped instance. Starting a running one succeeds.
   *
   * @returns the instance in the state the request left it (usually pending).
   */
  start(id: string): Promise<Instance>;

  /** Reboots a running instance in place. */
  reboot(id: string): Promise<void>;

  /**
   * Records a running instance without stopping it, as a machine image.
   *
   * @param name A name for the record, unique for this VM.
   * @param vmId The OpenNebula VM id, for its tags.
   * @returns the provider's id of the record (for EC2, an AMI id).
   */
  snapshot(id: string, name: string, vmId: number): Promise<string>;

  /**
   * Waits until an instance reaches a state, within the host's configured wait.
   *
   * @returns the instance in that state.
   * @throws {DeadlineError} naming the state reached when the wait runs out.
   * @throws {CloudError} when the instance ends somewhere it cannot come back from
   * (terminated while waiting for running).
   */
  waitFor(id: string, goal: StateGoal): Promise<Instance>;
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
