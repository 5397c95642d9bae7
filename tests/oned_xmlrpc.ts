/**
 * A stand-in for oned's XML-RPC server, for tests: it answers `one.vm.info` (and
 * `one.vmpool.info`, every VM but DONE ones, as the host probes ask) the way oned
 * 3.2–4.14 does (xmlrpc-c's `methodResponse` holding `[success, result, error code]`, the
 * result being the `<VM>` document), refuses a wrong session and an unknown VM with oned's
 * own messages and codes, and can be told to misbehave (HTTP 500, no answer at all, an answer
 * that is not XML-RPC, a VM document without `LCM_STATE`). Listens on 127.0.0.1, on a free port.
 *
 * @module
 */

import { child, parseXml, type XmlElement } from "../lib/xml.ts";
import type { OnedVmView } from "./one_vmm.ts";

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
}

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
  /** Makes every later call misbehave this way (`undefined`: answer normally again). */
  misbehave(fault: OnedFault | undefined): void;
  /** Sets the version `one.system.version` answers (none: the method is not known). */
  setVersion(version: string | undefined): void;
  /** Gives a host a template `CAPACITY` section (`one.host.info` answers it). */
  setHostCapacity(hostId: number, capacity: Record<string, string>): void;
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

/** The VM document of `one.vm.info`, shaped as oned 4.14 writes it. */
function vmDocument(id: number, vm: OnedVm, withLcmState: boolean): string {
  const stime = 1_700_000_000 + id;
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
    }</HOSTNAME><STIME>${stime}</STIME>` +
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
  const hosts = new Map<number, Record<string, string>>();
  let version: string | undefined;
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
    calls.push({
      method,
      params: params.filter((p): p is string | number | boolean => p !== undefined),
    });
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
      if (
        typeof given !== "string" || filter.length !== 4 ||
        filter.some((f) => typeof f !== "number")
      ) {
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
      // -2 (every user's), -1 -1 (any id), -1 (any state but DONE): what the probes ask.
      const listed = [...vms].filter(([, vm]) => vm.state !== DONE);
      return xml(
        answer(
          true,
          `<VM_POOL>${listed.map(([id, vm]) => vmDocument(id, vm, true)).join("")}</VM_POOL>`,
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
      const capacity = hosts.get(id);
      if (!capacity) return xml(answer(false, `[HostInfo] Error getting host [${id}].`, 1024));
      const entries = Object.entries(capacity).map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`);
      return xml(
        answer(
          true,
          `<HOST><ID>${id}</ID><NAME>host-${id}</NAME><TEMPLATE><CAPACITY>${
            entries.join("")
          }</CAPACITY><PUBLIC_CLOUD><![CDATA[YES]]></PUBLIC_CLOUD></TEMPLATE></HOST>`,
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
    return xml(answer(true, vmDocument(id, vm, misbehaving !== "no-lcm-state"), 0));
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
          setHostCapacity: (id, capacity) => hosts.set(id, { ...capacity }),
          setVersion: (given) => version = given,
          close,
          [Symbol.asyncDispose]: close,
        });
      },
    }, handle);
  });
}
