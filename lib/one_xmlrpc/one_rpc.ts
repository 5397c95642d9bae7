/**
 * OpenNebula's XML-RPC calling convention, shared by the two sides that speak it: the local
 * oned (`lib/opennebula/`) and a partner OpenNebula cloud serving as a provider
 * (`lib/providers/one_cloud/`). Every method takes the session string (`user:password`) first.
 * A call oned did answers `[true, result, 0]` in every release; one it refused answers
 * `[false, message, error code]` up to 5.2, with the id of the object concerned (`resp_id`,
 * else -1) after them from 5.4, and with an `<i8>` replication index after that from 5.10
 * (release-4.14.2, release-5.8.5, release-5.10.5:src/rm/Request.cc `failure_response`): the
 * first three elements are read, whatever follows. A call oned's XML-RPC server (xmlrpc-c)
 * refused before any method ran is a fault ({@link XMLRPC_C_FAULT}).
 *
 * @module
 */

import { CloudError } from "../util/errors.ts";
import { type XmlRpcClient, XmlRpcError, type XmlRpcParam, type XmlRpcValue } from "./xmlrpc.ts";

/** OpenNebula answered a call with `success = false`; `code` is its error code (256 = authentication). */
export class OneApiError extends CloudError {}

/**
 * OpenNebula's error codes (`Request::ErrorCode`, one per refusal; the values never changed):
 * ALLOCATE from 5.0, LOCKED from 5.6 (no request of 5.6–7.4 sends it: a locked object is
 * refused as AUTHORIZATION), REPLICATION from 5.10 (an HA or federation log entry that did not
 * replicate). release-4.14.2:include/Request.h:50-58, release-6.10.5:include/Request.h:226-238.
 */
export const ONE_ERROR = {
  AUTHENTICATION: 0x0100,
  AUTHORIZATION: 0x0200,
  NO_EXISTS: 0x0400,
  ACTION: 0x0800,
  XML_RPC_API: 0x1000,
  INTERNAL: 0x2000,
  ALLOCATE: 0x4000,
  LOCKED: 0x8000,
  REPLICATION: 0x10000,
} as const;

/**
 * The fault codes of xmlrpc-c, the XML-RPC library of oned's server
 * (`include/xmlrpc-c/util.h`): TYPE for a parameter missing or of another type than the
 * method reads, PARSE for a call that is not XML-RPC, TIMEOUT when the server gave up waiting
 * for the call's body (xmlrpc-c's Abyss server, before any method runs), NO_SUCH_METHOD for a
 * method the server does not have.
 */
export const XMLRPC_C_FAULT = {
  TYPE: -501,
  PARSE: -503,
  TIMEOUT: -505,
  NO_SUCH_METHOD: -506,
} as const;

/**
 * Calls an OpenNebula API method and returns its result.
 *
 * @param client The XML-RPC client of the OpenNebula endpoint.
 * @param method The method (`one.vm.info`).
 * @param session `user:password`.
 * @param params The method's other parameters.
 * @returns The result (the second element of the answer).
 * @throws {OneApiError} when OpenNebula answers `success = false` (the message quotes its
 * error code and text).
 * @throws {XmlRpcError} when the call fails, or the answer is not OpenNebula's array.
 */
export async function oneCall(
  client: XmlRpcClient,
  method: string,
  session: string,
  ...params: XmlRpcParam[]
): Promise<XmlRpcValue> {
  const answer = await client.call(method, [session, ...params]);
  const [success, result, code] = Array.isArray(answer) ? answer : [];
  if (typeof success !== "boolean" || result === undefined) {
    throw new XmlRpcError(
      "InvalidResponse",
      `${client.where} answered ${method} with something other than [success, result, error code]`,
    );
  }
  if (!success) {
    const errorCode = typeof code === "number" ? code : -1;
    const text = typeof result === "string" ? result : JSON.stringify(result);
    throw new OneApiError(
      String(errorCode),
      `${client.where} answered ${method} with error ${errorCode}: ${text}`,
    );
  }
  return result;
}
