/**
 * A partner OpenNebula cloud inside the suite's real front-end: the same oned, reached through
 * its XML-RPC API as a partner user of its own group with VM quotas, whose VMs run on a host of
 * OpenNebula's own dummy drivers (im and vmm `dummy`), in a cluster of its own with a system
 * datastore of the dummy transfer driver. Everything is made with OpenNebula's CLI and API as
 * oneadmin; nothing answers for oned.
 *
 * @module
 */

import { child, children, childText, parseXml, type XmlElement } from "../../lib/util/xml.ts";
import { oneCall } from "../../lib/one_xmlrpc/one_rpc.ts";
import type { XmlRpcParam } from "../../lib/one_xmlrpc/xmlrpc.ts";
import { type Frontend, type VmView, vmView } from "./frontend.ts";

/** The partner user's VM quota: 3 VMs, 4 CPU, 2048 MB. */
export const PARTNER_QUOTA = { vms: 3, cpu: 4, memoryMiB: 2048 } as const;

/** The partner template's size: oned charges its `CPU` to the quota, not its `VCPU`. */
export const PARTNER_SIZE = { cpu: 1, vcpu: 2, memoryMiB: 512 } as const;

/** What the suite made for the partner cloud. */
export interface PartnerCloud {
  readonly user: string;
  readonly userId: number;
  readonly group: string;
  readonly groupId: number;
  /** `user:password`. */
  readonly session: string;
  /** The partner user's one_auth-style file (mode 600). */
  readonly authFile: string;
  /** The dummy host the partner's VMs run on. */
  readonly dummyHost: string;
  readonly dummyHostId: number;
  /** The template the partner user instantiates (only the dummy host can run it). */
  readonly templateId: number;
}

/** The id a CLI `create` printed (`ID: 4`). */
function printedId(out: string): number {
  const id = Number(out.match(/ID: (\d+)/)?.[1]);
  if (!Number.isInteger(id)) throw new Error(`no ID in ${out}`);
  return id;
}

/** Makes the partner cloud's user, group, quota, cluster, datastore, dummy host and template. */
export async function createPartnerCloud(fe: Frontend, dir: string): Promise<PartnerCloud> {
  const user = "partner";
  const group = "partners";
  const password = crypto.randomUUID();
  const groupId = printedId(await fe.must("onegroup", "create", group));
  const userId = printedId(await fe.must("oneuser", "create", user, password));
  await fe.must("oneuser", "chgrp", user, group);
  await fe.call(
    "one.user.quota",
    userId,
    `VM = [ VMS = "${PARTNER_QUOTA.vms}", CPU = "${PARTNER_QUOTA.cpu}", MEMORY = "${PARTNER_QUOTA.memoryMiB}" ]`,
  );
  const cluster = "partner-cloud";
  await fe.must("onecluster", "create", cluster);
  await Deno.writeTextFile(
    `${dir}/partner-system.ds`,
    'NAME = "partner-system"\nTYPE = "SYSTEM_DS"\nTM_MAD = "dummy"\n',
  );
  const datastoreId = printedId(
    await fe.must("onedatastore", "create", "--cluster", cluster, `${dir}/partner-system.ds`),
  );
  const dummyHost = "partner-dummy";
  const dummyHostId = printedId(
    await fe.must(
      "onehost",
      "create",
      dummyHost,
      "-i",
      "dummy",
      "-v",
      "dummy",
      "--cluster",
      cluster,
    ),
  );
  await Deno.writeTextFile(
    `${dir}/partner.tmpl`,
    [
      'NAME = "partner-small"',
      `CPU = "${PARTNER_SIZE.cpu}"`,
      `VCPU = "${PARTNER_SIZE.vcpu}"`,
      `MEMORY = "${PARTNER_SIZE.memoryMiB}"`,
      'CONTEXT = [ PARTNER_SETTING = "kept" ]',
      `SCHED_REQUIREMENTS = "ID = ${dummyHostId}"`,
      "",
    ].join("\n"),
  );
  const templateId = printedId(await fe.must("onetemplate", "create", `${dir}/partner.tmpl`));
  await fe.must("onetemplate", "chown", String(templateId), user, group);
  await waitMonitored(fe, datastoreId);
  const authFile = `${dir}/partner_auth`;
  await Deno.writeTextFile(authFile, `${user}:${password}\n`, { mode: 0o600 });
  return {
    user,
    userId,
    group,
    groupId,
    session: `${user}:${password}`,
    authFile,
    dummyHost,
    dummyHostId,
    templateId,
  };
}

