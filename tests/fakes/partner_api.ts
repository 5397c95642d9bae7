/**
 * An in-memory partner OpenNebula behind the `PartnerCalls` seam (what `PartnerApi` offers the
 * partner provider), for unit tests of the provider, as `ec2_api.ts` is for EC2: every call is
 * recorded with its parameters; answers and errors can be scripted per method; and a small
 * model of VMs, templates and the user's quota answers the rest as oned does. Failures come
 * already in the driver's words, as `PartnerApi` words them (`NotFoundError` for an object
 * oned does not know, `CloudError` with oned's code for any other refusal). It answers as the
 * OpenNebula `release` it is set to (6.10.5 unless a test sets another): `one.system.version`,
 * and `one.vm.action`'s names and the states each is accepted in (`../oned_vm_actions.ts`). An
 * accepted action takes a VM to its first state at once; the VM then moves on through the
 * states queued for it, one step per `one.vm.info` that asks for it (a listing shows VMs as
 * they are), unless it is held in its state for a while. Only tests import this module.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakePartner } from "./partner_api.ts";
 *
 * const fake = new FakePartner();
 * const vm = fake.addVm({ state: "pending" });
 * assert.equal(fake.stateOf(vm.id), "PENDING");
 * await fake.document("Cannot describe", "VM", "one.vm.info", vm.id); // seen pending once
 * assert.equal(fake.stateOf(vm.id), "PROLOG");
 * assert.deepEqual(fake.calls.map((c) => c.method), ["one.vm.info"]);
 * ```
 *
 * @module
 */

import { ONE_ERROR, PartnerApi, type PartnerCalls } from "../../lib/providers/one_cloud/api.ts";
import type { XmlRpcParam } from "../../lib/one_xmlrpc/xmlrpc.ts";
import { LCM_STATE_NAMES, VM_STATE_NAMES } from "../../lib/one_xmlrpc/one_states.ts";
import { CloudError, NotFoundError } from "../../lib/util/errors.ts";
import { parseXml } from "../../lib/util/xml.ts";
import { onedVmAction } from "../oned_vm_actions.ts";
import { listPool } from "../oned_pool.ts";

/** OpenNebula's `STATE` and `LCM_STATE` of a VM. */
export type OneState = readonly [state: number, lcm: number];

/** States by the names tests use. */
export const STATES = {
  pending: [1, 0],
  prolog: [3, 1],
  boot: [3, 2],
  running: [3, 3],
  migrate: [3, 4],
  savingSuspend: [3, 6],
  epilog: [3, 11],
  shutdown: [3, 12],
  shutdownPoweroff: [3, 18],
  shutdownUndeploy: [3, 29],
  bootFailure: [3, 36],
  suspended: [5, 0],
  done: [6, 0],
  poweroff: [8, 0],
  undeployed: [9, 0],
  unknown: [3, 16],
} as const satisfies Record<string, OneState>;

/** A name of {@link STATES}. */
export type StateName = keyof typeof STATES;

/** The way up from PENDING: PROLOG, BOOT, RUNNING. */
const BOOT: readonly OneState[] = [STATES.prolog, STATES.boot, STATES.running];

/** The states each action oned accepted (after rewriting an older name) goes through. */
const ACTION_PATHS: Readonly<Record<string, OneState[]>> = {
  poweroff: [STATES.shutdownPoweroff, STATES.poweroff],
  "poweroff-hard": [STATES.shutdownPoweroff, STATES.poweroff],
  undeploy: [STATES.shutdownUndeploy, STATES.undeployed],
  "undeploy-hard": [STATES.shutdownUndeploy, STATES.undeployed],
  suspend: [STATES.savingSuspend, STATES.suspended],
  resume: [STATES.boot, STATES.running],
  "terminate-hard": [STATES.epilog, STATES.done],
  "shutdown-hard": [STATES.epilog, STATES.done],
  delete: [STATES.epilog, STATES.done],
};

