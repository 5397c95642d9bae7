/**
 * The partner's failures in the driver's words, and which of them a read may be sent again
 * after. What oned and its XML-RPC server (xmlrpc-c) answer, from their source:
 * - fault -505 is xmlrpc-c's timeout (its server gave up waiting for the call's body), not an
 *   unknown method (-506): a read is asked again until the action's deadline, a write is not
 *   sent again, and a pool listing does not fall back to an older method;
 * - REPLICATION (0x10000, 5.10+) is an HA or federation log entry that did not replicate: it
 *   passes, so a read is asked again; a write's change may still take effect, so it is not
 *   sent again, and a deploy's retry finds the partner VM by its marks rather than making a
 *   second one;
 * - a locked VM (5.6+) is refused as AUTHORIZATION (or LOCKED, 0x8000, which no release sends
 *   today): the VM's `LOCK` (level, owner, time; `one.vm.info` is never locked) says so;
 * - a resume past a RUNNING_* quota is refused as ACTION, the code of a wrong state too
 *   (5.6.1+, release-6.10.5:src/rm/RequestManagerVirtualMachine.cc:519-528): the text says
 *   which;
 * - up to 5.4.0 an extra template's `CONTEXT/FILES` is refused from a user outside the
 *   oneadmin group (release-4.14.2:src/rm/RequestManagerVMTemplate.cc:93-107); from 5.4.1 only
 *   FILES other than the template's (release-5.4.15:src/template/Template.cc:711-731).
 *
 * @module
 */

import { CloudError, CredentialsError, NotFoundError } from "../../util/errors.ts";
import { ONE_ERROR, OneApiError, XMLRPC_C_FAULT } from "../../one_xmlrpc/one_rpc.ts";
import { XmlRpcError, XmlRpcFault, type XmlRpcParam } from "../../one_xmlrpc/xmlrpc.ts";
import { attemptsNote } from "../../util/retry.ts";
import { child, childText, type XmlElement } from "../../util/xml.ts";

/**
 * Whether a failed call may pass if sent again: no answer, a server error (5xx), xmlrpc-c's
 * timeout fault, or an HA log entry that did not replicate.
 *
 * @param error The call's failure.
 * @returns Whether it is transient (the caller sends again only a read).
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof XmlRpcFault) return error.faultCode === XMLRPC_C_FAULT.TIMEOUT;
  if (error instanceof OneApiError) return Number(error.code) === ONE_ERROR.REPLICATION;
  return error instanceof XmlRpcError &&
    (error.code === "Unreachable" || error.code === "Timeout" ||
      (error.code === "HttpStatus" && / HTTP 5\d\d\b/.test(error.message)));
}

/**
 * Whether the server said it has no such method: xmlrpc-c's fault -506 (or a fault saying so
 * in words), never its timeout (-505).
 *
 * @param error A failure in the driver's words (its cause is the fault) or the fault itself.
 */
export function isUnknownMethod(error: unknown): boolean {
  const fault = error instanceof XmlRpcFault
    ? error
    : error instanceof CloudError && error.cause instanceof XmlRpcFault
    ? error.cause
    : undefined;
  return fault !== undefined && fault.faultCode !== XMLRPC_C_FAULT.TIMEOUT &&
    (fault.faultCode === XMLRPC_C_FAULT.NO_SUCH_METHOD ||
      /not defined|no such method/i.test(fault.faultString));
}

/** The calls that act on one partner VM, and where its id is among their parameters. */
const VM_ID_AT: Readonly<Record<string, number>> = {
  "one.vm.action": 1,
  "one.vm.update": 0,
  "one.vm.rename": 0,
  "one.vm.snapshotcreate": 0,
  "one.vm.recover": 0,
};

/**
 * The partner VM a refused call may have found locked: a call on a VM refused as
 * AUTHORIZATION or LOCKED.
 *
 * @param method The call.
 * @param params Its parameters (the session aside).
 * @param error Its failure.
 * @returns The VM's id, whose `LOCK` tells; undefined for any other failure.
 */
export function lockSuspect(
  method: string,
  params: readonly XmlRpcParam[],
  error: unknown,
): number | undefined {
  const at = VM_ID_AT[method];
  if (at === undefined || !(error instanceof OneApiError)) return undefined;
  const code = Number(error.code);
  if (code !== ONE_ERROR.AUTHORIZATION && code !== ONE_ERROR.LOCKED) return undefined;
  const id = params[at];
  return typeof id === "number" ? id : undefined;
}

/** A VM's lock (`one.vm.lock`, 5.6+): its level, who set it and when, as oned shows them. */
export interface VmLock {
  /** 1 USE (every action), 2 MANAGE, 3 ADMIN, 4 ALL. */
  readonly level: number;
  /** The id of the user who locked it. */
  readonly owner?: number;
  /** When, in seconds since the epoch. */
  readonly time?: number;
}

/**
 * A VM document's lock (`<LOCK><LOCKED>2</LOCKED><OWNER>0</OWNER><TIME>...</TIME></LOCK>`).
 *
 * @param vm A `<VM>` document.
 * @returns The lock, or undefined when the VM is not locked.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lockOf } from "./failures.ts";
 * import { parseXml } from "../../util/xml.ts";
 *
 * const vm = parseXml("<VM><ID>7</ID><LOCK><LOCKED>2</LOCKED><OWNER>0</OWNER></LOCK></VM>");
 * assert.deepEqual(lockOf(vm), { level: 2, owner: 0 });
 * ```
 */
