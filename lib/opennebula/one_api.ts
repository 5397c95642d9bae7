/**
 * The local oned's XML-RPC API over {@link XmlRpcClient}: what the driver asks oned about a VM,
 * its pool, a host and its version. The calling convention (`oneCall`) is `../one_rpc.ts`,
 * shared with the partner-cloud provider.
 *
 * @module
 */

import { child, children, childText, parseXml, type XmlElement } from "../util/xml.ts";
import { oneCall } from "../one_xmlrpc/one_rpc.ts";
import { type PoolPage, readPool } from "../one_xmlrpc/pool_pages.ts";
import { type XmlRpcClient, XmlRpcError, type XmlRpcValue } from "../one_xmlrpc/xmlrpc.ts";

export { OneApiError, oneCall } from "../one_xmlrpc/one_rpc.ts";

/** What `one.vm.info` says about a VM. */
export interface OneVmInfo {
  /** `ID`. */
  readonly id: number;
  /** `STATE` (3 ACTIVE, 6 DONE, 8 POWEROFF, ...). */
  readonly state: number;
  /** `LCM_STATE` (meaningful while ACTIVE: 12 SHUTDOWN, 18 SHUTDOWN_POWEROFF, ...). */
  readonly lcmState: number;
  /** `DEPLOY_ID`, when the VM has one. */
  readonly deployId?: string;
  /** When the VM was created (`STIME`, epoch seconds), when oned says. */
  readonly createdAt?: number;
  /**
   * When the VM's current stay on its host began (the last history record's `RSTIME`, else its
   * `STIME`; 6.x opens a new record for every resume), when oned says.
   */
  readonly runningSince?: number;
}

/** oned's error code for an object it does not have (`Request::NO_EXISTS`). */
export const NO_EXISTS = "1024";

/**
 * Asks OpenNebula about a VM (`one.vm.info(session, id)`).
 *
 * @param client The XML-RPC client of the OpenNebula endpoint.
 * @param session `user:password`.
 * @param vmId The VM id.
 * @returns Its id, states and deploy id.
 * @throws {OneApiError} when OpenNebula refuses (wrong session, unknown VM...).
 * @throws {XmlRpcError} when the call fails, or the answer is not a `<VM>` document of that
 * VM with numeric `STATE` and `LCM_STATE`.
 */
export async function vmInfo(
  client: XmlRpcClient,
  session: string,
  vmId: number,
): Promise<OneVmInfo> {
  const method = "one.vm.info";
  const result = await oneCall(client, method, session, vmId);
  const about = ` for VM ${vmId}`;
  const vm = resultDocument(client, method, result, "VM", about);
  const invalid = (what: string) =>
    new XmlRpcError("InvalidResponse", `${client.where} answered ${method}${about} with ${what}`);
  const integer = (name: string) => {
    const text = childText(vm, name)?.trim();
    if (text === undefined || !/^\d+$/.test(text)) {
      throw invalid(`a VM document without a numeric ${name}`);
    }
    return Number(text);
  };
  const id = integer("ID");
  if (id !== vmId) throw invalid(`the document of VM ${id}`);
  const deployId = childText(vm, "DEPLOY_ID")?.trim();
  const createdAt = epochSeconds(childText(vm, "STIME"));
  const history = children(child(vm, "HISTORY_RECORDS") ?? vm, "HISTORY").at(-1);
  const runningSince = history === undefined
    ? undefined
    : epochSeconds(childText(history, "RSTIME")) ?? epochSeconds(childText(history, "STIME"));
  return {
    id,
    state: integer("STATE"),
    lcmState: integer("LCM_STATE"),
    ...(deployId ? { deployId } : {}),
    ...(createdAt !== undefined ? { createdAt } : {}),
    ...(runningSince !== undefined ? { runningSince } : {}),
  };
}

/** A time oned wrote (epoch seconds), or undefined for none (absent, not a number, or 0). */
function epochSeconds(text: string | undefined): number | undefined {
  const value = text?.trim();
  return value && /^\d+$/.test(value) && Number(value) > 0 ? Number(value) : undefined;
}

/** A VM the local oned has, as its pool listing shows it. */
export interface LocalVm {
  /** `ID`. */
  readonly id: number;
  /** `DEPLOY_ID`, when the VM has one (a VM deployed, or imported, on a host). */
  readonly deployId?: string;
  /** The host of its last history record (`HISTORY_RECORDS/HISTORY/HOSTNAME`), when any. */
  readonly host?: string;
  /** `STATE`, when numeric. */
  readonly state?: number;
  /** `LCM_STATE`, when numeric. */
  readonly lcmState?: number;
}

