/**
 * A partner cloud's VM, as `one.vm.info` and `one.vmpool.info(extended)` describe it, in the
 * driver's neutral words: its deploy id, its state (OpenNebula's `STATE` and `LCM_STATE`
 * mapped onto `InstanceState`), its size and the marks every launch gives it.
 *
 * @module
 */

import type { InstanceState, ListedInstance, QuotaCharge } from "../../core/provider.ts";
import { InvalidInputError } from "../../util/errors.ts";
import { child, childText, type XmlElement } from "../../util/xml.ts";
import { LCM_STATE_NAMES, VM_STATE_NAMES } from "../../one_xmlrpc/one_states.ts";

/**
 * The deploy id of a partner VM: this prefix and its id on the partner. The prefix is the one
 * OpenNebula's own `one` driver used, so VMs it deployed stay manageable by this driver.
 */
export const DEPLOY_ID_PREFIX = "opennebula-hybrid-";

/**
 * The partner's id in a deploy id.
 *
 * @throws {InvalidInputError} when the deploy id is not `opennebula-hybrid-<number>`.
 */
export function partnerIdOf(deployId: string): number {
  const match = /^opennebula-hybrid-(\d{1,9})$/.exec(deployId);
  if (!match) {
    throw new InvalidInputError(
      `Invalid deploy id "${deployId}": not a partner cloud VM (${DEPLOY_ID_PREFIX}<number>)`,
    );
  }
  return Number(match[1]);
}

/** The marks every launch puts in the partner VM's user template. */
export const MARK = {
  /** Says the VM is another OpenNebula's (as OpenNebula's own driver marked it). */
  remote: "REMOTE_OPENNEBULA",
  /** The local VM's id (as OpenNebula's own driver marked it). */
  vmId: "REMOTE_OPENNEBULA_VM_ID",
  /** The local OpenNebula host it was deployed to. */
  host: "ONE_HYBRID_HOST",
  /** This driver. */
  driver: "ONE_HYBRID_DRIVER",
} as const;

/** The value of {@link MARK.driver}. */
export const DRIVER_NAME = "one-hybrid";

/**
 * The name a launch gives the partner VM, `one-<vm id>-<host>`: the one mark that every pool
 * listing shows (5.8+ lists VMs without their custom attributes).
 */
export function launchName(vmId: number, host: string): string {
  return `one-${vmId}-${host}`;
}

/** ACTIVE's LCM states on the way up (creating, booting, resuming, moving). */
const STARTING = new Set([0, 1, 2, 4, 8, 9, 15, 19, 20, 21, 22, 31, 32, 35, 43, 45, 60]);
/** ACTIVE's LCM states on the way to a kept, powered-off VM. */
const STOPPING = new Set([5, 6, 7, 10, 18, 29, 30]);
/** ACTIVE's LCM states on the way out. */
const ENDING = new Set([11, 12, 13, 23]);
/** ACTIVE's LCM states of a powered-off, suspended or undeployed VM being changed. */
const CHANGED_WHILE_OFF = new Set([27, 28, 33, 34, 51, 52, 53, 54, 55, 56, 63, 64, 65, 67, 68]);

/**
 * Where a partner VM is, in neutral words, from its `STATE` and `LCM_STATE`.
 *
 * @param state `STATE`.
 * @param lcm `LCM_STATE`.
 * @returns `pending` for INIT, PENDING, HOLD, CLONING and ACTIVE on its way up; `running` for
 * ACTIVE/RUNNING and hot-plugging while running; `stopping` while saving, powering off or
 * undeploying; `stopped` for STOPPED, SUSPENDED, POWEROFF and UNDEPLOYED; `terminating` while
 * shutting down; `terminated` for DONE; `unknown` for failures and UNKNOWN.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { neutralState } from "./vm.ts";
 * assert.equal(neutralState(3, 1), "pending"); // ACTIVE/PROLOG
 * assert.equal(neutralState(3, 3), "running");
 * assert.equal(neutralState(3, 18), "stopping"); // SHUTDOWN_POWEROFF
 * assert.equal(neutralState(8, 0), "stopped"); // POWEROFF
 * assert.equal(neutralState(6, 0), "terminated"); // DONE
 * assert.equal(neutralState(3, 36), "unknown"); // BOOT_FAILURE
 * ```
 */
export function neutralState(state: number, lcm: number): InstanceState {
  switch (state) {
    case 0:
    case 1:
    case 2:
    case 10:
      return "pending";
    case 3:
      if (lcm === 3 || lcm === 17 || lcm === 24 || lcm === 25 || lcm === 26) return "running";
      if (lcm === 57 || lcm === 58 || lcm === 59 || lcm === 62 || lcm === 66) return "running";
      if (STARTING.has(lcm)) return "pending";
      if (STOPPING.has(lcm)) return "stopping";
      if (ENDING.has(lcm)) return "terminating";
      if (CHANGED_WHILE_OFF.has(lcm)) return "stopped";
      return "unknown";
    case 4:
    case 5:
    case 8:
    case 9:
      return "stopped";
    case 6:
      return "terminated";
    default:
      return "unknown";
  }
}

/**
 * OpenNebula's name of a state: `RUNNING` for ACTIVE's LCM states, the `STATE` name otherwise
 * (`POWEROFF`), or the numbers when a name is not known.
 */
function stateName(state: number, lcm: number): string {
  if (state === 3) return LCM_STATE_NAMES[lcm] ?? `ACTIVE/${lcm}`;
  return VM_STATE_NAMES[state] ?? `STATE ${state}`;
}

