/**
 * A stand-in for oned's XML-RPC server, for tests: it answers `one.vm.info` (a DONE VM
 * included, with `STATE` 6, as oned keeps done VMs), `one.vmpool.info` (with oned's filters, id
 * ranges, row offsets and order: `oned_pool.ts`) and `one.host.info` (the host's VMs under `<VMS>`, its template's
 * `CAPACITY`) the way oned 3.2–6.10 does (xmlrpc-c's `methodResponse` holding `[success,
 * result, error code]`, the result being the `<VM>` or `<HOST>` document, shaped as
 * `VirtualMachine::to_xml` and `Host::to_xml` write them), refuses a wrong session and an
 * unknown VM or host with oned's own messages and codes, and can be told to misbehave (HTTP
 * 500, no answer at all, an answer that is not XML-RPC, a VM document without `LCM_STATE`).
 * Listens on 127.0.0.1, on a free port.
 *
 * @module
 */

import { child, parseXml, type XmlElement } from "../lib/util/xml.ts";
import type { OnedVmView } from "./one_vmm.ts";
import { type ListOrder, listPool } from "./oned_pool.ts";
import { releaseAtLeast } from "./partner_oned.ts";

/** oned's error codes (`Request::ErrorCode`). */
export const ONE_ERROR = { AUTHENTICATION: 0x0100, NO_EXISTS: 0x0400 } as const;

/** oned's `STATE` of a VM that is done (deleted): left out of the pool's listing. */
export const DONE = 6;

/** A VM as oned has it. */
export interface OnedVm {
  /** `STATE`. */
  readonly state: number;
  /** `LCM_STATE`. */
  readonly lcmState: number;
  /** `DEPLOY_ID`. */
  readonly deployId?: string;
  /** The host of its history record (`aws-test` when not given). */
  readonly host?: string;
  /** When it was created (`STIME`; 1,700,000,000 + id when not given). */
  readonly stime?: number;
  /** When its last stay on its host began running (the history's `RSTIME`; `stime` when not given). */
  readonly rstime?: number;
}

/**
 * The `STATE`s in which oned keeps a VM in its host's VM collection (`<HOST><VMS>`): from
 * dispatch to the end of its epilog. Undeployed, stopped and done VMs have left the host.
 */
const ON_HOST_STATES = new Set([3, 5, 8]); // ACTIVE, SUSPENDED, POWEROFF

/** How the server misbehaves, until told otherwise. */
export type OnedFault =
  | "http-500"
  | "no-answer"
  | "not-xmlrpc"
  | "no-lcm-state";

/** One call as the server received it. */
export interface OnedCall {
  /** `methodName`. */
  readonly method: string;
  /** The parameters, decoded (strings, numbers, booleans). */
  readonly params: readonly (string | number | boolean)[];
}

/** A running stand-in oned. */
export interface FakeOned extends OnedVmView, AsyncDisposable {
  /** Its endpoint, `http://127.0.0.1:<port>/RPC2`. */
  readonly url: string;
  /** The session string it accepts (`user:password`). */
  readonly session: string;
  /** Calls received so far. */
  readonly calls: OnedCall[];
  /** The VMs it knows, by id. */
  readonly vms: Map<number, OnedVm>;
  /** Records a VM as oned has it. */
  setVm(id: number, vm: OnedVm): void;
  /** Makes every later call misbehave this way (`undefined`: answer normally again). */
  misbehave(fault: OnedFault | undefined): void;
  /**
   * Sets the version `one.system.version` answers (none: the method is not known); pool
   * listings follow its rules (6.10's when none): row offsets from 4.6, descending from 5.8.
   */
  setVersion(version: string | undefined): void;
  /** Orders pool listings so (`API_LIST_ORDER`); the version's default when undefined. */
  setListOrder(order: ListOrder | undefined): void;
  /**
   * Makes oned have a host (`one.host.info` answers it, with the VMs whose history names it);
   * a host is also made by giving it a capacity.
   */
  setHost(hostId: number, name: string): void;
  /** Gives a host a template `CAPACITY` section (`one.host.info` answers it). */
  setHostCapacity(hostId: number, capacity: Record<string, string>): void;
  /** Runs before each call is answered (e.g. to change a VM between two calls of a probe). */
  beforeAnswer(hook: ((call: OnedCall) => Promise<void> | void) | undefined): void;
  /** Stops the server, releasing calls left unanswered. */
  close(): Promise<void>;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** oned's answer, written as xmlrpc-c writes it (CRLF line ends, `<i4>` integers). */
function answer(success: boolean, result: string, code: number): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\r\n<methodResponse>\r\n<params>\r\n' +
    `<param><value><array><data>\r\n<value><boolean>${success ? 1 : 0}</boolean></value>\r\n` +
    `<value><string>${escape(result)}</string></value>\r\n<value><i4>${code}</i4></value>\r\n` +
    "</data></array></value></param>\r\n</params>\r\n</methodResponse>\r\n";
}

