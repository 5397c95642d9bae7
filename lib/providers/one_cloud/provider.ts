/**
 * A partner OpenNebula cloud as an OpenNebula host: the `Provider` implementation. A local VM
 * becomes a VM instantiated from a partner template (`one.template.instantiate`), marked with
 * the local VM's id and host; every later action is a `one.vm.action` on it, and returns once
 * the partner reports the state it asked for.
 *
 * @module
 */

import type { HostSettings } from "../../core/config.ts";
import { CloudError, DeadlineError, InvalidInputError, NotFoundError } from "../../util/errors.ts";
import type {
  AccountQuota,
  Instance,
  LaunchRequest,
  ListedInstance,
  PowerOffOptions,
  PreparedLaunch,
  Provider,
  Size,
  TerminateOutcome,
} from "../../core/provider.ts";
import {
  asDriverError,
  type Goal,
  isGone,
  runOrCleanUp,
  waitForState,
} from "../../core/provider_kit.ts";
import { child, type XmlElement } from "../../util/xml.ts";
import type { FactStore } from "../../core/kept_fact.ts";
import { ONE_ERROR, type PartnerCalls } from "./api.ts";
import { type Intent, nextStep, terminateName } from "./action_names.ts";
import { type KnownRelease, PartnerReleases } from "./learn_release.ts";
import type { OneRelease } from "./release.ts";
import type { OneCloudConnection } from "./settings.ts";
import { readVmQuota } from "./quota.ts";
import { templateKeyProblem } from "./template_keys.ts";
import {
  DEPLOY_ID_PREFIX,
  DRIVER_NAME,
  launchName,
  MARK,
  parseSizeName,
  partnerIdOf,
  type PartnerVm,
  quotaChargeOf,
  readVm,
  sizeName,
  waitEnds,
} from "./vm.ts";

export { partnerIdOf };

