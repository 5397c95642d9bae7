/**
 * The wire of a partner oned, release by release, for the stand-in (`partner_oned.ts`): how
 * oned writes its answers and faults, the name its messages give a method, which methods a
 * release has, and the parameters each method reads, checked as oned checks them.
 *
 * What oned does, from its source (tag:path:line of OpenNebula's repository) and xmlrpc-c's:
 * - Success: `[true, value, 0]` in every release (release-6.10.5:src/rm/Request.cc:885-904).
 * - Failure: `[false, message, code]` up to 5.2 (release-4.14.2:src/rm/Request.cc:527-539),
 *   then `resp_id`, the id of the object the error is about or -1 (5.4-beta1 to 5.8:
 *   release-5.8.5:src/rm/Request.cc:722-735), then from 5.9.80 (5.10) the replication index as
 *   an `<i8>`, `UINT64_MAX` (-1 as a signed 64-bit int) unless the error is REPLICATION
 *   (release-5.10.5:src/rm/Request.cc:752-777, release-6.10.5:src/rm/Request.cc:747-772).
 * - Messages start with `[<method>] `: the C++ class name up to 5.2 (`[VirtualMachineAction]`,
 *   release-4.14.2:include/RequestManagerVirtualMachine.h:121), the API name from 5.4-beta1.
 * - xmlrpc-c dispatches without checking a method's declared signature; each method reads its
 *   parameters with `paramList.getInt(i)`, `getString(i)`, `getBoolean(i)`, which throw a type
 *   fault (-501) for a missing one ("Not enough parameters") or one of another type
 *   ("Parameter that is supposed to be integer is not"), and read an optional one only when
 *   the call has more parameters (`if (paramList.size() > i)`); parameters past the last read
 *   are ignored. The session (parameter 0) is read, and authenticated, before the method's own
 *   (release-6.10.5:src/rm/Request.cc:365-403); an unknown method is fault -506
 *   (xmlrpc-c src/registry.c, "Method '%s' not defined").
 *
 * @module
 */

import { child, parseXml, type XmlElement } from "../lib/util/xml.ts";
import { releaseAtLeast } from "./partner_oned.ts";

/**
 * oned's error codes (`Request::ErrorCode`) and xmlrpc-c's fault codes: the numbers the driver
 * reads them by, which the tests of what the driver prints pin on their own.
 */
export { ONE_ERROR as ONE_ERR, XMLRPC_C_FAULT as FAULT } from "../lib/one_xmlrpc/one_rpc.ts";

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** An `[ ... ]` answer as xmlrpc-c writes it (CRLF line ends, `<i4>` and `<i8>` integers). */
function array(values: readonly string[]): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\r\n<methodResponse>\r\n<params>\r\n' +
    `<param><value><array><data>\r\n${values.map((v) => `<value>${v}</value>\r\n`).join("")}` +
    "</data></array></value></param>\r\n</params>\r\n</methodResponse>\r\n";
}

/**
 * oned's answer to a call it did: `[true, value, 0]`.
 *
 * @param value An id (`<i4>`) or a document or text (`<string>`).
 */
export function okAnswer(value: string | number): string {
  const typed = typeof value === "number"
    ? `<i4>${value}</i4>`
    : `<string>${escape(value)}</string>`;
  return array(["<boolean>1</boolean>", typed, "<i4>0</i4>"]);
}

/**
 * oned's answer to a call it refused, shaped as the release shapes it (3, 4 or 5 elements).
 *
 * @param release The release answering (`6.10.0`).
 * @param message The message, `[<method>] ` included.
 * @param code The error code ({@link ONE_ERR}).
 * @param respId The id of the object the error is about (`resp_id`), or -1.
 * @param replicationIndex The log entry that failed to replicate (REPLICATION), else -1.
 */