/** Waits until oned has monitored a datastore: until then the scheduler places nothing there. */
async function waitMonitored(fe: Frontend, id: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const ds = parseXml(String(await fe.call("one.datastore.info", id)));
    if (Number(childText(ds, "TOTAL_MB") ?? "0") > 0) return;
    if (Date.now() > deadline) throw new Error(`oned never monitored datastore ${id}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Calls oned's XML-RPC API as the partner user. */
export function asPartner(
  fe: Frontend,
  partner: PartnerCloud,
  method: string,
  ...params: XmlRpcParam[]
) {
  return oneCall(fe.rpc, method, partner.session, ...params);
}

/** A partner VM as oned shows it. */
export interface PartnerVmView extends VmView {
  readonly name: string;
  readonly owner: string;
  readonly group: string;
  /** The host of its last history record. */
  readonly hostname: string;
  /** Its user template's attributes. */
  readonly userTemplate: Record<string, string>;
}

/** One partner VM, as oneadmin reads it (`one.vm.info`). */
export async function partnerVm(fe: Frontend, id: number): Promise<PartnerVmView> {
  const vm = await fe.vm(id);
  const history = children(child(vm, "HISTORY_RECORDS") ?? vm, "HISTORY").at(-1);
  return {
    ...vmView(vm),
    name: childText(vm, "NAME") ?? "",
    owner: childText(vm, "UNAME") ?? "",
    group: childText(vm, "GNAME") ?? "",
    hostname: history ? childText(history, "HOSTNAME") ?? "" : "",
    userTemplate: Object.fromEntries(
      (child(vm, "USER_TEMPLATE")?.children ?? []).map((e) => [e.name, e.text]),
    ),
  };
}

/** Waits until a partner VM is in a state (`RUNNING`, `POWEROFF`, `DONE`). */
export async function waitPartnerVm(
  fe: Frontend,
  id: number,
  wanted: string,
  timeoutMs = 120_000,
): Promise<PartnerVmView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const vm = await partnerVm(fe, id);
    if (vm.state === wanted || vm.lcmState === wanted) return vm;
    if (Date.now() > deadline) {
      throw new Error(`partner VM ${id} is ${vm.state}/${vm.lcmState}, not ${wanted}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The partner user's VM quota counters as oned charges them (`VM_QUOTA/VM`). */
export async function partnerQuota(
  fe: Frontend,
  partner: PartnerCloud,
): Promise<{ vmsUsed: number; cpuUsed: number; memoryUsed: number }> {
  const user = parseXml(String(await fe.call("one.user.info", partner.userId)));
  const vm: XmlElement | undefined = child(child(user, "VM_QUOTA") ?? user, "VM");
  const used = (name: string) => Number(vm ? childText(vm, name) ?? "0" : "0");
  return {
    vmsUsed: used("VMS_USED"),
    cpuUsed: used("CPU_USED"),
    memoryUsed: used("MEMORY_USED"),
  };
}

/** Every partner VM named for a local VM (`one-<id>-<host>`), in any state, DONE included. */
export async function partnerVmsNamed(fe: Frontend, name: string): Promise<VmView[]> {
  const pool = parseXml(String(await fe.call("one.vmpool.info", -2, -1, -1, -2)));
  return pool.children.filter((e) => e.name === "VM" && childText(e, "NAME") === name).map(
    vmView,
  );
}
