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
import { stateLabel, type StateMeaning, stateMeaning } from "../../one_xmlrpc/one_states.ts";

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

/** How each meaning of a partner state reads in the driver's words. */
const NEUTRAL: Readonly<Record<StateMeaning, InstanceState>> = {
  pending: "pending",
  // A held VM waits for the partner's operator as a pending one waits for its scheduler: what
  // the local oned hears of it is the same; a wait for it ends at once (`waitEnds`).
  held: "pending",
  running: "running",
  stopping: "stopping",
  off: "stopped",
  // Cleaned up to be deployed again (CLEANUP_RESUBMIT): the partner VM is not gone.
  cleanup: "pending",
  ending: "terminating",
  done: "terminated",
  failed: "unknown",
  lost: "unknown",
};

/**
 * Where a partner VM is, in neutral words, from its `STATE` and `LCM_STATE` (their meanings
 * are in `one_states.ts`).
 *
 * @param state `STATE`.
 * @param lcm `LCM_STATE`.
 * @returns `pending` on its way up (INIT, PENDING, HOLD, CLONING, ACTIVE deploying, booting,
 * resuming, or migrating while running, SAVE_MIGRATE included); `running` for ACTIVE/RUNNING and
 * while hot-plugging, snapshotting, resizing or backing up a running VM; `stopping` while saving,
 * powering off or undeploying; `stopped` for STOPPED, SUSPENDED, POWEROFF and UNDEPLOYED, also
 * while oned changes, backs up, restores or moves one of them (PROLOG_MIGRATE_POWEROFF,
 * PROLOG_MIGRATE_SUSPEND); `terminating` while shutting down; `terminated` for DONE; `unknown`
 * for failures, UNKNOWN, and a state no release this driver knows defines.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { neutralState } from "./vm.ts";
 * assert.equal(neutralState(3, 1), "pending"); // ACTIVE/PROLOG
 * assert.equal(neutralState(3, 3), "running");
 * assert.equal(neutralState(3, 69), "running"); // BACKUP
 * assert.equal(neutralState(3, 18), "stopping"); // SHUTDOWN_POWEROFF
 * assert.equal(neutralState(8, 0), "stopped"); // POWEROFF
 * assert.equal(neutralState(3, 43), "stopped"); // PROLOG_MIGRATE_POWEROFF
 * assert.equal(neutralState(6, 0), "terminated"); // DONE
 * assert.equal(neutralState(3, 36), "unknown"); // BOOT_FAILURE
 * ```
 */
export function neutralState(state: number, lcm: number): InstanceState {
  const meaning = stateMeaning(state, lcm);
  return meaning === undefined ? "unknown" : NEUTRAL[meaning];
}

/**
 * Whether a wait for a partner VM ends at once in the state it is in: it failed, or it is on
 * hold, and only a partner operator can move it on. One the partner lost track of (UNKNOWN), or
 * in a state of a release newer than this driver knows, may move on by itself: the wait goes on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseXml } from "../../util/xml.ts";
 * import { readVm, waitEnds } from "./vm.ts";
 * const vm = (state: number, lcm: number) =>
 *   readVm(parseXml(`<VM><ID>1</ID><STATE>${state}</STATE><LCM_STATE>${lcm}</LCM_STATE></VM>`))!;
 * assert.equal(waitEnds(vm(3, 36)), true); // BOOT_FAILURE
 * assert.equal(waitEnds(vm(2, 0)), true); // HOLD
 * assert.equal(waitEnds(vm(3, 16)), false); // UNKNOWN
 * assert.equal(waitEnds(vm(3, 72)), false); // a later release's
 * ```
 */
export function waitEnds(vm: PartnerVm): boolean {
  return vm.meaning === "failed" || vm.meaning === "held";
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
  /** What the partner VM is doing; undefined in a state no release this driver knows has. */
  readonly meaning: StateMeaning | undefined;
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
    STATE: stateLabel(state, lcm),
  };
  if (name !== undefined) facts.NAME = name;
  const nic = template?.children.find((c) => c.name === "NIC");
  const ip = textIn(nic, "IP");
  if (ip !== undefined) facts.IP = ip;
  const templateId = textIn(template, "TEMPLATE_ID");
  if (templateId !== undefined) facts.TEMPLATE_ID = templateId;
  const nativeState = stateLabel(state, lcm);
  const createdAt = numberIn(vm, "STIME");
  const charged = quotaChargeOf(template);
  return {
    id: `${DEPLOY_ID_PREFIX}${id}`,
    partnerId: id,
    state: neutralState(state, lcm),
    meaning: stateMeaning(state, lcm),
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