export function failAnswer(
  release: string,
  message: string,
  code: number,
  respId = -1,
  replicationIndex = -1,
): string {
  const values = [
    "<boolean>0</boolean>",
    `<string>${escape(message)}</string>`,
    `<i4>${code}</i4>`,
  ];
  if (releaseAtLeast(release, "5.4")) values.push(`<i4>${respId}</i4>`);
  if (releaseAtLeast(release, "5.9.80")) values.push(`<i8>${replicationIndex}</i8>`);
  return array(values);
}

/** An XML-RPC fault, as xmlrpc-c writes it. */
export function faultAnswer(code: number, text: string): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\r\n<methodResponse>\r\n<fault>\r\n' +
    `<value><struct><member><name>faultCode</name><value><i4>${code}</i4></value></member>` +
    `<member><name>faultString</name><value><string>${
      escape(text)
    }</string></value></member></struct></value>\r\n</fault>\r\n</methodResponse>\r\n`;
}

/** The C++ class names that began messages up to 5.2 (release-5.2.1:include/RequestManager*.h). */
const CLASS_NAMES: Readonly<Record<string, string>> = {
  "one.system.version": "SystemVersion",
  "one.template.info": "TemplateInfo",
  "one.template.instantiate": "TemplateInstantiate",
  "one.user.info": "UserInfo",
  "one.vm.action": "VirtualMachineAction",
  "one.vm.info": "VirtualMachineInfo",
  "one.vm.recover": "VirtualMachineRecover",
  "one.vm.rename": "VirtualMachineRename",
  "one.vm.snapshotcreate": "VirtualMachineSnapshotCreate",
  "one.vm.update": "VirtualMachineUpdateTemplate",
  "one.vmpool.info": "VirtualMachinePoolInfo",
};

/** The name a release's messages give a method: `[one.vm.action]`, `[VirtualMachineAction]`. */
export function methodLabel(release: string, method: string): string {
  return releaseAtLeast(release, "5.4") ? method : CLASS_NAMES[method] ?? method;
}

/** The XML-RPC types a parameter can have, as xmlrpc-c tells them apart. */
type WireType = "string" | "int" | "boolean" | "double" | "i8" | "other";

/** One parameter of a call as received: its XML-RPC type, and its value when it has one. */
export interface WireParam {
  readonly type: WireType;
  readonly value: string | number | boolean | undefined;
}

function wireParam(value: XmlElement | undefined): WireParam {
  const typed = value?.children[0];
  if (!value) return { type: "other", value: undefined };
  if (!typed) return { type: "string", value: value.text };
  const text = typed.text.trim();
  switch (typed.name) {
    case "string":
      return { type: "string", value: typed.text };
    case "int":
    case "i4":
      return { type: "int", value: Number(text) };
    case "i8":
      return { type: "i8", value: Number(text) };
    case "boolean":
      return { type: "boolean", value: text === "1" };
    case "double":
      return { type: "double", value: Number(text) };
    default:
      return { type: "other", value: undefined };
  }
}

/**
 * Reads a `methodCall`.
 *
 * @throws {Error} when it is not XML.
 */
export function readCall(xml: string): { method: string; params: WireParam[] } {
  const call = parseXml(xml);
  const method = child(call, "methodName")?.text.trim() ?? "";
  const params = (child(call, "params")?.children ?? []).map((p) => wireParam(child(p, "value")));
  return { method, params };
}

/**
 * A parameter a method reads: its index (the session is 0), its type, and, for an optional
 * one, the count of parameters past which it is read (`paramList.size() > ifMoreThan`).
 */
interface Read {
  readonly at: number;
  readonly type: "string" | "int" | "boolean";
  readonly ifMoreThan?: number;
}

const int = (at: number, ifMoreThan?: number): Read =>
  ifMoreThan === undefined ? { at, type: "int" } : { at, type: "int", ifMoreThan };
const str = (at: number, ifMoreThan?: number): Read =>
  ifMoreThan === undefined ? { at, type: "string" } : { at, type: "string", ifMoreThan };
const bool = (at: number, ifMoreThan: number): Read => ({ at, type: "boolean", ifMoreThan });

