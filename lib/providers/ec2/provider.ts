/**
 * Amazon EC2 as an OpenNebula host: the `Provider` implementation.
 *
 * @module
 */

import { CloudError, DeadlineError, NotFoundError } from "../../util/errors.ts";
import type { HostSettings } from "../../core/config.ts";
import type {
  Instance,
  LaunchRequest,
  ListedInstance,
  PowerOffOptions,
  PreparedLaunch,
  Provider,
  Size,
  TerminateOutcome,
} from "../../core/provider.ts";
import { type Goal, isGone, runOrCleanUp, waitForState } from "../../core/provider_kit.ts";
import { sleep } from "../../util/sleep.ts";
import type { Ec2Api } from "./api.ts";
import { errorCode, failureKind, isNotFound, isTransient, toDriverError } from "./errors.ts";
import { BACKOFF, MIN_ATTEMPT_MS } from "../../util/retry.ts";
import {
  describeAll,
  findHeldByHost,
  findLaunchedForVm,
  isUnsupportedRequest,
  tagOf,
} from "./lookup.ts";
import { instanceIn, toInstance, toListedInstance } from "./instances.ts";
import { defaultCacheDir, instanceTypeSizes, type SizeCacheOptions } from "./type_sizes.ts";
import { type ElasticIp, type LaunchSpec, toLaunchSpec } from "./launch_spec.ts";
import { needsRootDeviceName, runInstancesInput } from "./run_input.ts";
import type { Ec2Connection } from "./settings.ts";
import {
  DRIVER_NAME,
  DRIVER_TAG,
  HOST_TAG,
  instanceTags,
  ownershipTags,
  tagValue,
  TOKEN_TAG,
  VM_ID_TAG,
} from "./tags.ts";
import { launchToken } from "./token.ts";
import { contextUserData } from "./user_data.ts";
import { checkInstanceId } from "./instance_id.ts";

export { checkInstanceId };

/** How many fresh tokens deploy tries when earlier ones name terminated instances. */
const MAX_RELAUNCHES = 5;

/**
 * RunInstances errors meaning a token cannot launch again: its instance was terminated, or EC2
 * saw it with other parameters. Deploy moves on to the next derived token.
 */
const SPENT_TOKEN_CODES = new Set(["IdempotentInstanceTerminated", "IdempotentParameterMismatch"]);

/** Delays between retries of a call answered with `InvalidInstanceID.NotFound`. */
const NOT_FOUND_BACKOFF_MS = [500, 1_000, 2_000, 4_000, 8_000];

/** RunInstances sendings with lost answers, by token: when the last answer was lost (ms). */
type LostLaunches = Map<string, number>;

/** Least time kept for terminating what a lost RunInstances launched, once found (ms). */
const MIN_LOOK_MS = 3_000;

/** Sendings of one RunInstances whose answers were lost, when no action deadline bounds them. */
const MAX_UNWINDOWED_SENDS = 3;

/**
 * Time a deploy keeps back from its launch and boot for cleaning up after a failure: a third
 * of the action's time, at least 10 s and at most 60 s.
 *
 * @param actionTimeoutSeconds The host's action timeout.
 * @returns Milliseconds.
 */
function cleanupReserveMs(actionTimeoutSeconds: number): number {
  return Math.min(60_000, Math.max(10_000, actionTimeoutSeconds * 1000 / 3));
}

export type { Goal };

/** Time a terminate keeps back from its request for asking after the instance (ms). */
const RECHECK_RESERVE_MS = 4_000;

/** Whether an error is a describe's answer that left the instance out. */
function isMissingFromAnswer(error: unknown): boolean {
  return error instanceof CloudError && error.code === MISSING_FROM_ANSWER;
}

/** The code of a DescribeInstances answer that leaves out the instance asked for. */
const MISSING_FROM_ANSWER = "InstanceMissingFromAnswer";

/** The description of a checkpoint image, which names the VM and the instance. */
function imageDescription(vmId: number, id: string): string {
  return `OpenNebula checkpoint of VM ${vmId} (${id})`;
}

/** EC2 behind the `Provider` interface. */
export class Ec2Provider implements Provider {
  readonly factPrefix = "AWS";
  readonly location: string;
  readonly locationLabel: string;
  readonly #api: Ec2Api;
  readonly #settings: HostSettings;
  readonly #signal: AbortSignal | undefined;
  readonly #sizeCache: SizeCacheOptions;
  readonly #sizeCacheLocation: string;

