/**
 * A stand-in for oned's XML-RPC server, for tests: it answers `one.vm.info` (a DONE VM
 * included, with `STATE` 6, as oned keeps done VMs), `one.vmpool.info` (with oned's filters, id
 * ranges, row offsets and order: `oned_pool.ts`), `one.host.info` (the host's VMs under `<VMS>`, its template's
 * `CAPACITY` and attributes, `EC2_ACCESS` and `EC2_SECRET` kept encrypted with its `ONE_KEY` as
 * 5.4–6.x's oned.conf says and decrypted for the oneadmin group from 5.10 when asked),
 * `one.hostpool.info` and `one.system.config` (its `ONE_KEY` for the oneadmin group)
 * the way oned 3.2–6.10 does (xmlrpc-c's `methodResponse` holding `[success,
 * result, error code]`, the result being the `<VM>` or `<HOST>` document, shaped as
 * `VirtualMachine::to_xml` and `Host::to_xml` write them), refuses a wrong session and an
 * unknown VM or host with oned's own messages and codes, and can be told to misbehave (HTTP
 * 500, no answer at all, an answer that is not XML-RPC, a VM document without `LCM_STATE`).
 * Listens on 127.0.0.1, on a free port.
 *
 * @module
 */

import { child, parseXml, type XmlElement } from "../lib/util/xml.ts";
import { encryptOneValue } from "../lib/opennebula/one_crypt.ts";
import type { OnedVmView } from "./one_vmm.ts";
import { type ListOrder, listPool } from "./oned_pool.ts";
import { releaseAtLeast } from "./partner_oned.ts";

/** oned's error codes (`Request::ErrorCode`). */
export const ONE_ERROR = {
  AUTHENTICATION: 0x0100,
  AUTHORIZATION: 0x0200,
  NO_EXISTS: 0x0400,
} as const;