/**
 * Every VM oned still has, whoever owns it (`one.vmpool.info(session, -2, offset, -size, -1)`:
 * all users' VMs, every state but DONE), with its deploy id and host, read page by page
 * (`readPool`: row offsets from 4.6, so that no answer grows with the pool; an oned before 4.6
 * is asked for the whole pool in one call, `-2, -1, -1, -1`). A VM that is done, or was never
 * created, is not in the answer.
 *
 * @param client The XML-RPC client of the OpenNebula endpoint.
 * @param session `user:password` (an administrator, to see every user's VMs).
 * @returns The VMs, in the pool's order.
 * @throws {OneApiError} when OpenNebula refuses.
 * @throws {CloudError} when a call fails, or the answer is not a `<VM_POOL>` document of VMs
 * with numeric ids in id order ({@link XmlRpcError} for most).
 */
export async function vmPool(client: XmlRpcClient, session: string): Promise<LocalVm[]> {
  const method = "one.vmpool.info";
  const label = `${client.where} answered ${method}`;
  const read = async (start: number, end: number): Promise<PoolPage<LocalVm>> => {
    const result = await oneCall(client, method, session, -2, start, end, -1);
    const pool = resultDocument(client, method, result, "VM_POOL");
    const rows = pool.children.filter((c) => c.name === "VM").map((vm) => {
      const item = localVmOf(vm, label);
      return { id: item.id, item };
    });
    return { rows, chars: typeof result === "string" ? result.length : 0 };
  };
  return await readPool({
    label,
    page: (offset, size) => read(offset, -size),
    whole: () => read(-1, -1),
  });
}

/** A `<VM>` of a pool listing as the driver keeps it; `label` begins the failure's message. */
function localVmOf(vm: XmlElement, label: string): LocalVm {
  const id = childText(vm, "ID")?.trim();
  if (id === undefined || !/^\d+$/.test(id)) {
    throw new XmlRpcError("InvalidResponse", `${label} with a VM without a numeric ID`);
  }
  const deployId = childText(vm, "DEPLOY_ID")?.trim();
  const history = child(vm, "HISTORY_RECORDS")?.children.filter((c) => c.name === "HISTORY");
  const last = history?.[history.length - 1];
  const host = last === undefined ? undefined : childText(last, "HOSTNAME")?.trim();
  const number = (name: string) => {
    const text = childText(vm, name)?.trim();
    return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
  };
  const state = number("STATE");
  const lcmState = number("LCM_STATE");
  return {
    id: Number(id),
    ...(deployId ? { deployId } : {}),
    ...(host ? { host } : {}),
    ...(state !== undefined ? { state } : {}),
    ...(lcmState !== undefined ? { lcmState } : {}),
  };
}

/**
 * The `CAPACITY` section of a host's template (`<HOST><TEMPLATE><CAPACITY>`), as attributes.
 *
 * @param host A `<HOST>` element (from `one.host.info`, or what monitord gives a probe).
 * @returns The attributes (`{ T3_MICRO: "10" }`), or undefined when the template has none.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseXml } from "../util/xml.ts";
 * import { templateCapacityOf } from "./one_api.ts";
 * const host = parseXml(
 *   "<HOST><ID>3</ID><TEMPLATE><CAPACITY><T3_MICRO>10</T3_MICRO></CAPACITY></TEMPLATE></HOST>",
 * );
 * assert.deepEqual(templateCapacityOf(host), { T3_MICRO: "10" });
 * assert.equal(templateCapacityOf(parseXml("<HOST><TEMPLATE/></HOST>")), undefined);
 * ```
 */
export function templateCapacityOf(host: XmlElement): Record<string, string> | undefined {
  const section = child(child(host, "TEMPLATE") ?? host, "CAPACITY");
  if (section === undefined) return undefined;
  return Object.fromEntries(section.children.map((c) => [c.name, c.text]));
}

/** What `one.host.info` says about a host that the probes use. */
export interface OneHostInfo {
  /** `ID`. */
  readonly id: number;
  /**
   * The VMs oned has on the host (`<VMS><ID>..</ID></VMS>`): every VM placed there and not yet
   * gone (active, powered off, suspended), not the undeployed, stopped or done ones. The set
   * oned compares a full VM status list with.
   */
  readonly vmIds: readonly number[];
  /** The `CAPACITY` section of its template, when it has one. */
  readonly capacity?: Record<string, string>;
}

/**
 * Asks OpenNebula about a host (`one.host.info(session, id)`): its VMs and its template's
 * `CAPACITY`.
 *
 * @param client The XML-RPC client of the OpenNebula endpoint.
 * @param session `user:password`.
 * @param hostId The host's id.
 * @returns Its id, VM ids and capacity.
 * @throws {OneApiError} when OpenNebula refuses (wrong session, unknown host...).
 * @throws {XmlRpcError} when the call fails, or the answer is not the `<HOST>` document of that
 * host with numeric VM ids.
 */