function fault(code: number, text: string): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\r\n<methodResponse>\r\n<fault>\r\n' +
    "<value><struct>\r\n" +
    `<member><name>faultCode</name>\r\n<value><i4>${code}</i4></value></member>\r\n` +
    `<member><name>faultString</name>\r\n<value><string>${
      escape(text)
    }</string></value></member>\r\n` +
    "</struct></value>\r\n</fault>\r\n</methodResponse>\r\n";
}

/** The VM document of `one.vm.info`, shaped as oned 4.14–6.10 writes it. */
function vmDocument(id: number, vm: OnedVm, withLcmState: boolean, hostId = 0): string {
  const stime = vm.stime ?? 1_700_000_000 + id;
  return `<VM><ID>${id}</ID><UID>0</UID><GID>0</GID><UNAME>oneadmin</UNAME>` +
    `<GNAME>oneadmin</GNAME><NAME>one-${id}</NAME><PERMISSIONS><OWNER_U>1</OWNER_U>` +
    `<OWNER_M>1</OWNER_M><OWNER_A>0</OWNER_A><GROUP_U>0</GROUP_U><GROUP_M>0</GROUP_M>` +
    `<GROUP_A>0</GROUP_A><OTHER_U>0</OTHER_U><OTHER_M>0</OTHER_M><OTHER_A>0</OTHER_A>` +
    `</PERMISSIONS><LAST_POLL>${stime + 60}</LAST_POLL><STATE>${vm.state}</STATE>` +
    (withLcmState ? `<LCM_STATE>${vm.lcmState}</LCM_STATE>` : "") +
    `<PREV_STATE>${vm.state}</PREV_STATE><PREV_LCM_STATE>3</PREV_LCM_STATE>` +
    `<RESCHED>0</RESCHED><STIME>${stime}</STIME><ETIME>0</ETIME>` +
    `<DEPLOY_ID>${vm.deployId ?? ""}</DEPLOY_ID><MONITORING/><TEMPLATE>` +
    `<CPU><![CDATA[1]]></CPU><MEMORY><![CDATA[1024]]></MEMORY>` +
    `<VMID><![CDATA[${id}]]></VMID></TEMPLATE><USER_TEMPLATE/><HISTORY_RECORDS><HISTORY>` +
    `<OID>${id}</OID><SEQ>0</SEQ><HOSTNAME>${
      escape(vm.host ?? "aws-test")
    }</HOSTNAME><HID>${hostId}</HID><CID>0</CID><STIME>${stime}</STIME>` +
    `<ETIME>${vm.state === DONE ? stime + 3600 : 0}</ETIME><PSTIME>${stime}</PSTIME>` +
    `<PETIME>${stime}</PETIME><RSTIME>${vm.rstime ?? stime}</RSTIME><RETIME>0</RETIME>` +
    `</HISTORY></HISTORY_RECORDS></VM>`;
}

/** Decodes one request parameter; oned's methods take strings, ints and booleans only. */
function decodeParam(value: XmlElement | undefined): string | number | boolean | undefined {
  if (!value) return undefined;
  const typed = value.children[0];
  if (!typed) return value.text;
  switch (typed.name) {
    case "string":
      return typed.text;
    case "int":
    case "i4":
      return Number(typed.text.trim());
    case "boolean":
      return typed.text.trim() === "1";
    default:
      return undefined;
  }
}