/** A VM of the model; tests may read and change it. */
export interface FakeVm {
  /** The partner's id. */
  readonly id: number;
  /** `NAME`. */
  name: string;
  /** `STATE` and `LCM_STATE`. */
  state: OneState;
  /** States still to come, one per `one.vm.info` of the VM. */
  next: OneState[];
  /** `USER_TEMPLATE` (the driver's marks). */
  readonly user: Record<string, string>;
  /** `TEMPLATE/CONTEXT`. */
  readonly context: Record<string, string>;
  /** The template it was instantiated from. */
  readonly templateId?: number;
  /** The `one.vm.action`s it accepted, in order. */
  readonly actions: string[];
  /** Until then (epoch ms), `one.vm.info` does not move it on. */
  heldUntil?: number;
}

/** One recorded call. */
export interface RecordedCall {
  /** What the call was for (the failure message's beginning). */
  readonly doing: string;
  /** The method (`one.vm.info`). */
  readonly method: string;
  /** Its parameters after the session. */
  readonly params: readonly XmlRpcParam[];
}

/**
 * A scripted answer to the next call of a method: an error to throw, `{ result }` to answer, or
 * a function of the parameters (it may throw, and may call `model` for the model's answer).
 */
export type Script =
  | Error
  | { result: unknown }
  | ((params: readonly XmlRpcParam[], model: () => unknown) => unknown);

/** Text for an XML element's content. */
function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** `<NAME>value</NAME>` for each entry. */
function elements(record: Readonly<Record<string, string | number>>): string {
  return Object.entries(record).map(([name, value]) =>
    `<${name}>${escape(String(value))}</${name}>`
  )
    .join("");
}

/** An in-memory partner cloud, seen through the partner provider's seam. */
export class FakePartner implements PartnerCalls {
  readonly where = "the partner cloud at http://partner.test:2633/RPC2";
  /** Every call, in order. */
  readonly calls: RecordedCall[] = [];
  /** The VMs, by id. */
  readonly vms = new Map<number, FakeVm>();
  /** The templates the user may instantiate, by id: their `CONTEXT`. */
  readonly templates = new Map<number, Record<string, string>>([[7, { NETWORK: "YES" }]]);
  /** The user's VM quota limits by metric (`VMS`, `CPU`, `MEMORY`, ...): `-1` default, `-2` none. */
  readonly userQuota: Record<string, number> = {};
  /** What the user holds, by metric (`VMS_USED` is `VMS` here). */
  readonly quotaUsed: Record<string, number> = {};
  /** The default user quota's limits by metric. */
  readonly defaultQuota: Record<string, number> = {};
  /** When set, the next instantiated VM fails to boot (BOOT_FAILURE after BOOT). */
  failNextBoot = false;
  /** The OpenNebula release it answers as. */
  release = "6.10.5";
  readonly #scripts = new Map<string, Script[]>();
  #nextId = 40;
  #snapshots = 0;

  /** Adds a VM in a state, marked as the driver's for a VM and host when given. */
  addVm(options: {
    state?: StateName;
    vmId?: number;
    host?: string;
    name?: string;
    next?: StateName[];
    templateId?: number;
  } = {}): FakeVm {
    const id = this.#nextId++;
    const marked = options.vmId !== undefined && options.host !== undefined;
    const vm: FakeVm = {
      id,
      name: options.name ?? (marked ? `one-${options.vmId}-${options.host}` : `vm-${id}`),
      state: STATES[options.state ?? "running"],
      next: (options.next ?? []).map((name) => STATES[name]),
      user: marked
        ? {
          REMOTE_OPENNEBULA: "YES",
          REMOTE_OPENNEBULA_VM_ID: String(options.vmId),
          ONE_HYBRID_HOST: options.host!,
          ONE_HYBRID_DRIVER: "one-hybrid",
        }
        : {},
      context: {},
      ...(options.templateId === undefined ? {} : { templateId: options.templateId }),
      actions: [],
    };
    if (options.state === "pending" && options.next === undefined) vm.next = [...BOOT];
    this.vms.set(id, vm);
    return vm;
  }

  /** OpenNebula's name of a VM's state now (`RUNNING`, `POWEROFF`). */
  stateOf(id: number): string {
    const [state, lcm] = this.#vm(id).state;
    return state === 3 ? LCM_STATE_NAMES[lcm] ?? `ACTIVE/${lcm}` : VM_STATE_NAMES[state] ?? "?";
  }