/**
 * The methods the stand-in serves: the first release that has each, and what each reads in a
 * release, for a user outside the oneadmin group (a `decrypt` flag is read for admins only
 * before 7.2). Sources: release-4.14.2, 5.10.5, 6.10.5 src/rm/RequestManager{Info,
 * PoolInfoFilter,VMTemplate,UpdateTemplate,Rename,VirtualMachine,System}.cc, release-7.2.0
 * src/rm/xml-rpc/*XRPC.cc; one.system.version since 3.8, one.vmpool.infoextended since 5.8.1.
 */
const METHODS: Readonly<Record<string, { since: string; reads(release: string): Read[] }>> = {
  "one.system.version": { since: "3.8", reads: () => [] },
  "one.user.info": { since: "3.0", reads: (r) => [int(1), ...decrypt(r, 2)] },
  "one.vm.info": { since: "3.0", reads: (r) => [int(1), ...decrypt(r, 2)] },
  "one.template.info": {
    since: "3.0",
    reads: (r) => [int(1), bool(2, 2), ...decrypt(r, 3)],
  },
  "one.template.instantiate": {
    since: "3.0",
    // Up to 7.0 the extra template is read together with the hold flag.
    reads: (r) => [
      int(1),
      str(2),
      bool(3, 3),
      str(4, releaseAtLeast(r, "7.1.80") ? 4 : 3),
      ...(releaseAtLeast(r, "5.0") ? [bool(5, 5)] : []),
    ],
  },
  "one.vm.action": { since: "3.0", reads: () => [str(1), int(2)] },
  "one.vm.update": { since: "3.0", reads: () => [int(1), str(2), int(3, 3)] },
  "one.vm.rename": { since: "3.0", reads: () => [int(1), str(2)] },
  "one.vm.snapshotcreate": { since: "3.0", reads: () => [int(1), str(2)] },
  "one.vm.recover": { since: "3.0", reads: () => [int(1), int(2)] },
  "one.vmpool.info": { since: "3.0", reads: (r) => [...pool(r)] },
  "one.vmpool.infoextended": { since: "5.8.1", reads: (r) => [...pool(r)] },
};

/** 7.2+ reads a `decrypt` flag of every user; earlier releases of admins only. */
function decrypt(release: string, at: number): Read[] {
  return releaseAtLeast(release, "7.1.80") ? [bool(at, at)] : [];
}

/** Filter, start id, end id, state; 5.8+ an optional search string. */
function pool(release: string): Read[] {
  return [
    int(1),
    int(2),
    int(3),
    int(4),
    ...(releaseAtLeast(release, "5.7.85") ? [str(5, 5)] : []),
  ];
}

/** Whether a release has a method the stand-in serves. */
export function methodExists(release: string, method: string): boolean {
  const known = METHODS[method];
  return known !== undefined && releaseAtLeast(release, known.since);
}

const SUPPOSED: Readonly<Record<Read["type"], string>> = {
  int: "integer",
  boolean: "boolean",
  string: "a string",
};

/**
 * The type fault oned answers a call with, if any: its parameters read in order as the
 * release reads them, the first missing or mistyped one failing the call.
 *
 * @param release The release answering.
 * @param method A method of the release ({@link methodExists}).
 * @param params The call's parameters, the session first.
 * @returns The index of the parameter at fault (0: the session, read before authentication)
 *   and xmlrpc-c's fault string; undefined when every parameter read is there and of its type.
 */
export function paramFault(
  release: string,
  method: string,
  params: readonly WireParam[],
): { at: number; text: string } | undefined {
  const reads = [str(0), ...(METHODS[method]?.reads(release) ?? [])];
  for (const read of reads) {
    if (read.ifMoreThan !== undefined && params.length <= read.ifMoreThan) continue;
    const given = params[read.at];
    if (given === undefined) return { at: read.at, text: "Not enough parameters" };
    if (given.type !== read.type) {
      return {
        at: read.at,
        text: `Parameter that is supposed to be ${SUPPOSED[read.type]} is not`,
      };
    }
  }
  return undefined;
}