/**
 * Starts a stand-in oned.
 *
 * @param credentials The user and password it accepts.
 * @returns The running server.
 */
export function startFakeOned(
  credentials: { user: string; password: string } = { user: "oneadmin", password: "0pen-Nebula" },
): Promise<FakeOned> {
  const session = `${credentials.user}:${credentials.password}`;
  const calls: OnedCall[] = [];
  const vms = new Map<number, OnedVm>();
  const hosts = new Map<number, { name: string; capacity?: Record<string, string> }>();
  const hostIdOf = (name: string | undefined) =>
    [...hosts].find(([, h]) => h.name === (name ?? "aws-test"))?.[0] ?? 0;
  let hook: ((call: OnedCall) => Promise<void> | void) | undefined;
  let version: string | undefined;
  let listOrder: ListOrder | undefined;
  const held: (() => void)[] = [];
  let misbehaving: OnedFault | undefined;

  const handle = async (request: Request): Promise<Response> => {
    const text = await request.text();
    const xml = (body: string) =>
      new Response(body, { headers: { "content-type": "text/xml; charset=utf-8" } });
    let method = "";
    let params: (string | number | boolean | undefined)[] = [];
    try {
      const call = parseXml(text);
      method = child(call, "methodName")?.text.trim() ?? "";
      params = (child(call, "params")?.children ?? []).map((p) => decodeParam(child(p, "value")));
    } catch {
      return xml(fault(-503, "Call XML not a proper XML-RPC call"));
    }
    const call = {
      method,
      params: params.filter((p): p is string | number | boolean => p !== undefined),
    };
    calls.push(call);
    await hook?.(call);
    if (misbehaving === "http-500") {
      return new Response("Internal Server Error", { status: 500 });
    }
    if (misbehaving === "no-answer") {
      await new Promise<void>((resolve) => held.push(resolve));
      return new Response("closing", { status: 503 });
    }
    if (misbehaving === "not-xmlrpc") {
      return new Response("<html><body>Welcome</body></html>", {
        headers: { "content-type": "text/html" },
      });
    }
    if (method === "one.vmpool.info") {
      const [given, ...filter] = params;
      // Every VM is oneadmin's (uid 0); oned's paging, order and parameter checks, by release.
      const listing = listPool(
        filter,
        [...vms].map(([id, vm]) => ({ id, state: vm.state, uid: 0 })),
        (than) => releaseAtLeast(version ?? "6.10.0", than),
        listOrder,
      );
      if (typeof given !== "string" || "fault" in listing) {
        return xml(fault(-501, "Type mismatch in the parameters of one.vmpool.info"));
      }
      if (given !== session) {
        return xml(
          answer(
            false,
            "[VirtualMachinePoolInfo] User couldn't be authenticated, aborting call.",
            ONE_ERROR.AUTHENTICATION,
          ),
        );
      }
      if ("refusal" in listing) {
        return xml(answer(false, `[one.vmpool.info] ${listing.refusal}`, listing.code));
      }
      return xml(
        answer(
          true,
          `<VM_POOL>${
            listing.ids.map((id) => {
              const vm = vms.get(id)!;
              return vmDocument(id, vm, true, hostIdOf(vm.host));
            }).join("")
          }</VM_POOL>`,
          0,
        ),
      );
    }
    if (method === "one.system.version" && version !== undefined) {
      return xml(
        params[0] === session
          ? answer(true, version, 0)
          : answer(false, "[SystemVersion] User couldn't be authenticated, aborting call.", 256),
      );
    }
    if (method === "one.host.info") {
      const [given, id] = params;
      if (typeof given !== "string" || typeof id !== "number") {
        return xml(fault(-501, "Type mismatch in the parameters of one.host.info"));
      }
      if (given !== session) {
        return xml(
          answer(false, "[HostInfo] User couldn't be authenticated, aborting call.", 256),
        );
      }
      const host = hosts.get(id);
      if (!host) {
        return xml(
          answer(false, `[one.host.info] Error getting host [${id}].`, ONE_ERROR.NO_EXISTS),
        );
      }
      const entries = Object.entries(host.capacity ?? {}).map(([k, v]) =>
        `<${k}><![CDATA[${v}]]></${k}>`
      );
      const onHost = [...vms].filter(([, vm]) =>
        ON_HOST_STATES.has(vm.state) && (vm.host ?? "aws-test") === host.name
      ).map(([vmId]) => vmId).sort((a, b) => a - b);
      // Host::to_xml: HOST_SHARE, then the VM collection, then the template, then MONITORING.
      return xml(
        answer(
          true,
          `<HOST><ID>${id}</ID><NAME>${escape(host.name)}</NAME><STATE>2</STATE>` +
            `<PREV_STATE>2</PREV_STATE><IM_MAD>provider</IM_MAD><VM_MAD>provider</VM_MAD>` +
            `<CLUSTER_ID>0</CLUSTER_ID><CLUSTER>default</CLUSTER><HOST_SHARE>` +
            `<MEM_USAGE>0</MEM_USAGE><CPU_USAGE>0</CPU_USAGE><TOTAL_MEM>0</TOTAL_MEM>` +
            `<TOTAL_CPU>0</TOTAL_CPU><MAX_MEM>0</MAX_MEM><MAX_CPU>0</MAX_CPU>` +
            `<RUNNING_VMS>${onHost.length}</RUNNING_VMS><VMS_THREAD>1</VMS_THREAD>` +
            `<DATASTORES><DISK_USAGE>0</DISK_USAGE><FREE_DISK>0</FREE_DISK><MAX_DISK>0</MAX_DISK>` +
            `<USED_DISK>0</USED_DISK></DATASTORES><PCI_DEVICES/><NUMA_NODES/></HOST_SHARE>` +
            `<VMS>${onHost.map((vmId) => `<ID>${vmId}</ID>`).join("")}</VMS>` +
            `<TEMPLATE>${
              host.capacity ? `<CAPACITY>${entries.join("")}</CAPACITY>` : ""
            }<PUBLIC_CLOUD><![CDATA[YES]]></PUBLIC_CLOUD></TEMPLATE><MONITORING/></HOST>`,
          0,
        ),
      );
    }
    if (method !== "one.vm.info") {
      return xml(fault(-506, `Method '${method}' not defined`));
    }
    const [given, id] = params;
    if (typeof given !== "string" || typeof id !== "number" || params.length !== 2) {
      return xml(fault(-501, "Type mismatch in the parameters of one.vm.info"));
    }
    if (given !== session) {
      return xml(
        answer(
          false,
          "[VirtualMachineInfo] User couldn't be authenticated, aborting call.",
          ONE_ERROR.AUTHENTICATION,
        ),
      );
    }
    const vm = vms.get(id);
    if (!vm) {
      return xml(
        answer(
          false,
          `[VirtualMachineInfo] Error getting virtual machine [${id}].`,
          ONE_ERROR.NO_EXISTS,
        ),
      );
    }
    return xml(
      answer(true, vmDocument(id, vm, misbehaving !== "no-lcm-state", hostIdOf(vm.host)), 0),
    );
  };

  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) => {
        const close = async () => {
          for (const release of held.splice(0)) release();
          await server.shutdown();
        };
        resolve({
          url: `http://127.0.0.1:${port}/RPC2`,
          session,
          calls,
          vms,
          misbehave: (f) => misbehaving = f,
          setVm: (id, vm) => vms.set(id, { ...vm }),
          setHost: (id, name) => hosts.set(id, { ...hosts.get(id), name }),
          setHostCapacity: (id, capacity) =>
            hosts.set(id, { name: hosts.get(id)?.name ?? `host-${id}`, capacity: { ...capacity } }),
          beforeAnswer: (given) => hook = given,
          setVersion: (given) => version = given,
          setListOrder: (order) => listOrder = order,
          close,
          [Symbol.asyncDispose]: close,
        });
      },
    }, handle);
  });
}
