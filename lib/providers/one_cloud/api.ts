/**
 * The partner OpenNebula's XML-RPC API, as the provider calls it: each method with the partner
 * user's session, its answers checked, and its failures classified in the driver's words
 * (`failures.ts`: authentication refused, no such object, a locked VM, a quota, anything else).
 *
 * @module
 */

import { CloudError } from "../../util/errors.ts";
import { oneCall } from "../../one_xmlrpc/one_rpc.ts";
import { childText, parseXml, type XmlElement } from "../../util/xml.ts";
import { type PoolPage, readPool } from "../../one_xmlrpc/pool_pages.ts";
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
    return documentOf(result, root, `${doing}: ${this.where} answered ${method}`);
  }

  /**
   * The partner user's own VMs, every state but DONE, read page by page (`readPool`: row
   * offsets, so that no answer grows with the pool): `one.vmpool.infoextended` (5.8.1+, with
   * each VM's user template), else `one.vmpool.info`, which answers the full documents before
   * 5.8.
   *
   * @param doing What the listing is for, to begin a failure's message.
   * @param read What to keep of each `<VM>` document (read once, page by page).
   * @returns What `read` made of each VM, in the partner's order.
   * @throws {CloudError} as {@link call}; `InvalidResponse` for a page that is not a
   * `<VM_POOL>` of VMs with numeric ids in id order.
   */
  async vmPool<T>(doing: string, read: (vm: XmlElement) => T): Promise<T[]> {
    let method = "one.vmpool.infoextended";
    const label = () => `${doing}: ${this.where} answered ${method}`;
    const page = async (offset: number, size: number): Promise<PoolPage<T>> => {
      const params = [-3, offset, -size, -1];
      let result: unknown;
      try {
        result = await this.call(doing, method, ...params);
      } catch (error) {
        // Before 5.8.1 the method does not exist.
        if (!(error instanceof CloudError) || !isUnknownMethod(error) || offset > 0) throw error;
        method = "one.vmpool.info";
        result = await this.call(doing, method, ...params);
      }
      const pool = documentOf(result, "VM_POOL", label());
      const rows = pool.children.filter((c) => c.name === "VM").map((vm) => {
        const id = childText(vm, "ID")?.trim();
        if (id === undefined || !/^\d+$/.test(id)) {
          throw new CloudError("InvalidResponse", `${label()} with a VM without a numeric ID`);
        }
        return { id: Number(id), item: read(vm) };
      });
      return { rows, chars: typeof result === "string" ? result.length : 0 };
    };
    return await readPool({
      get label() {
        return label();
      },
      page,
    });
  }
}

/**
 * The XML document of a result, checked to have the given root.
 *
 * @param what `<doing>: <where> answered <method>`, to begin the failure's message.
 * @throws {CloudError} `InvalidResponse` for anything else.
 */
function documentOf(result: unknown, root: string, what: string): XmlElement {
  let document: XmlElement | undefined;
  try {
    document = typeof result === "string" ? parseXml(result) : undefined;
  } catch {
    document = undefined;
  }
  if (document?.name !== root) {
    throw new CloudError(
      "InvalidResponse",
      `${what} with something other than a <${root}> document`,
    );
  }
  return document;
}