/** A number of the document, when present and numeric. */
function numberIn(element: XmlElement | undefined, name: string): number | undefined {
  const text = element === undefined ? undefined : childText(element, name)?.trim();
  return text !== undefined && /^\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
}

/** A text of the document, trimmed; undefined when empty. */
function textIn(element: XmlElement | undefined, name: string): string | undefined {
  const text = element === undefined ? undefined : childText(element, name)?.trim();
  return text ? text : undefined;
}

/** The size name of a partner VM: `<vcpus>vcpu.<memory MiB>mib` (capacity keys use it). */
export function sizeName(vcpus: number, memoryMiB: number): string {
  return `${vcpus}vcpu.${memoryMiB}mib`;
}

/**
 * Reads a size name back (`2vcpu.4096mib`).
 *
 * @returns Its vCPUs and MiB, or undefined for another name.
 */
export function parseSizeName(name: string): { vcpus: number; memoryMiB: number } | undefined {
  const match = /^(\d{1,6})vcpu\.(\d{1,9})mib$/.exec(name);
  return match ? { vcpus: Number(match[1]), memoryMiB: Number(match[2]) } : undefined;
}

/**
 * What the partner's quota charges for a VM of a template (`<TEMPLATE>` of a VM or of a VM
 * template): its `CPU`, not its `VCPU`, and its `MEMORY` (MB), as oned's VM quota counts them.
 *
 * @param template The `<TEMPLATE>` element.
 * @returns The charge; undefined when the template lacks either.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseXml } from "../../util/xml.ts";
 * import { quotaChargeOf } from "./vm.ts";
 * const template = parseXml("<TEMPLATE><CPU>0.5</CPU><VCPU>2</VCPU><MEMORY>1024</MEMORY></TEMPLATE>");
 * assert.deepEqual(quotaChargeOf(template), { cpu: 0.5, memoryMiB: 1024 });
 * ```
 */
export function quotaChargeOf(template: XmlElement | undefined): QuotaCharge | undefined {
  const cpu = numberIn(template, "CPU");
  const memoryMiB = numberIn(template, "MEMORY");
  return cpu === undefined || memoryMiB === undefined ? undefined : { cpu, memoryMiB };
}

/** What a `<VM>` document says, read once. */
export interface PartnerVm extends ListedInstance {
  /** The partner's id of the VM. */
  readonly partnerId: number;
}

/**
 * Reads a `<VM>` document (full or the short form of 5.8+ pool listings).
 *
 * @param vm The `<VM>` element.
 * @returns The VM as an instance of the driver; undefined when it has no numeric ID, STATE
 * and LCM_STATE.
 */
export function readVm(vm: XmlElement): PartnerVm | undefined {
  const id = numberIn(vm, "ID");
  const state = numberIn(vm, "STATE");
  const lcm = numberIn(vm, "LCM_STATE");
  if (id === undefined || state === undefined || lcm === undefined) return undefined;
  const template = child(vm, "TEMPLATE");
  const user = child(vm, "USER_TEMPLATE");
  const mark = (name: string) => textIn(user, name) ?? textIn(template, name);
  const name = textIn(vm, "NAME");
  const byName = name === undefined ? undefined : /^one-(\d{1,9})-(.+)$/.exec(name);
  const marked = mark(MARK.driver) === DRIVER_NAME || mark(MARK.remote)?.toUpperCase() === "YES";
  const markedVm = mark(MARK.vmId);
  const ownerVmId = markedVm !== undefined && /^\d+$/.test(markedVm)
    ? Number(markedVm)
    : byName
    ? Number(byName[1])
    : undefined;
  const ownerHost = mark(MARK.host) ?? byName?.[2];
  const launchedByDriver = marked || byName !== null && byName !== undefined;
  const memoryMiB = numberIn(template, "MEMORY");
  const cpu = numberIn(template, "CPU");
  const vcpus = numberIn(template, "VCPU") ?? (cpu === undefined ? undefined : Math.ceil(cpu));
  const facts: Record<string, string> = {
    VM_ID: String(id),
    STATE: stateName(state, lcm),
  };
  if (name !== undefined) facts.NAME = name;
  const nic = template?.children.find((c) => c.name === "NIC");
  const ip = textIn(nic, "IP");
  if (ip !== undefined) facts.IP = ip;
  const templateId = textIn(template, "TEMPLATE_ID");
  if (templateId !== undefined) facts.TEMPLATE_ID = templateId;
  const nativeState = stateName(state, lcm);
  const createdAt = numberIn(vm, "STIME");
  const charged = quotaChargeOf(template);
  return {
    id: `${DEPLOY_ID_PREFIX}${id}`,
    partnerId: id,
    state: neutralState(state, lcm),
    nativeState,
    ...(memoryMiB !== undefined ? { memoryKiB: Math.round(memoryMiB * 1024) } : {}),
    ...(vcpus !== undefined && memoryMiB !== undefined
      ? { size: sizeName(vcpus, Math.round(memoryMiB)) }
      : {}),
    ...(charged !== undefined ? { charged } : {}),
    ...(launchedByDriver && ownerVmId !== undefined ? { ownerVmId } : {}),
    facts,
    ...(name !== undefined ? { name } : {}),
    launchedByDriver: launchedByDriver && ownerVmId !== undefined,
    ...(launchedByDriver && ownerHost !== undefined ? { ownerHost } : {}),
    ...(vcpus !== undefined ? { vcpus } : {}),
    ...(createdAt ? { launchedAt: createdAt } : {}),
    sectionAttributes: templateId === undefined ? {} : { TEMPLATE_ID: templateId },
  };
}