export async function hostInfo(
  client: XmlRpcClient,
  session: string,
  hostId: number,
): Promise<OneHostInfo> {
  const method = "one.host.info";
  const result = await oneCall(client, method, session, hostId);
  const about = ` for host ${hostId}`;
  const host = resultDocument(client, method, result, "HOST", about);
  const invalid = (what: string) =>
    new XmlRpcError("InvalidResponse", `${client.where} answered ${method}${about} with ${what}`);
  const id = childText(host, "ID")?.trim();
  if (id !== String(hostId)) throw invalid(`the document of host ${id ?? "(no ID)"}`);
  const vms = child(host, "VMS");
  if (vms === undefined) throw invalid("a HOST document without VMS");
  const vmIds = children(vms, "ID").map((e) => {
    const text = e.text.trim();
    if (!/^\d+$/.test(text)) throw invalid("a VM id that is not a number");
    return Number(text);
  });
  const capacity = templateCapacityOf(host);
  return { id: hostId, vmIds, ...(capacity !== undefined ? { capacity } : {}) };
}

/**
 * Asks OpenNebula for the `CAPACITY` section of a host's template (`one.host.info`).
 *
 * @param client The XML-RPC client of the OpenNebula endpoint.
 * @param session `user:password`.
 * @param hostId The host's id.
 * @returns The section's attributes, or undefined when the template has none.
 * @throws {OneApiError} when OpenNebula refuses.
 * @throws {XmlRpcError} when the call fails, or the answer is not a `<HOST>` document.
 */
export async function hostTemplateCapacity(
  client: XmlRpcClient,
  session: string,
  hostId: number,
): Promise<Record<string, string> | undefined> {
  const method = "one.host.info";
  const result = await oneCall(client, method, session, hostId);
  return templateCapacityOf(resultDocument(client, method, result, "HOST"));
}

/**
 * Asks OpenNebula its version (`one.system.version`).
 *
 * @param client The XML-RPC client of the OpenNebula endpoint.
 * @param session `user:password`.
 * @returns The version as oned writes it (`5.10.1`).
 * @throws {OneApiError} when OpenNebula refuses.
 * @throws {XmlRpcError} when the call fails, or the answer is not a version.
 */
export async function systemVersion(client: XmlRpcClient, session: string): Promise<string> {
  const result = await oneCall(client, "one.system.version", session);
  if (typeof result !== "string" || !/^\d+\.\d+/.test(result)) {
    throw new XmlRpcError(
      "InvalidResponse",
      `${client.where} answered one.system.version with something other than a version`,
    );
  }
  return result;
}

/**
 * Which usage keys a poll string needs for an OpenNebula version: 4.14 renamed `USEDMEMORY` and
 * `USEDCPU` to `MEMORY` and `CPU`.
 *
 * @param version As `one.system.version` answers it.
 * @returns `legacy` before 4.14, `current` from it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { monitoringKeysFor } from "./one_api.ts";
 * assert.equal(monitoringKeysFor("4.12.1"), "legacy");
 * assert.equal(monitoringKeysFor("4.14.2"), "current");
 * assert.equal(monitoringKeysFor("5.10.1"), "current");
 * ```
 */
export function monitoringKeysFor(version: string): "legacy" | "current" {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > 4 || (major === 4 && minor >= 14) ? "current" : "legacy";
}

/**
 * The XML document an OpenNebula method answers as its result, checked to be one `<root>`.
 *
 * @param client The client that called, for messages.
 * @param method The method called.
 * @param result What it answered.
 * @param root The document's expected root element (`HOST`); "" accepts any.
 * @param about What the call was about, for messages (` for host 3`).
 * @returns The document's root element.
 * @throws {XmlRpcError} `InvalidResponse` naming the method for anything else.
 */
export function resultDocument(
  client: XmlRpcClient,
  method: string,
  result: XmlRpcValue,
  root: string,
  about = "",
): XmlElement {
  const invalid = (what: string) =>
    new XmlRpcError("InvalidResponse", `${client.where} answered ${method}${about} with ${what}`);
  if (typeof result !== "string") throw invalid("a result that is not a string");
  let document;
  try {
    document = parseXml(result);
  } catch (error) {
    throw invalid(`a result that is not XML (${error instanceof Error ? error.message : error})`);
  }
  if (root !== "" && document.name !== root) {
    throw invalid(`a <${document.name}> document instead of <${root}>`);
  }
  return document;
}