/** The host attributes 5.10–6.10's oned.conf lists as `HOST_ENCRYPTED_ATTR` (5.4–5.8 always). */
const HOST_ENCRYPTED_ATTR = new Set(["EC2_ACCESS", "EC2_SECRET"]);

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
  /**
   * Sets attributes of a host's template, as `onehost update` does: oned before 7.0 keeps
   * `EC2_ACCESS` and `EC2_SECRET` encrypted with {@link FakeOned.oneKey}.
   */
  setHostAttributes(hostId: number, attributes: Record<string, string>): Promise<void>;
  /** The host's template attributes as oned keeps them (encrypted ones encrypted). */
  storedHostAttributes(hostId: number): Readonly<Record<string, string>>;
  /** oned's `ONE_KEY`, which encrypts host attributes. */
  readonly oneKey: string;
  /**
   * Puts its user in the oneadmin group (the default) or out of it: oned then decrypts nothing
   * for it and keeps `ONE_KEY` from it (5.10+), or refuses it its configuration (before).
   */
  setAdmin(admin: boolean): void;
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
  const hosts = new Map<
    number,
    { name: string; capacity?: Record<string, string>; attributes?: Record<string, string> }
  >();
  const oneKey = "9c5e0c1f3a7b2d4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6";
  let admin = true;
  const decrypting = () => admin && releaseAtLeast(version ?? "6.10.0", "5.10.0");
  const hostIdOf = (name: string | undefined) =>
    [...hosts].find(([, h]) => h.name === (name ?? "aws-test"))?.[0] ?? 0;
  let hook: ((call: OnedCall) => Promise<void> | void) | undefined;
  let version: string | undefined;
  let listOrder: ListOrder | undefined;
  const held: (() => void)[] = [];
  let misbehaving: OnedFault | undefined;

  /** A host's document as `Host::to_xml` writes it, its encrypted attributes decrypted or not. */
  const hostDocument = (id: number, decrypt: boolean): string => {
    const host = hosts.get(id)!;
    const entries = Object.entries(host.capacity ?? {}).map(([k, v]) =>
      `<${k}><![CDATA[${v}]]></${k}>`
    );
    const attributes = Object.entries(host.attributes ?? {}).map(([k, v]) =>
      `<${k}><![CDATA[${decrypt ? plainOf(v) : v}]]></${k}>`
    );
    const onHost = [...vms].filter(([, vm]) =>
      ON_HOST_STATES.has(vm.state) && (vm.host ?? "aws-test") === host.name
    ).map(([vmId]) => vmId).sort((a, b) => a - b);
    // Host::to_xml: HOST_SHARE, then the VM collection, then the template, then MONITORING.
    return `<HOST><ID>${id}</ID><NAME>${escape(host.name)}</NAME><STATE>2</STATE>` +
      `<PREV_STATE>2</PREV_STATE><IM_MAD>provider</IM_MAD><VM_MAD>provider</VM_MAD>` +
      `<CLUSTER_ID>0</CLUSTER_ID><CLUSTER>default</CLUSTER><HOST_SHARE>` +
      `<MEM_USAGE>0</MEM_USAGE><CPU_USAGE>0</CPU_USAGE><TOTAL_MEM>0</TOTAL_MEM>` +
      `<TOTAL_CPU>0</TOTAL_CPU><MAX_MEM>0</MAX_MEM><MAX_CPU>0</MAX_CPU>` +
      `<RUNNING_VMS>${onHost.length}</RUNNING_VMS><VMS_THREAD>1</VMS_THREAD>` +
      `<DATASTORES><DISK_USAGE>0</DISK_USAGE><FREE_DISK>0</FREE_DISK><MAX_DISK>0</MAX_DISK>` +
      `<USED_DISK>0</USED_DISK></DATASTORES><PCI_DEVICES/><NUMA_NODES/></HOST_SHARE>` +
      `<VMS>${onHost.map((vmId) => `<ID>${vmId}</ID>`).join("")}</VMS>` +
      `<TEMPLATE>${host.capacity ? `<CAPACITY>${entries.join("")}</CAPACITY>` : ""}${
        attributes.join("")
      }<PUBLIC_CLOUD><![CDATA[YES]]></PUBLIC_CLOUD></TEMPLATE><MONITORING/></HOST>`;
  };
  /** Values oned encrypted, by what they encrypt: oned's own decryption, for the stand-in. */
  const plains = new Map<string, string>();
  const plainOf = (stored: string) => plains.get(stored) ?? stored;

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
    if (method === "one.hostpool.info") {
      if (params[0] !== session) {
        return xml(
          answer(false, "[HostPoolInfo] User couldn't be authenticated, aborting call.", 256),
        );
      }
      return xml(
        answer(
          true,
          `<HOST_POOL>${
            [...hosts.keys()].sort((a, b) => a - b).map((id) => hostDocument(id, false)).join("")
          }</HOST_POOL>`,
          0,
        ),
      );
    }
    if (method === "one.system.config") {
      if (params[0] !== session) {
        return xml(
          answer(false, "[SystemConfig] User couldn't be authenticated, aborting call.", 256),
        );
      }
      if (!admin && !releaseAtLeast(version ?? "6.10.0", "5.10.0")) {
        return xml(
          answer(
            false,
            "[SystemConfig] The oned configuration can only be retrieved by users in the oneadmin group",
            ONE_ERROR.AUTHORIZATION,
          ),
        );
      }
      return xml(
        answer(
          true,
          `<OPENNEBULA_CONFIGURATION><PORT><![CDATA[2633]]></PORT>${
            admin ? `<ONE_KEY><![CDATA[${oneKey}]]></ONE_KEY>` : ""
          }</OPENNEBULA_CONFIGURATION>`,
          0,
        ),
      );
    }
    if (method === "one.host.info") {
      const [given, id, decrypt] = params;
      if (
        typeof given !== "string" || typeof id !== "number" ||
        (decrypt !== undefined && typeof decrypt !== "boolean")
      ) {
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
      return xml(answer(true, hostDocument(id, decrypt === true && decrypting()), 0));
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
            hosts.set(id, {
              ...hosts.get(id),
              name: hosts.get(id)?.name ?? `host-${id}`,
              capacity: { ...capacity },
            }),
          async setHostAttributes(id, given) {
            const encrypts = !releaseAtLeast(version ?? "6.10.0", "7.0.0");
            const attributes = { ...hosts.get(id)?.attributes };
            for (const [name, value] of Object.entries(given)) {
              if (encrypts && HOST_ENCRYPTED_ATTR.has(name)) {
                const encrypted = await encryptOneValue(value, oneKey);
                plains.set(encrypted, value);
                attributes[name] = encrypted;
              } else attributes[name] = value;
            }
            hosts.set(id, {
              ...hosts.get(id),
              name: hosts.get(id)?.name ?? `host-${id}`,
              attributes,
            });
          },
          storedHostAttributes: (id) => ({ ...hosts.get(id)?.attributes }),
          oneKey,
          setAdmin: (given) => admin = given,
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