/** Text for an XML element's content. */
function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Whether the partner refused an action (its name, or the VM's state), as oned words it. */
function isRefusal(error: unknown): boolean {
  return error instanceof CloudError &&
    (error.code === String(ONE_ERROR.ACTION) || error.code === String(ONE_ERROR.AUTHORIZATION));
}

/** A partner OpenNebula cloud behind the `Provider` interface. */
export class OneCloudProvider implements Provider {
  readonly factPrefix = "ONE";
  readonly location: string;
  readonly locationLabel: string;
  readonly #api: PartnerCalls;
  readonly #settings: HostSettings;
  readonly #signal: AbortSignal | undefined;
  readonly #releases: PartnerReleases;

  /**
   * @param api The partner's calls (a `PartnerApi`, or a fake).
   * @param settings The host's settings; its `connection` is a `OneCloudConnection`.
   * @param signal Ends every wait when the action's time is up.
   * @param keptRelease Where the partner's release is kept between processes; without it, the
   *   provider asks the partner when an action needs it.
   */
  constructor(
    api: PartnerCalls,
    settings: HostSettings,
    signal?: AbortSignal,
    keptRelease?: FactStore,
  ) {
    this.#api = api;
    this.#settings = settings;
    this.#signal = signal;
    this.#releases = new PartnerReleases(api, keptRelease);
    const connection = settings.connection as OneCloudConnection;
    const account = connection.user ?? connection.authFile ?? "";
    this.location = JSON.stringify(["opennebula", connection.endpoint, account]);
    this.locationLabel = `partner cloud at ${connection.endpoint}`;
  }

  /**
   * Checks the section (a numeric `TEMPLATE_ID`, known keys only) before any call; the launch
   * instantiates the template unless an earlier attempt's VM is there.
   */
  prepareLaunch(request: LaunchRequest): PreparedLaunch {
    const { attributes, origin } = request.section;
    for (const key of Object.keys(attributes)) {
      const problem = templateKeyProblem(key, origin, true);
      if (problem !== undefined) {
        throw new InvalidInputError(`Invalid ${origin} section: ${key}: ${problem}`);
      }
    }
    const templateId = attributes.TEMPLATE_ID ?? this.#settings.template.TEMPLATE_ID;
    if (templateId === undefined || templateId === "") {
      throw new InvalidInputError(
        `The ${origin} section of TYPE opennebula has no TEMPLATE_ID (the partner template to instantiate)`,
      );
    }
    if (!/^\d{1,9}$/.test(templateId)) {
      throw new InvalidInputError(
        `Invalid ${origin} section: TEMPLATE_ID must be the number of a partner template`,
      );
    }
    const context = request.contextVariables();
    const reserved = request.reserved;
    // The template is read once, for the quota check's charge and for the instantiate.
    let template: Promise<XmlElement> | undefined;
    const templateOf = () => template ??= this.#template(request.vmId, Number(templateId));
    return {
      // The partner template sets the VM's size; what OpenNebula reserves on this host is what
      // the host's capacity counts.
      ...(reserved ? { size: sizeName(reserved.vcpus, reserved.memoryMiB) } : {}),
      // What the partner's quota will charge: the template's CPU and MEMORY.
      charged: async () => quotaChargeOf(child(await templateOf(), "TEMPLATE")),
      run: () => this.#launchAndBoot(request, Number(templateId), context, templateOf),
    };
  }

  /** The partner template a deploy instantiates (`one.template.info`). */
  #template(vmId: number, templateId: number): Promise<XmlElement> {
    const doing = `Cannot deploy VM ${vmId}: partner template ${templateId}`;
    return this.#api.document(doing, "VMTEMPLATE", "one.template.info", templateId).catch(
      (error) => {
        throw error instanceof NotFoundError
          ? new CloudError("NoSuchTemplate", error.message, { cause: error })
          : error;
      },
    );
  }

  /**
   * Takes the VM an earlier attempt of this deploy instantiated, or instantiates the template,
   * and waits until it runs. A VM that does not come up is terminated before the failure is
   * reported (once the partner accepts it: on 5.0+ not before the VM leaves PROLOG or BOOT), so
   * a failed deploy leaves nothing running on the partner.
   */
  async #launchAndBoot(
    request: LaunchRequest,
    templateId: number,
    context: Readonly<Record<string, string>> | undefined,
    template: () => Promise<XmlElement>,
  ): Promise<Instance> {
    const [earlier] = await this.findLaunched(request.vmId, request.host);
    const id = earlier?.id ??
      await this.#instantiate(request, templateId, context, await template());
    return await runOrCleanUp(
      async () => {
        if (earlier?.state === "stopping") await this.#waitFor(id, "stopped");
        if (earlier?.state === "stopping" || earlier?.state === "stopped") {
          await this.#action(id, "resume");
        }
        return await this.#waitFor(id, "running");
      },
      asDriverError,
      async () => {
        try {
          await this.#perform(id, "terminate", "terminated");
          return `partner VM ${id} was terminated`;
        } catch (cleanup) {
          const why = cleanup instanceof CloudError
            ? cleanup.code
            : cleanup instanceof DeadlineError
            ? cleanup.message
            : "unknown error";
          return `partner VM ${id} could not be terminated (${why}); it is named ${
            launchName(request.vmId, request.host)
          }`;
        }
      },
    );
  }

  /**
   * Instantiates the partner template with the marks and the VM's context: the context
   * variables go over the template's own `CONTEXT` (kept, as the partner's networks and
   * one-context settings are there), since an extra `CONTEXT` would replace it whole.
   */
  async #instantiate(
    request: LaunchRequest,
    templateId: number,
    context: Readonly<Record<string, string>> | undefined,
    template: XmlElement,
  ): Promise<string> {
    const own = child(child(template, "TEMPLATE") ?? template, "CONTEXT");
    const merged: Record<string, string> = {};
    for (const element of own?.children ?? []) merged[element.name] = element.text;
    Object.assign(merged, context ?? {});
    const attributes: [string, string][] = [
      [MARK.remote, "YES"],
      [MARK.vmId, String(request.vmId)],
      [MARK.host, request.host],
      [MARK.driver, DRIVER_NAME],
    ];
    const xml = "<TEMPLATE>" +
      attributes.map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join("") +
      (Object.keys(merged).length > 0
        ? `<CONTEXT>${
          Object.entries(merged).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join("")
        }</CONTEXT>`
        : "") +
      "</TEMPLATE>";
    const name = launchName(request.vmId, request.host);
    const result = await this.#api.call(
      `Cannot deploy VM ${request.vmId} from partner template ${templateId}`,
      "one.template.instantiate",
      templateId,
      name,
      false,
      xml,
    );
    if (typeof result !== "number") {
      throw new CloudError(
        "InvalidResponse",
        `Cannot deploy VM ${request.vmId}: ${this.#api.where} answered one.template.instantiate without a VM id`,
      );
    }
    return `${DEPLOY_ID_PREFIX}${result}`;
  }

  /** Describes one partner VM; NotFoundError when the partner does not know it. */
  async describe(id: string): Promise<Instance> {
    return await this.#vm(id);
  }

  async #vm(id: string): Promise<PartnerVm> {
    const partnerId = partnerIdOf(id);
    const doing = `Cannot describe ${id}`;
    const document = await this.#api.document(doing, "VM", "one.vm.info", partnerId);
    const vm = readVm(document);
    if (vm === undefined || vm.partnerId !== partnerId) {
      throw new CloudError(
        "InvalidResponse",
        `${doing}: ${this.#api.where} answered one.vm.info with another VM's document or one without ID, STATE and LCM_STATE`,
      );
    }
    return vm;
  }

  /** The live VMs launched for a VM on a host, found by their marks. */
  async findLaunched(vmId: number, host: string): Promise<Instance[]> {
    const listed = await this.#list(`Cannot look for the partner VMs of VM ${vmId}`);
    return listed.filter((vm) =>
      vm.launchedByDriver && vm.ownerVmId === vmId && vm.ownerHost === host && !isGone(vm)
    );
  }

  /** Every VM of the partner user (one pool listing). */
  list(): Promise<ListedInstance[]> {
    return this.#list("Cannot list the partner VMs");
  }

  /** The pending and running partner VMs launched for a host. */
  async listForHost(host: string): Promise<ListedInstance[]> {
    const listed = await this.#list(`Cannot list the partner VMs of host ${host}`);
    return listed.filter((vm) =>
      vm.launchedByDriver && vm.ownerHost === host &&
      (vm.state === "pending" || vm.state === "running")
    );
  }

  async #list(doing: string): Promise<PartnerVm[]> {
    return (await this.#api.vmPool(doing, readVm)).flatMap((vm) => vm ?? []);
  }

  /** Partner VM sizes are named by their resources (`2vcpu.4096mib`): no call needed. */
  sizes(names: readonly string[]): Promise<ReadonlyMap<string, Size>> {
    const found = new Map<string, Size>();
    for (const name of names) {
      const size = parseSizeName(name);
      if (size) found.set(name, size);
    }
    return Promise.resolve(found);
  }

  /**
   * Powers the VM off and waits until the partner reports it off: `poweroff` (`-hard`),
   * `undeploy` (`-hard`: the partner frees its host and keeps the disks), or `suspend`. A VM on
   * its way up is waited for until it runs; one powering off already is waited for, except that
   * a hard power-off takes over a soft one in progress where the partner allows it (6.0+).
   */
  async powerOff(id: string, options: PowerOffOptions): Promise<Instance> {
    const vm = await this.#vm(id);
    if (vm.state === "stopped") return vm;
    const intent = options.reason === "suspend"
      ? "suspend"
      : options.hard
      ? `${options.reason}-hard` as const
      : options.reason;
    return await this.#perform(id, intent, "stopped", vm) ?? await this.#waitFor(id, "stopped");
  }

  /** Resumes a powered-off, suspended, stopped or undeployed VM and waits until it runs. */
  async resume(id: string): Promise<Instance> {
    const vm = await this.#vm(id);
    if (vm.state === "running") return vm;
    if (isGone(vm)) {
      throw new CloudError(
        "InstanceGone",
        `Cannot resume ${id}: the partner VM is ${vm.nativeState}`,
      );
    }
    if (vm.state === "stopping") await this.#waitFor(id, "stopped");
    if (vm.state !== "pending") await this.#action(id, "resume");
    return await this.#waitFor(id, "running");
  }

  /** Reboots the guest in place (`reboot`: ACPI). */
  async reboot(id: string): Promise<void> {
    await this.#action(id, "reboot");
  }

  /** Resets the VM (`reboot-hard`) and returns once it runs. */
  async reset(id: string): Promise<Instance> {
    await this.#action(id, "reboot-hard");
    return await this.#waitFor(id, "running");
  }

  /**
   * Terminates the VM (as EC2 ends an instance: its disks are not kept) and waits until the
   * partner reports it DONE: `terminate-hard` (4.14: `shutdown-hard`, or `delete` where that is
   * refused), sent once the VM is in a state where the partner accepts it (a VM in PROLOG, BOOT
   * or migrating is waited for on 5.0+). One already done, or unknown, counts as ended.
   */
  async terminate(id: string): Promise<TerminateOutcome> {
    let vm: PartnerVm;
    try {
      vm = await this.#vm(id);
    } catch (error) {
      if (error instanceof NotFoundError) return "gone";
      throw error;
    }
    if (vm.state === "terminated") return "terminated";
    if (!await this.#perform(id, "terminate", "terminated", vm)) {
      await this.#waitFor(id, "terminated");
    }
    return "terminated";
  }

  /**
   * One terminate, not waited on (`terminate-hard`; 4.14: `delete`, which takes any state); a
   * VM the partner does not know counts as done.
   */
  async requestTerminate(id: string): Promise<void> {
    partnerIdOf(id);
    const doing = `Cannot terminate ${id}`;
    try {
      let release: KnownRelease | undefined = await this.#releases.known(doing);
      while (release !== undefined) {
        const fresher: OneRelease | undefined = await this.#send(
          id,
          terminateName(release.release),
          release,
        );
        release = fresher && { release: fresher, kept: false };
      }
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  /**
   * A hypervisor snapshot of the running VM on the partner (`one.vm.snapshotcreate`).
   *
   * @returns `<deploy id>/snapshot-<snapshot id>`.
   */
  async snapshot(id: string, name: string, _vmId: number): Promise<string> {
    const result = await this.#api.call(
      `Cannot snapshot ${id}`,
      "one.vm.snapshotcreate",
      partnerIdOf(id),
      name,
    );
    if (typeof result !== "number") {
      throw new CloudError(
        "InvalidResponse",
        `Cannot snapshot ${id}: ${this.#api.where} answered one.vm.snapshotcreate without a snapshot id`,
      );
    }
    return `${id}/snapshot-${result}`;
  }

  /**
   * Moves the VM's host mark to its new host: `one.vm.update` merging `ONE_HYBRID_HOST` into
   * its user template (the 4.4+ form: session, id, template, 1 for merge), then `one.vm.rename`
   * to `one-<vm id>-<host>`, the mark a listing without user templates reads (5.8.0, whose
   * one.vmpool.info answers short documents and which has no infoextended).
   */
  async rehome(id: string, host: string, vmId: number): Promise<void> {
    const partnerId = partnerIdOf(id);
    const doing = `Cannot mark ${id} as VM ${vmId}'s on host ${host}`;
    const template = `<TEMPLATE><${MARK.host}>${escapeXml(host)}</${MARK.host}></TEMPLATE>`;
    await this.#api.call(doing, "one.vm.update", partnerId, template, 1);
    await this.#api.call(doing, "one.vm.rename", partnerId, launchName(vmId, host));
  }

  /**
   * The partner user's VM quota (`one.user.info` of the session's user): the limits on its
   * VMs, CPU and memory, the defaults applied where the user has none.
   */
  async quotaCapacity(): Promise<AccountQuota> {
    const user = await this.#api.document(
      "Cannot read the partner user's quota",
      "USER",
      "one.user.info",
      -1,
    );
    return readVmQuota(user);
  }

  /** `one.vm.action(<action>, id)`. */
  async #action(id: string, action: string): Promise<void> {
    await this.#api.call(`Cannot ${action} ${id}`, "one.vm.action", action, partnerIdOf(id));
  }

  /**
   * Gets the partner to do what the driver wants (`intent`): the action name the partner's
   * release accepts in the VM's state (`nextStep`) is sent once the VM is in a state that
   * accepts one, the VM waited for while it moves on by itself (at most `stateWaitSeconds`).
   * Nothing is sent when the VM is in the goal already. The release is asked only when the
   * name depends on it.
   *
   * @param vm The VM as just described, when it was.
   * @returns The VM as last seen when it reached the goal with no name sent; undefined once a
   *   name was accepted (the caller waits for its effect).
   * @throws {CloudError} `UnexpectedState` when no name is accepted in a state the VM stays in;
   * the partner's refusal; as the wait ({@link waitForState}).
   */
  async #perform(
    id: string,
    intent: Intent,
    goal: Goal,
    vm?: PartnerVm,
  ): Promise<Instance | undefined> {
    let release: KnownRelease | undefined;
    const stepFor = (seen: Instance) => nextStep(intent, seen.nativeState, release?.release);
    let current: Instance = vm ?? await this.#vm(id);
    while (current.state !== goal) {
      const step = stepFor(current);
      if (step === "release") {
        release = await this.#releases.known(`Cannot ${intent} ${id}`);
      } else if (step === "wait") {
        current = await this.#waitFor(id, goal, (seen) => stepFor(seen) !== "wait");
      } else if (step === "refused") {
        const partner = release ? `OpenNebula ${release.release.text}` : "the partner";
        throw new CloudError(
          "UnexpectedState",
          `Cannot ${intent} ${id}: the partner VM is ${current.nativeState}, a state in which ${partner} accepts no ${intent}${
            intent === "terminate"
              ? ` (the partner's administrator can end it: onevm recover --delete ${
                partnerIdOf(id)
              })`
              : ""
          }`,
        );
      } else {
        const fresher = await this.#send(id, step.send, release);
        if (fresher === undefined) return undefined;
        release = { release: fresher, kept: false };
        current = await this.#vm(id);
      }
    }
    return current;
  }

  /**
   * Sends an action name. When the partner refuses a name that a kept release chose, the
   * release is asked again: a different one is returned, for the name to be chosen again.
   *
   * @returns undefined once the name is accepted; the partner's release when it has changed.
   * @throws the refusal otherwise.
   */
  async #send(
    id: string,
    name: string,
    release: KnownRelease | undefined,
  ): Promise<OneRelease | undefined> {
    try {
      await this.#action(id, name);
      return undefined;
    } catch (error) {
      if (!release?.kept || !isRefusal(error)) throw error;
      const fresher = await this.#releases.askAgain(`Cannot ${name} ${id}`);
      if (fresher === undefined || fresher.text === release.release.text) throw error;
      return fresher;
    }
  }

  /**
   * Asks the partner for the VM's state until it reaches the goal (or, given `acts`, a state in
   * which the driver can act on it), with growing pauses, for at most the host's
   * `stateWaitSeconds` (`waitForState`). Waiting for termination, an unknown VM is ended;
   * otherwise a VM that ends on the way fails the wait, and so does one only a partner operator
   * can move on (failed, or on hold: `waitEnds`).
   */
  #waitFor(id: string, goal: Goal, acts?: (vm: Instance) => boolean): Promise<Instance> {
    return waitForState({
      id,
      goal,
      ...(acts ? { reached: (vm: Instance) => vm.state === goal || acts(vm) } : {}),
      settings: this.#settings,
      signal: this.#signal,
      describe: () => this.#vm(id),
      ended: () => ({ id, state: "terminated", nativeState: "DONE", facts: {} }),
      stuck: waitEnds,
      stray: (vm) =>
        new CloudError(
          "UnexpectedState",
          `${id} is ${vm.nativeState} on the partner cloud while waiting for it to be ${goal}`,
        ),
    });
  }
}
