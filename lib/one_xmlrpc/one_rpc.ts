/**
 * OpenNebula's XML-RPC calling convention, shared by the two sides that speak it: the local
 * oned (`lib/opennebula/`) and a partner OpenNebula cloud serving as a provider
 * (`lib/providers/one_cloud/`). Every method takes the session string (`user:password`) first and
 * answers an array `[success, result or error message, error code, ...]` (3.2 to 6.x alike).
 *
 * @module
 */

import { CloudError } from "../util/errors.ts";
import { type XmlRpcClient, XmlRpcError, type XmlRpcParam, type XmlRpcValue } from "./xmlrpc.ts";

/** OpenNebula answered a call with `success = false`; `code` is its error code (256 = authentication). */
export class OneApiError extends CloudError {}

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