  /**
   * @param api The EC2 calls (the SDK client, or a fake).
   * @param settings The host's settings (defaults for template keys, waits, grace periods);
   * its `connection` is an `Ec2Connection`.
   * @param signal Ends every wait when the action's time is up.
   * @param sizeCache Where instance type sizes are cached (default: `defaultCacheDir()`).
   */
  constructor(
    api: Ec2Api,
    settings: HostSettings,
    signal?: AbortSignal,
    sizeCache?: SizeCacheOptions,
  ) {
    this.#api = api;
    this.#settings = settings;
    this.#signal = signal;
    const connection = settings.connection as Ec2Connection;
    this.#sizeCache = sizeCache ?? { dir: defaultCacheDir(), now: Date.now };
    this.#sizeCacheLocation = JSON.stringify([api.region ?? "", connection.endpoint ?? ""]);
    const account = connection.accessKeyId ?? connection.profile ?? "default credentials";
    this.location = JSON.stringify(["ec2", api.region ?? "", connection.endpoint ?? "", account]);
    this.locationLabel = `region ${api.region ?? "(SDK default)"}${
      connection.endpoint ? ` at ${connection.endpoint}` : ""
    }`;
  }

  /**
   * Validates the template's EC2 section and the user data; the returned launch is idempotent
   * by its token.
   */
  prepareLaunch(request: LaunchRequest): PreparedLaunch {
    const { attributes, origin } = request.section;
    const checked = toLaunchSpec(attributes, this.#settings.template, origin);
    const contextData = checked.userData === undefined
      ? contextUserData(request, checked.contextFormat ?? "cloud-config")
      : undefined;
    const spec: LaunchSpec = contextData === undefined
      ? checked
      : { ...checked, userData: contextData };
    const base = spec.clientToken;
    const token = base ?? launchToken(request, attributes);
    return {
      size: spec.instanceType,
      run: () => this.#launchAndBoot(request, spec, token, base !== undefined),
    };
  }

  /**
   * Launches (or finds the earlier launch of) the instance and waits until it runs. An
   * instance an earlier attempt left stopped is started. A deploy is all or nothing: when the
   * instance does not come up (or its Elastic IP cannot be associated), it is terminated before
   * the failure is reported, so oned's failed deploy leaves nothing running and billing, and a
   * retried deploy launches afresh. A RunInstances whose answer was lost may have launched an
   * instance all the same: such instances are looked for by their launch tags and token, and
   * every one of them but the instance reported is terminated. The launch and the boot keep
   * back part of the action's time (a third, within 10–60 s) for this clean-up.
   */
  async #launchAndBoot(
    request: LaunchRequest,
    spec: LaunchSpec,
    token: string,
    fixed: boolean,
  ): Promise<Instance> {
    const lost: LostLaunches = new Map();
    const window = this.#api.window;
    const reserve = cleanupReserveMs(this.#settings.actionTimeoutSeconds);
    const phase = <T>(work: () => Promise<T>) => window ? window.reserving(reserve, work) : work();
    let instance = await runOrCleanUp(
      () => phase(() => this.#launch(request, spec, token, fixed, lost)),
      (error) => this.#error(error, "Cannot launch instance"),
      async () => {
        if (lost.size === 0) return undefined;
        return await this.#abandon(undefined, request.vmId, lost);
      },
    );
    return await runOrCleanUp(
      () =>
        phase(async () => {
          if (instance.state === "stopping") await this.waitFor(instance.id, "stopped");
          if (instance.state === "stopped" || instance.state === "stopping") {
            await this.#start(instance.id);
          }
          if (instance.state !== "running") instance = await this.waitFor(instance.id, "running");
          if (spec.elasticIp) instance = await this.#attachElasticIp(instance, spec.elasticIp);
          if (lost.size > 0) await this.#terminateLost(request.vmId, lost, instance.id, false);
          return instance;
        }),
      (error) => this.#error(error, `Cannot boot ${instance.id}`),
      () => this.#abandon(instance.id, request.vmId, lost),
    );
  }

  /**
   * Terminates what a failed deploy launched: its instance, when known, and any instance a
   * lost RunInstances answer may have launched; says what became of each.
   */
  async #abandon(id: string | undefined, vmId: number, lost: LostLaunches): Promise<string> {
    const outcomes: string[] = [];
    const ended: string[] = [];
    const codeOf = (error: unknown) => error instanceof CloudError ? error.code : "UnknownError";
    let failed: string | undefined;
    if (id !== undefined) {
      try {
        await this.#requestTermination(id);
        ended.push(id);
      } catch (error) {
        failed = `instance ${id} could not be terminated (${codeOf(error)})`;
      }
    }
    if (lost.size > 0) {
      try {
        const swept = await this.#terminateLost(vmId, lost, id, true);
        ended.push(...swept);
        if (swept.length === 0 && id === undefined) {
          outcomes.push("no instance of the RunInstances whose answer was lost was found");
        }
      } catch (error) {
        failed = `${
          failed ? `${failed}; ` : ""
        }an instance of the RunInstances whose answer was lost could not be looked for or terminated (${
          codeOf(error)
        })`;
      }
    }
    if (ended.length > 0) {
      outcomes.unshift(
        ended.length > 1
          ? `instances ${ended.join(", ")} were terminated`
          : `instance ${ended[0]} was terminated`,
      );
    }
    if (failed) outcomes.push(`${failed}; it is tagged ${VM_ID_TAG}=${vmId}`);
    return outcomes.join("; ");
  }

  /**
   * Looks for the live instances that RunInstances calls with lost answers launched (by the
   * VM's tags and those calls' tokens) and terminates every one but `keep`. A new instance may
   * stay out of EC2's answers for a while: when `untilVisible`, it is looked for again until
   * `notFoundRetrySeconds` after the last lost answer (or the action's time is nearly up);
   * otherwise once (after a boot, the instance kept, launched last, is already visible).
   *
   * @returns The ids terminated.
   */
  async #terminateLost(
    vmId: number,
    lost: LostLaunches,
    keep: string | undefined,
    untilVisible: boolean,
  ): Promise<string[]> {
    const lastLost = Math.max(...lost.values());
    const lookUntil = Math.min(
      lastLost + this.#settings.notFoundRetrySeconds * 1000,
      (this.#api.window?.end(Date.now()) ?? Infinity) - MIN_LOOK_MS,
    );
    const terminated: string[] = [];
    for (;;) {
      const found = (await findLaunchedForVm(this.#api, vmId)).filter((i) =>
        i.InstanceId !== keep && !terminated.includes(i.InstanceId ?? "") &&
        lost.has(tagOf(i, TOKEN_TAG) ?? i.ClientToken ?? "")
      );
      for (const instance of found) {
        const id = instance.InstanceId!;
        await this.#requestTermination(id);
        terminated.push(id);
      }
      if (!untilVisible || Date.now() + this.#settings.statePollSeconds * 1000 > lookUntil) {
        return terminated;
      }
      await sleep(this.#settings.statePollSeconds * 1000, this.#signal);
    }
  }

  /**
   * Associates the template's Elastic IP with a running instance (nothing to do when it
   * already is). An address another instance holds is never taken.
   */
  async #attachElasticIp(instance: Instance, address: ElasticIp): Promise<Instance> {
    const wanted = "allocationId" in address ? address.allocationId : address.publicIp;
    try {
      const out = await this.#api.describeAddresses(
        "allocationId" in address
          ? { AllocationIds: [address.allocationId] }
          : { PublicIps: [address.publicIp] },
      );
      const found = out.Addresses?.[0];
      if (!found?.AllocationId) {
        throw new CloudError(
          "InvalidAddress.NotFound",
          `Cannot associate Elastic IP ${wanted} with ${instance.id}: InvalidAddress.NotFound (the account has no such address in this region)`,
        );
      }
      if (found.InstanceId !== instance.id) {
        // EC2 moves an address that another instance holds unless told not to: never take
        // one from another VM.
        await this.#api.associateAddress({
          InstanceId: instance.id,
          AllocationId: found.AllocationId,
          AllowReassociation: false,
        });
      }
      return await this.describe(instance.id);
    } catch (error) {
      throw this.#error(error, `Cannot associate Elastic IP ${wanted} with ${instance.id}`);
    }
  }

  /**
   * Returns the live instance an earlier attempt of this deploy launched (found by its launch
   * tags, token included), or launches one. Tokens go in order: the deploy's own, then derived
   * ones; a token whose instance EC2 reports terminated (`IdempotentInstanceTerminated`, or the
   * launch answered with a terminated instance) or that EC2 saw with other parameters
   * (`IdempotentParameterMismatch`) is passed over. Every live earlier instance is looked for
   * before anything is launched, so an endpoint that does not deduplicate tokens (moto,
   * LocalStack) never gets a second launch for a retried deploy.
   */
  async #launch(
    request: LaunchRequest,
    spec: LaunchSpec,
    token: string,
    fixed: boolean,
    lost: LostLaunches,
  ): Promise<Instance> {
    const attempts = fixed ? 1 : MAX_RELAUNCHES;
    const candidates = Array.from(
      { length: attempts },
      (_, i) => i === 0 ? token : `${token}-r${i}`,
    );
    const earlier = await findLaunchedForVm(this.#api, request.vmId);
    for (const candidate of candidates) {
      const found = earlier.find((i) =>
        tagOf(i, TOKEN_TAG) === candidate || i.ClientToken === candidate
      );
      if (found) return toInstance(found);
    }
    for (const candidate of candidates) {
      const launched = await this.#run(request, spec, candidate, lost);
      if (launched && !isGone(launched)) return launched;
    }
    throw new CloudError(
      "TokenExhausted",
      fixed
        ? `Cannot launch instance: CLIENTTOKEN ${token} already launched an instance that is now terminated, or was used with other parameters; remove or change CLIENTTOKEN`
        : `Cannot launch instance: the last ${attempts} launches for this deployment are terminated`,
    );
  }

  /**
   * RunInstances with one token; undefined when EC2 says the token is spent (terminated or
   * mismatched). When an answer is lost (the call may have launched the instance), the
   * instance is looked for by its tags and token before the call is sent again with the same
   * token (which EC2 deduplicates), and the token is recorded in `lost` for the clean-up.
   */
  async #run(
    request: LaunchRequest,
    spec: LaunchSpec,
    token: string,
    lost: LostLaunches,
  ): Promise<Instance | undefined> {
    const tags = instanceTags(request.vmId, request.host, request.vmName, spec.tags, token);
    const rootDevice = needsRootDeviceName(spec)
      ? (await this.#api.describeImages({ ImageIds: [spec.imageId] })).Images?.[0]?.RootDeviceName
      : undefined;
    const input = runInstancesInput(spec, token, tags, rootDevice);
    const until = this.#api.window?.end(Date.now());
    for (let sent = 1;; sent++) {
      try {
        const out = await this.#api.runInstances(input);
        const first = out.Instances?.[0];
        if (!first?.InstanceId) {
          throw new CloudError("EmptyResponse", "Cannot launch instance: EC2 returned no instance");
        }
        return toInstance(first);
      } catch (error) {
        if (SPENT_TOKEN_CODES.has(errorCode(error) ?? "")) return undefined;
        const kind = failureKind(error);
        if (kind === "lost" || kind === "unreadable") lost.set(token, Date.now());
        if (kind !== "lost") throw error;
        const found = (await findLaunchedForVm(this.#api, request.vmId)).find((i) =>
          tagOf(i, TOKEN_TAG) === token || i.ClientToken === token
        );
        if (found) return toInstance(found);
        if (!await this.#pauseToResend(sent, until)) throw error;
      }
    }
  }

  /** The live instances launched for a VM on a host, found by their tags. */
  async findLaunched(vmId: number, host: string): Promise<Instance[]> {
    try {
      const found = await findLaunchedForVm(this.#api, vmId);
      return found.filter((i) => tagOf(i, HOST_TAG) === tagValue(host)).map(toInstance);
    } catch (error) {
      throw this.#error(error, `Cannot look for the instances of VM ${vmId}`);
    }
  }

  /** Every instance of the account and region: one DescribeInstances per 1,000 instances. */
  async list(): Promise<ListedInstance[]> {
    try {
      return (await describeAll(this.#api, undefined)).map(toListedInstance);
    } catch (error) {
      throw this.#error(error, "Cannot list the instances");
    }
  }

  /** The pending and running instances launched for a host: one filtered DescribeInstances. */
  async listForHost(host: string): Promise<ListedInstance[]> {
    try {
      return (await findHeldByHost(this.#api, host)).map(toListedInstance);
    } catch (error) {
      throw this.#error(error, `Cannot list the instances of host ${host}`);
    }
  }

  /**
   * The sizes of instance types: cached answers of DescribeInstanceTypes, the driver's table
   * of common types when EC2 cannot say.
   */
  sizes(names: readonly string[]): Promise<ReadonlyMap<string, Size>> {
    return instanceTypeSizes(this.#api, names, this.#sizeCacheLocation, this.#sizeCache);
  }

  /** Describes one instance; NotFoundError when EC2 does not know it. */
  async describe(id: string): Promise<Instance> {
    checkInstanceId(id);
    try {
      const out = await this.#api.describeInstances({ InstanceIds: [id] });
      const found = out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) =>
        i.InstanceId === id
      );
      if (!found) {
        // EC2 answers an unknown id with InvalidInstanceID.NotFound; an answer that merely
        // leaves it out (an endpoint ignoring InstanceIds, a broken proxy) proves nothing.
        throw new CloudError(
          MISSING_FROM_ANSWER,
          `Cannot describe ${id}: DescribeInstances answered without it and without InvalidInstanceID.NotFound; not taken as gone`,
        );
      }
      return toInstance(found);
    } catch (error) {
      throw this.#error(error, `Cannot describe ${id}`);
    }
  }

  /**
   * Terminates an instance and waits until it is terminated. An instance already terminated,
   * or still unknown to EC2 after the grace period (a "not found" right after launch may only
   * mean it is not visible yet, so it is asked again for a few seconds), counts as ended.
   */
  async terminate(id: string): Promise<TerminateOutcome> {
    checkInstanceId(id);
    let state: string;
    try {
      const window = this.#api.window;
      const request = () => this.#requestTermination(id);
      state = await (window ? window.reserving(RECHECK_RESERVE_MS, request) : request());
    } catch (error) {
      // Every answer to TerminateInstances was lost or refused for a while: it may have been
      // applied all the same, so the instance is asked for before the failure is reported.
      if (!(error instanceof CloudError) || !isTransient(error)) throw error;
      const seen = await this.describe(id).catch(() => undefined);
      if (seen === undefined || !isGone(seen)) throw error;
      state = seen.nativeState;
    }
    if (state === "gone") return state;
    if (state !== "terminated") {
      try {
        await this.waitFor(id, "terminated");
      } catch (error) {
        // EC2 accepted the termination, which nothing undoes: only the wait's answers failed.
        if (error instanceof CloudError && error.code === "InstanceGone") throw error;
        if (!(error instanceof DeadlineError)) throw error;
      }
    }
    return "terminated";
  }

  /** One TerminateInstances, not waited on; an id EC2 does not know counts as done. */
  async requestTerminate(id: string): Promise<void> {
    checkInstanceId(id);
    try {
      await this.#api.terminateInstances({ InstanceIds: [id] });
    } catch (error) {
      if (!isNotFound(error)) throw this.#error(error, `Cannot terminate ${id}`);
    }
  }

  /** TerminateInstances, asked again while EC2 may not see the id yet; the state it answers. */
  async #requestTermination(id: string): Promise<string> {
    for (let attempt = 0;; attempt++) {
      try {
        const out = await this.#api.terminateInstances({ InstanceIds: [id] });
        return out.TerminatingInstances?.find((i) => i.InstanceId === id)?.CurrentState?.Name ??
          "shutting-down";
      } catch (error) {
        if (!isNotFound(error)) throw this.#error(error, `Cannot terminate ${id}`);
        const delay = NOT_FOUND_BACKOFF_MS[attempt];
        if (delay === undefined || this.#pastRetryWindow(attempt)) return "gone";
        await sleep(delay, this.#signal);
      }
    }
  }

  /**
   * Stops the instance (`hard`: without the guest's orderly shutdown) and waits until it is
   * stopped. EC2 keeps a stopped instance and its EBS volumes whatever OpenNebula's reason
   * (power-off, undeploy or suspend), so the reason changes nothing here.
   */
  async powerOff(id: string, options: PowerOffOptions): Promise<Instance> {
    checkInstanceId(id);
    let state: string;
    try {
      const out = await this.#api.stopInstances({
        InstanceIds: [id],
        ...(options.hard ? { Force: true } : {}),
      });
      state = out.StoppingInstances?.find((i) => i.InstanceId === id)?.CurrentState?.Name ??
        "stopping";
    } catch (error) {
      throw this.#error(error, `Cannot stop ${id}`);
    }
    return state === "stopped" ? instanceIn(id, state) : await this.waitFor(id, "stopped");
  }

  /** Starts a stopped instance and waits until it runs. */
  async resume(id: string): Promise<Instance> {
    checkInstanceId(id);
    const state = await this.#start(id);
    return state === "running" ? instanceIn(id, state) : await this.waitFor(id, "running");
  }

  /**
   * A hard restart. EC2 has no reset button: the instance is force-stopped, then started, and
   * this returns when it runs. Like any EC2 stop/start it may move to other hardware and gets a
   * new public IP unless it has an Elastic IP.
   */
  async reset(id: string): Promise<Instance> {
    await this.powerOff(id, { hard: true, reason: "poweroff" });
    return await this.resume(id);
  }

  /** StartInstances; the state it answers. */
  async #start(id: string): Promise<string> {
    try {
      const out = await this.#api.startInstances({ InstanceIds: [id] });
      return out.StartingInstances?.find((i) => i.InstanceId === id)?.CurrentState?.Name ??
        "pending";
    } catch (error) {
      throw this.#error(error, `Cannot start ${id}`);
    }
  }

  /** Reboots a running instance (EC2 RebootInstances). */
  async reboot(id: string): Promise<void> {
    checkInstanceId(id);
    try {
      await this.#api.rebootInstances({ InstanceIds: [id] });
    } catch (error) {
      throw this.#error(error, `Cannot reboot ${id}`);
    }
  }

  /**
   * Creates an AMI of the instance without rebooting it, tagged with the VM id (its snapshots
   * too). An endpoint that cannot tag snapshots at creation (moto) gets the image tagged alone;
   * one that cannot tag at creation at all gets a plain request (the description names the VM).
   */
  async snapshot(id: string, name: string, vmId: number): Promise<string> {
    checkInstanceId(id);
    const tags = [
      { Key: VM_ID_TAG, Value: String(vmId) },
      { Key: DRIVER_TAG, Value: DRIVER_NAME },
      { Key: "Name", Value: name },
    ];
    const tagSpecifications = [
      [{ ResourceType: "image" as const, Tags: tags }, {
        ResourceType: "snapshot" as const,
        Tags: tags,
      }],
      [{ ResourceType: "image" as const, Tags: tags }],
      undefined,
    ];
    const until = this.#api.window?.end(Date.now());
    let sent = 0;
    for (let index = 0; index < tagSpecifications.length;) {
      const specification = tagSpecifications[index];
      try {
        sent++;
        const out = await this.#api.createImage({
          InstanceId: id,
          Name: name,
          Description: imageDescription(vmId, id),
          NoReboot: true,
          ...(specification ? { TagSpecifications: specification } : {}),
        });
        if (!out.ImageId) {
          throw new CloudError(
            "EmptyResponse",
            `Cannot create an image of ${id}: EC2 returned no image id`,
          );
        }
        return out.ImageId;
      } catch (error) {
        // An earlier CreateImage of this checkpoint whose answer was lost may have made the
        // image: one of this name made for this VM is ours.
        const lostOrTaken = failureKind(error) === "lost" ||
          errorCode(error) === "InvalidAMIName.Duplicate";
        const earlier = lostOrTaken
          ? await this.#imageOf(name, vmId, id).catch((e) => {
            throw this.#error(e, `Cannot create an image of ${id}`);
          })
          : undefined;
        if (earlier !== undefined) return earlier;
        const lost = failureKind(error) === "lost";
        // An endpoint that cannot take a tag specification may say so with a server error
        // (moto answers an HTML 500 page): a lost answer moves on to the plainer request too.
        if (index + 1 < tagSpecifications.length && (lost || isUnsupportedRequest(error))) {
          index++;
          continue;
        }
        if (lost && await this.#pauseToResend(sent, until)) continue;
        throw this.#error(error, `Cannot create an image of ${id}`);
      }
    }
    throw new CloudError("EmptyResponse", `Cannot create an image of ${id}`);
  }

  /**
   * Pauses before a call whose answer was lost is sent again (a jittered pause doubling with
   * each sending), when one more sending fits before `until` (without a window, three
   * sendings at most).
   *
   * @returns false, without pausing, when there is no room for another sending.
   */
  async #pauseToResend(sent: number, until: number | undefined): Promise<boolean> {
    const pause = Math.min(BACKOFF.capMs, BACKOFF.baseMs * 2 ** sent) * (0.5 + Math.random() / 2);
    const room = until === undefined
      ? sent < MAX_UNWINDOWED_SENDS
      : pause + MIN_ATTEMPT_MS <= until - Date.now();
    if (room) await sleep(pause, this.#signal);
    return room;
  }

  /** The id of the image of this name made for this VM's instance, if there is one. */
  async #imageOf(name: string, vmId: number, id: string): Promise<string | undefined> {
    const out = await this.#api.describeImages({
      Owners: ["self"],
      Filters: [{ Name: "name", Values: [name] }],
    });
    return out.Images?.find((image) =>
      image.Name === name && image.ImageId &&
      (image.Tags?.some((t) => t.Key === VM_ID_TAG && t.Value === String(vmId)) ||
        image.Description === imageDescription(vmId, id))
    )?.ImageId;
  }

  /**
   * Moves the instance's host tag to its new host (CreateTags overwrites a tag of the same
   * key); its other tags, and the instance, are left as they are.
   */
  async rehome(id: string, host: string, _vmId: number): Promise<void> {
    checkInstanceId(id);
    try {
      await this.#api.createTags({
        Resources: [id],
        Tags: [{ Key: HOST_TAG, Value: tagValue(host) }],
      });
    } catch (error) {
      throw this.#error(error, `Cannot tag ${id} with its new host ${host}`);
    }
  }

  /**
   * Adopts an instance OpenNebula's built-in EC2 driver launched: one CreateTags adds the
   * driver's VM, host and driver tags (its own, `ONE_ID` included, are left as they are).
   */
  async adopt(id: string, host: string, vmId: number): Promise<void> {
    checkInstanceId(id);
    try {
      await this.#api.createTags({ Resources: [id], Tags: ownershipTags(vmId, host) });
    } catch (error) {
      throw this.#error(error, `Cannot tag ${id} as VM ${vmId}'s`);
    }
  }

  /**
   * Polls DescribeInstances until the instance reaches the goal, with growing pauses, for at
   * most the host's `stateWaitSeconds` (`waitForState`). A "not found" while waiting is asked
   * again (it may be eventual consistency), except when waiting for termination, where it means
   * gone; so is a transient failure (throttling, a server error, no answer), which says nothing
   * about the instance. The provider's operations wait with it; it is not part of the
   * `Provider` seam.
   */
  waitFor(id: string, goal: Goal): Promise<Instance> {
    return waitForState({
      id,
      goal,
      settings: this.#settings,
      window: this.#api.window,
      signal: this.#signal,
      describe: () => this.describe(id),
      ended: () => instanceIn(id, "terminated"),
      unsettled: (error) => {
        // Right after a launch an instance may be unknown for a while: asked again until the
        // wait's end. After a termination, it is gone.
        if (error instanceof NotFoundError) return "not found";
        // An answer that leaves the instance out proves nothing: asked again.
        if (isMissingFromAnswer(error)) return "left out of the answer";
        // Throttled or no answer: the instance did not fail, asking later may work.
        if (isTransient(error) && error instanceof CloudError) return `unknown (${error.code})`;
        return undefined;
      },
      stray: (instance) => {
        const reason = instance.facts.STATE_REASON ? ` (${instance.facts.STATE_REASON})` : "";
        return new CloudError(
          "InstanceGone",
          `${id} is ${instance.nativeState}${reason} while waiting for it to be ${goal}`,
        );
      },
    });
  }

  #pastRetryWindow(attempt: number): boolean {
    const waited = NOT_FOUND_BACKOFF_MS.slice(0, attempt + 1).reduce((a, b) => a + b, 0);
    return waited > this.#settings.notFoundRetrySeconds * 1000;
  }

  #error(error: unknown, doing: string) {
    return toDriverError(error, doing, { host: this.#settings.host, region: this.#api.region });
  }
}