  /** Makes the next call of a method answer this (after earlier scripts of the method). */
  script(method: string, answer: Script): void {
    const queue = this.#scripts.get(method) ?? [];
    queue.push(answer);
    this.#scripts.set(method, queue);
  }

  /** The parameters of each call of a method so far. */
  paramsOf(method: string): (readonly XmlRpcParam[])[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.params);
  }

  /** Calls a method as `PartnerApi.call` does: the result, or the failure in the driver's words. */
  call(doing: string, method: string, ...params: XmlRpcParam[]): Promise<unknown> {
    this.calls.push({ doing, method, params });
    try {
      const scripted = this.#scripts.get(method)?.shift();
      if (scripted instanceof Error) throw scripted;
      const model = () => this.#answer(doing, method, params);
      if (typeof scripted === "function") return Promise.resolve(scripted(params, model));
      return Promise.resolve(scripted === undefined ? model() : scripted.result);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A document answer, read by `PartnerApi`'s own code (on this fake's `call`). */
  readonly document: PartnerCalls["document"] = PartnerApi.prototype.document;

  /**
   * The user's VMs but DONE ones, asked for by `PartnerApi`'s own code, page by page:
   * `one.vmpool.infoextended` (5.8.1+), which this fake answers, else `one.vmpool.info`.
   */
  readonly vmPool: PartnerCalls["vmPool"] = PartnerApi.prototype.vmPool;

  /** oned's refusal, as `PartnerApi` words it. */
  #refusal(doing: string, method: string, code: number, text: string): CloudError | NotFoundError {
    const message =
      `${doing}: ${this.where} answered ${method} with error ${code}: [${method}] ${text}`;
    return code === ONE_ERROR.NO_EXISTS
      ? new NotFoundError(message)
      : new CloudError(String(code), message);
  }

  #vm(id: number): FakeVm {
    const vm = this.vms.get(id);
    if (vm === undefined) throw new Error(`the fake partner has no VM ${id}`);
    return vm;
  }

  /** What the model answers. */
  #answer(doing: string, method: string, params: readonly XmlRpcParam[]): unknown {
    const vmOf = (id: XmlRpcParam | undefined) => {
      const vm = typeof id === "number" ? this.vms.get(id) : undefined;
      if (vm === undefined) {
        throw this.#refusal(
          doing,
          method,
          ONE_ERROR.NO_EXISTS,
          `Error getting virtual machine [${id}].`,
        );
      }
      return vm;
    };
    switch (method) {
      case "one.vm.info": {
        const vm = vmOf(params[0]);
        const document = this.#vmXml(vm);
        if ((vm.heldUntil ?? 0) <= Date.now()) vm.state = vm.next.shift() ?? vm.state;
        return document;
      }
      case "one.vmpool.infoextended": {
        // With oned's id ranges and row offsets, oldest first (API_LIST_ORDER = "ASC").
        const vms = [...this.vms.values()].map((vm) => ({ id: vm.id, state: vm.state[0], uid: 2 }));
        const listing = listPool(params, vms, () => true, "ASC");
        if (!("ids" in listing)) throw new Error(`the fake partner refuses ${params}`);
        return `<VM_POOL>${listing.ids.map((id) => this.#vmXml(this.#vm(id))).join("")}</VM_POOL>`;
      }
      case "one.vm.action": {
        const [action, id] = params;
        const vm = vmOf(id);
        const [state, lcm] = vm.state;
        const verdict = onedVmAction(this.release, String(action), { id: vm.id, state, lcm });
        if (!("accepted" in verdict)) {
          throw new CloudError(
            String(verdict.code),
            `${doing}: ${this.where} answered ${method} with error ${verdict.code}: ${verdict.message}`,
          );
        }
        vm.actions.push(String(action));
        // The action takes the VM to its first state at once, as oned does.
        const [first, ...rest] = ACTION_PATHS[verdict.accepted] ?? [];
        if (first !== undefined) vm.state = first;
        vm.next = rest;
        return vm.id;
      }
      case "one.system.version":
        return this.release;
      case "one.template.info": {
        const context = typeof params[0] === "number" ? this.templates.get(params[0]) : undefined;
        if (context === undefined) {
          throw this.#refusal(
            doing,
            method,
            ONE_ERROR.NO_EXISTS,
            `Error getting template [${params[0]}].`,
          );
        }
        return `<VMTEMPLATE><ID>${params[0]}</ID><TEMPLATE><CONTEXT>${
          elements(context)
        }</CONTEXT></TEMPLATE></VMTEMPLATE>`;
      }
      case "one.template.instantiate":
        return this.#instantiate(doing, params);
      case "one.vm.update": {
        const [id, template, merge] = params;
        const vm = vmOf(id);
        if (merge === 0) { for (const key of Object.keys(vm.user)) delete vm.user[key]; }
        for (const element of parseXml(String(template)).children) {
          vm.user[element.name] = element.text;
        }
        return vm.id;
      }
      case "one.vm.rename": {
        const vm = vmOf(params[0]);
        vm.name = String(params[1]);
        return vm.id;
      }
      case "one.vm.snapshotcreate":
        vmOf(params[0]).actions.push("snapshot-create");
        return this.#snapshots++;
      case "one.user.info":
        return this.#userXml();
      default:
        throw new CloudError(
          "Fault",
          `${doing}: ${this.where} answered ${method} with fault -506: no such method`,
        );
    }
  }

  /** `one.template.instantiate(template id, name, hold, extra template)`. */
  #instantiate(doing: string, params: readonly XmlRpcParam[]): number {
    const [templateId, name, , extra] = params;
    const context = typeof templateId === "number" ? this.templates.get(templateId) : undefined;
    if (context === undefined) {
      throw this.#refusal(
        doing,
        "one.template.instantiate",
        ONE_ERROR.NO_EXISTS,
        `Error getting template [${templateId}].`,
      );
    }
    const vm = this.addVm({
      state: "pending",
      name: String(name),
      templateId: templateId as number,
    });
    const given = parseXml(String(extra)).children;
    const extraContext = given.find((element) => element.name === "CONTEXT");
    // A CONTEXT in the extra template replaces the template's whole, as oned merges them.
    for (const element of extraContext?.children ?? []) vm.context[element.name] = element.text;
    if (extraContext === undefined) Object.assign(vm.context, context);
    for (const element of given) {
      if (element !== extraContext) vm.user[element.name] = element.text;
    }
    if (this.failNextBoot) vm.next = [STATES.prolog, STATES.boot, STATES.bootFailure];
    this.failNextBoot = false;
    return vm.id;
  }

  /** A `<VM>` document with the template's size, its marks and context. */
  #vmXml(vm: FakeVm): string {
    const [state, lcm] = vm.state;
    return `<VM>${elements({ ID: vm.id, NAME: vm.name, STATE: state, LCM_STATE: lcm })}` +
      `<TEMPLATE>${elements({ CPU: 1, VCPU: 1, MEMORY: 512 })}` +
      (vm.templateId === undefined ? "" : elements({ TEMPLATE_ID: vm.templateId })) +
      `<CONTEXT>${elements(vm.context)}</CONTEXT></TEMPLATE>` +
      `<USER_TEMPLATE>${elements(vm.user)}</USER_TEMPLATE></VM>`;
  }

  /** The `<USER>` document of `one.user.info`: its VM quota and the default quota. */
  #userXml(): string {
    const own = Object.entries(this.userQuota).map(([metric, limit]) =>
      elements({ [metric]: limit, [`${metric}_USED`]: this.quotaUsed[metric] ?? 0 })
    ).join("");
    return `<USER><ID>2</ID><NAME>partner</NAME><VM_QUOTA><VM>${own}</VM></VM_QUOTA>` +
      `<DEFAULT_USER_QUOTAS><VM_QUOTA><VM>${
        elements(this.defaultQuota)
      }</VM></VM_QUOTA></DEFAULT_USER_QUOTAS></USER>`;
  }
}