export function lockOf(vm: XmlElement): VmLock | undefined {
  const lock = child(vm, "LOCK");
  const level = Number(lock && childText(lock, "LOCKED"));
  if (!lock || !Number.isInteger(level) || level <= 0) return undefined;
  const number = (name: string) => {
    const text = childText(lock, name)?.trim();
    return text && /^-?\d+$/.test(text) ? Number(text) : undefined;
  };
  const owner = number("OWNER");
  const time = number("TIME");
  return {
    level,
    ...(owner !== undefined ? { owner } : {}),
    ...(time !== undefined && time > 0 ? { time } : {}),
  };
}

const LOCK_LEVELS: Readonly<Record<number, string>> = {
  1: "USE",
  2: "MANAGE",
  3: "ADMIN",
  4: "ALL",
};

/** ` (level MANAGE, by user 0 since 2026-12-07T23:00:00Z)`, from what the lock says. */
function lockDetail(lock: VmLock): string {
  const level = `level ${LOCK_LEVELS[lock.level] ?? lock.level}`;
  const by = lock.owner !== undefined ? `, by user ${lock.owner}` : "";
  const since = lock.time !== undefined
    ? ` since ${new Date(lock.time * 1000).toISOString().replace(/\.000Z$/, "Z")}`
    : "";
  return ` (${level}${by}${since})`;
}

/** What is known of a refused call. */
export interface Refusal {
  /** What the call was for (`Cannot terminate-hard opennebula-hybrid-7`). */
  readonly doing: string;
  /** The method. */
  readonly method: string;
  /** Whether it only reads (and so was sent again while it failed in a transient way). */
  readonly read: boolean;
  /** Its failure. */
  readonly error: unknown;
  /** For a VM found locked ({@link lockSuspect}): its id and its lock, if its document shows one. */
  readonly locked?: { readonly vmId: number; readonly lock: VmLock | undefined };
}

/** What a write whose outcome is unknown does not do, and what comes next. */
function notResent(method: string): string {
  return "; a write is not sent again" +
    (method === "one.template.instantiate"
      ? ": a retried deploy finds the partner VM by its marks if the partner made it"
      : "");
}

/**
 * A failed call's error in the driver's words, one line naming what was being done.
 *
 * @param refusal The call, its failure, and the lock of its VM when it was refused as locked.
 * @returns `CredentialsError` for a refused session, `NotFoundError` for an unknown object, a
 *   `CloudError` otherwise (code `Locked` for a locked VM, `RestrictedAttribute` for a refused
 *   `CONTEXT/FILES`, oned's code or the transport's otherwise); anything else as it came.
 */
export function inDriverWords(refusal: Refusal): unknown {
  const { doing, method, read, error } = refusal;
  if (error instanceof XmlRpcFault && error.faultCode === XMLRPC_C_FAULT.TIMEOUT) {
    return new CloudError(
      error.code,
      `${doing}: ${error.message}: a timeout of the partner's XML-RPC server, not an unknown method${
        read ? attemptsNote(error, true) : notResent(method)
      }`,
      { cause: error },
    );
  }
  if (!(error instanceof OneApiError)) {
    if (error instanceof XmlRpcError) {
      return new CloudError(
        error.code,
        `${doing}: ${error.message}${attemptsNote(error, true)}`,
        { cause: error },
      );
    }
    return error;
  }
  const code = Number(error.code);
  const text = error.message;
  if (code === ONE_ERROR.AUTHENTICATION) {
    return new CredentialsError(
      "AuthenticationFailed",
      `${doing}: ${text} (check the partner user and its password for this host)`,
      { cause: error },
    );
  }
  if (code === ONE_ERROR.NO_EXISTS) {
    return new NotFoundError(`${doing}: ${text}`, { cause: error });
  }
  if (code === ONE_ERROR.REPLICATION) {
    return new CloudError(
      String(code),
      read
        ? `${doing}: ${text}: the partner's HA cluster did not replicate its log, a passing failure${
          attemptsNote(error, true)
        }`
        : `${doing}: ${text}: the partner's HA cluster did not replicate the change, which may still take effect${
          notResent(method)
        }`,
      { cause: error },
    );
  }
  const { locked } = refusal;
  if (locked && (locked.lock !== undefined || code === ONE_ERROR.LOCKED)) {
    const { vmId, lock } = locked;
    return new CloudError(
      "Locked",
      `${doing}: partner VM ${vmId} is locked${
        lock ? lockDetail(lock) : ""
      }; unlock it on the partner (onevm unlock ${vmId}) to act on it: ${text}`,
      { cause: error },
    );
  }
  const quota = /\blimit of \S+ reached for (\w+) quota\b/.exec(text);
  if (code === ONE_ERROR.ACTION && quota) {
    return new CloudError(
      String(code),
      `${doing}: refused by the partner's quota (${quota[1]}), not by the VM's state: ${text}`,
      { cause: error },
    );
  }
  if (
    code === ONE_ERROR.AUTHORIZATION && method === "one.template.instantiate" &&
    /restricted attribute CONTEXT(\/FILES)?\b/.test(text)
  ) {
    return new CloudError(
      "RestrictedAttribute",
      `${doing}: the partner refuses FILES in the CONTEXT the driver sends (the template's own, repeated to add the VM's context variables): a restricted attribute for users outside its oneadmin group, which OpenNebula before 5.4.1 refuses whatever its value; use a template without CONTEXT/FILES, or a partner user in the oneadmin group: ${text}`,
      { cause: error },
    );
  }
  return new CloudError(String(code), `${doing}: ${text}`, { cause: error });
}
