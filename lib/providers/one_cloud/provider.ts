/**
 * A partner OpenNebula cloud as an OpenNebula host: the `Provider` implementation. A local VM
 * becomes a VM instantiated from a partner template (`one.template.instantiate`), marked with
 * the local VM's id and host; every later action is a `one.vm.action` on it, and returns once
 * the partner reports the state it asked for.
 *
 * @module
 */

import type { HostSettings } from "../../core/config.ts";
import { CloudError, InvalidInputError, NotFoundError } from "../../util/errors.ts";
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
import type { PartnerCalls } from "./api.ts";
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
} from "./vm.ts";

export { partnerIdOf };

/** Text for an XML element's content. */
function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A partner OpenNebula cloud behind the `Provider` interface. */
export class OneCloudProvider implements Provider {
  readonly factPrefix = "ONE";
  readonly location: string;
  readonly locationLabel: string;
  readonly #api: PartnerCalls;
  readonly #settings: HostSettings;
  readonly #signal: AbortSignal | undefined;

  /**
   * @param api The partner's calls (a `PartnerApi`, or a fake).
   * @param settings The host's settings; its `connection` is a `OneCloudConnection`.
   * @param signal Ends every wait when the action's time is up.
   */
  constructor(api: PartnerCalls, settings: HostSettings, signal?: AbortSignal) {
    this.#api = api;
    this.#settings = settings;
    this.#signal = signal;
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
   * reported, so a failed deploy leaves nothing running on the partner.
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
          await this.#action(id, "terminate-hard");
          return `partner VM ${id} was terminated`;
        } catch (cleanup) {
          const code = cleanup instanceof CloudError ? cleanup.code : "unknown error";
          return `partner VM ${id} could not be terminated (${code}); it is named ${
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
   * `undeploy` (`-hard`: the partner frees its host and keeps the disks), or `suspend`.
   */
  async powerOff(id: string, options: PowerOffOptions): Promise<Instance> {
    const vm = await this.#vm(id);
    if (vm.state === "stopped") return vm;
    const action = options.reason === "suspend"
      ? "suspend"
      : `${options.reason}${options.hard ? "-hard" : ""}`;
    if (vm.state !== "stopping") await this.#action(id, action);
    return await this.#waitFor(id, "stopped");
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
   * Terminates the VM (`terminate-hard`, as EC2 ends an instance: its disks are not kept) and
   * waits until the partner reports it DONE. One already done, or unknown, counts as ended.
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
    if (vm.state !== "terminating") await this.#action(id, "terminate-hard");
    await this.#waitFor(id, "terminated");
    return "terminated";
  }

  /** One `terminate-hard`, not waited on; a VM the partner does not know counts as done. */
  async requestTerminate(id: string): Promise<void> {
    try {
      await this.#action(id, "terminate-hard");
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
   * Asks the partner for the VM's state until it reaches the goal, with growing pauses, for
   * at most the host's `stateWaitSeconds` (`waitForState`). Waiting for termination, an unknown
   * VM is ended; otherwise a VM that ends or fails on the way fails the wait.
   */
  #waitFor(id: string, goal: Goal): Promise<Instance> {
    return waitForState({
      id,
      goal,
      settings: this.#settings,
      signal: this.#signal,
      describe: () => this.#vm(id),
      ended: () => ({ id, state: "terminated", nativeState: "DONE", facts: {} }),
      stuck: (vm) => vm.state === "unknown",
      stray: (vm) =>
        new CloudError(
          "UnexpectedState",
          `${id} is ${vm.nativeState} on the partner cloud while waiting for it to be ${goal}`,
        ),
    });
  }
}
