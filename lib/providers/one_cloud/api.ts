/**
 * The partner OpenNebula's XML-RPC API, as the provider calls it: each method with the partner
 * user's session, its answers checked, and its failures classified in the driver's words
 * (`failures.ts`: authentication refused, no such object, a locked VM, a quota, anything else).
 *
 * @module
 */

import { CloudError } from "../../util/errors.ts";
import { oneCall } from "../../one_xmlrpc/one_rpc.ts";
import { parseXml, type XmlElement } from "../../util/xml.ts";
import { XmlRpcClient, type XmlRpcParam } from "../../one_xmlrpc/xmlrpc.ts";
import { CallWindow, retrying } from "../../util/retry.ts";
import { type OneCloudConnection, sessionOf } from "./settings.ts";
import {
  inDriverWords,
  isTransient,
  isUnknownMethod,
  lockOf,
  lockSuspect,
  type VmLock,
} from "./failures.ts";

export { ONE_ERROR } from "../../one_xmlrpc/one_rpc.ts";

/** Time limit of one call. */
const CALL_TIMEOUT_MS = 10_000;

/**
 * The calls that only read, and so may be sent again when the partner failed to answer one:
 * never `one.template.instantiate` (a second VM) nor `one.vm.action`.
 */
const READS = new Set([
  "one.vm.info",
  "one.vmpool.info",
  "one.vmpool.infoextended",
  "one.user.info",
  "one.template.info",
  "one.system.version",
]);

/**
 * The partner calls the provider makes: what a `PartnerApi` offers it, and what a test fake
 * stands in for.
 */
export type PartnerCalls = Pick<PartnerApi, "where" | "call" | "document" | "vmPool">;

/** The calls of one partner cloud. */
export class PartnerApi {
  /** How messages name the partner (`the partner cloud at <url>`). */
  readonly where: string;
  readonly #client: XmlRpcClient;
  readonly #connection: OneCloudConnection;
  readonly #signal: AbortSignal | undefined;
  readonly #window: CallWindow;
  #session: Promise<string> | undefined;

  /**
   * @param connection The host's connection settings.
   * @param time `signal` ends every call when the action runs out of time; `deadline` is when,
   *   the budget of a read's retries (without it, each call is sent once).
   */
  constructor(
    connection: OneCloudConnection,
    time: { readonly signal?: AbortSignal | undefined; deadline?(): number } = {},
  ) {
    const { signal } = time;
    this.#connection = connection;
    this.#signal = signal;
    this.#window = new CallWindow(time.deadline?.bind(time));
    this.#client = new XmlRpcClient(connection.endpoint, {
      label: "the partner cloud",
      timeoutMs: CALL_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
    this.where = this.#client.where;
  }

  /**
   * Calls a method with the session and returns its result.
   *
   * @param doing What the call is for, to begin a failure's message (`Cannot describe ...`).
   * @throws {CredentialsError} when the partner refuses the session.
   * @throws {NotFoundError} when the object does not exist.
   * @throws {CloudError} for any other refusal (a VM found locked, after one `one.vm.info` of
   * it, says so), or when the partner cannot be reached or answers something else than
   * OpenNebula's answer. A read that got no answer, a server error, xmlrpc-c's timeout fault
   * or a REPLICATION refusal is sent again until the action's deadline is near; a write never.
   */
  async call(doing: string, method: string, ...params: XmlRpcParam[]): Promise<unknown> {
    this.#session ??= sessionOf(this.#connection);
    const session = await this.#session;
    const read = READS.has(method);
    try {
      return await retrying(() => oneCall(this.#client, method, session, ...params), {
        call: method,
        classify: (error) => read && isTransient(error) ? "lost" : undefined,
        window: this.#window,
        resendable: read,
        signal: this.#signal,
      }, CALL_TIMEOUT_MS);
    } catch (error) {
      const vmId = lockSuspect(method, params, error);
      throw inDriverWords({
        doing,
        method,
        read,
        error,
        ...(vmId === undefined ? {} : { locked: { vmId, lock: await this.#lock(session, vmId) } }),
      });
    }
  }

  /** A VM's lock, from one `one.vm.info` (never refused for a lock); undefined if it fails. */
  async #lock(session: string, vmId: number): Promise<VmLock | undefined> {
    try {
      const vm = await oneCall(this.#client, "one.vm.info", session, vmId);
      return typeof vm === "string" ? lockOf(parseXml(vm)) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Calls a method whose result is an XML document with the given root.
   *
   * @throws {CloudError} `InvalidResponse` for anything else; as {@link call} otherwise.
   */
  async document(
    doing: string,
    root: string,
    method: string,
    ...params: XmlRpcParam[]
  ): Promise<XmlElement> {
    const result = await this.call(doing, method, ...params);
    let document: XmlElement | undefined;
    try {
      document = typeof result === "string" ? parseXml(result) : undefined;
    } catch {
      document = undefined;
    }
    if (document?.name !== root) {
      throw new CloudError(
        "InvalidResponse",
        `${doing}: ${this.where} answered ${method} with something other than a <${root}> document`,
      );
    }
    return document;
  }

  /**
   * The pool of the partner user's own VMs, every state but DONE:
   * `one.vmpool.infoextended` (5.10+, with each VM's user template), else `one.vmpool.info`.
   */
  async vmPool(doing: string): Promise<XmlElement> {
    const filter = [-3, -1, -1, -1] as const;
    try {
      return await this.document(doing, "VM_POOL", "one.vmpool.infoextended", ...filter);
    } catch (error) {
      // Before 5.10 the method does not exist, and one.vmpool.info answers the full documents.
      if (!isUnknownMethod(error)) throw error;
      return await this.document(doing, "VM_POOL", "one.vmpool.info", ...filter);
    }
  }
}
