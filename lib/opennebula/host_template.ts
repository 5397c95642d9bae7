/**
 * A host's template as the local oned keeps it, read as OpenNebula's own EC2 driver read its
 * settings (`EC2_ACCESS`, `EC2_SECRET`, `REGION_NAME`, `CAPACITY`):
 *
 * - 5.10 to 7.x: `one.host.info(session, id, true)`, which oned answers with the attributes it
 *   keeps encrypted (`HOST_ENCRYPTED_ATTR`) decrypted, for a user of the oneadmin group
 *   (`PublicCloudDriver#host_info`, `xmlhost.info(true)`);
 * - 5.4 to 5.8: oned ignores that flag and keeps `EC2_ACCESS` and `EC2_SECRET` encrypted
 *   (`Host::post_update_template`); the driver of those releases asked oned for its `ONE_KEY`
 *   (`one.system.config`) and decrypted them itself (`OpenNebula.decrypt`). So does this module,
 *   for a value oned still answers encrypted, and only then.
 *
 * The host is found by the id oned gave the action when it can (a probe's argument, the VM's
 * history in the action data), else by its name in `one.hostpool.info`.
 *
 * @module
 */

import { child, childText, type XmlElement } from "../util/xml.ts";
import { DriverError } from "../util/errors.ts";
import { addSecret } from "../util/redact.ts";
import { ONE_ERROR, OneApiError, oneCall } from "../one_xmlrpc/one_rpc.ts";
import type { XmlRpcClient } from "../one_xmlrpc/xmlrpc.ts";
import { resultDocument } from "./one_api.ts";
import { decryptOneValue, mayBeEncrypted } from "./one_crypt.ts";

/** A host's template: its single attributes, and its vector attributes (`CAPACITY=[...]`). */
export interface HostTemplate {
  /** The host's id in oned. */
  readonly hostId: number;
  /** Single attributes by name, values as oned wrote them (decrypted where asked). */
  readonly attributes: Readonly<Record<string, string>>;
  /** Vector attributes by name (the first of a name), each its attributes by name. */
  readonly sections: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * The secrets oned keeps unencrypted (7.x's oned.conf lists no `HOST_ENCRYPTED_ATTR`), when
   * the pool's listing, which shows what oned keeps, was read.
   */
  readonly storedInClear?: readonly string[];
}

/** What to read of a host's template. */
export interface HostTemplateRequest {
  /** The host's name. */
  readonly host: string;
  /** Its id, when oned gave it to the action; checked against the name. */
  readonly hostId?: number;
  /** Attributes oned may keep encrypted, to decrypt when it answers them so. */
  readonly encrypted: readonly string[];
  /** Attributes that are secrets, registered so that no message prints them. */
  readonly secrets: readonly string[];
}

/**
 * The attributes of a `<HOST>` document's `<TEMPLATE>`.
 *
 * @param host The `<HOST>` element.
 * @returns Single and vector attributes; a template without them gives empty ones.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseXml } from "../util/xml.ts";
 * import { templateAttributesOf } from "./host_template.ts";
 * const host = parseXml(
 *   "<HOST><ID>3</ID><TEMPLATE><REGION_NAME><![CDATA[eu-west-1]]></REGION_NAME>" +
 *     "<CAPACITY><T3_MICRO>4</T3_MICRO></CAPACITY></TEMPLATE></HOST>",
 * );
 * assert.deepEqual(templateAttributesOf(host), {
 *   attributes: { REGION_NAME: "eu-west-1" },
 *   sections: { CAPACITY: { T3_MICRO: "4" } },
 * });
 * ```
 */
export function templateAttributesOf(
  host: XmlElement,
): Pick<HostTemplate, "attributes" | "sections"> {
  const attributes: Record<string, string> = {};
  const sections: Record<string, Record<string, string>> = {};
  for (const element of child(host, "TEMPLATE")?.children ?? []) {
    if (element.children.length > 0) {
      sections[element.name] ??= Object.fromEntries(
        element.children.map((c) => [c.name, c.text]),
      );
    } else if (!Object.hasOwn(attributes, element.name)) {
      attributes[element.name] = element.text;
    }
  }
  return { attributes, sections };
}

/**
 * Reads a host's template from oned, decrypted as OpenNebula's own drivers did (see the
 * module's comment): one `one.host.info` when the id is known, a `one.hostpool.info` before it
 * otherwise, and a `one.system.config` only when oned answers an attribute still encrypted.
 *
 * @param client The local oned's client.
 * @param session `user:password` (oneadmin's, for oned to decrypt).
 * @param request The host and what to decrypt.
 * @returns The template, or undefined when oned has no host of that name.
 * @throws {DriverError} when oned answers an attribute encrypted and does not give this user its
 * `ONE_KEY`.
 * @throws {CloudError} when a call fails ({@link OneApiError}, `XmlRpcError`).
 */
export async function readHostTemplate(
  client: XmlRpcClient,
  session: string,
  request: HostTemplateRequest,
): Promise<HostTemplate | undefined> {
  const { host } = request;
  let document = request.hostId === undefined
    ? undefined
    : await hostDocument(client, session, request.hostId).catch((error) => {
      if (error instanceof OneApiError && error.code === String(ONE_ERROR.NO_EXISTS)) return;
      throw error;
    });
  if (document !== undefined && childText(document, "NAME")?.trim() !== host) document = undefined;
  let storedInClear: string[] | undefined;
  if (document === undefined) {
    const listed = await listedHost(client, session, host);
    if (listed === undefined) return undefined;
    const stored = templateAttributesOf(listed.element).attributes;
    storedInClear = request.secrets.filter((name) =>
      stored[name]?.trim() && !mayBeEncrypted(stored[name])
    );
    document = await hostDocument(client, session, listed.id);
  }
  const hostId = Number(childText(document, "ID")?.trim());
  const { sections, ...read } = templateAttributesOf(document);
  const attributes = { ...read.attributes };
  const still = request.encrypted.filter((name) =>
    attributes[name] !== undefined && mayBeEncrypted(attributes[name])
  );
  if (still.length > 0) {
    const oneKey = await oneKeyOf(client, session, host, still);
    for (const name of still) {
      attributes[name] = await decryptOneValue(attributes[name]!, oneKey) ?? attributes[name]!;
    }
  }
  for (const name of request.secrets) addSecret(attributes[name]?.trim());
  return { hostId, attributes, sections, ...(storedInClear ? { storedInClear } : {}) };
}

/** `one.host.info(session, id, true)`: the host's document, decrypted where oned does it. */
async function hostDocument(
  client: XmlRpcClient,
  session: string,
  hostId: number,
): Promise<XmlElement> {
  const method = "one.host.info";
  const result = await oneCall(client, method, session, hostId, true);
  return resultDocument(client, method, result, "HOST", ` for host ${hostId}`);
}

/**
 * The host oned has by that name, as its pool lists it (`one.hostpool.info`: its attributes as
 * oned keeps them, encrypted ones encrypted); undefined when none.
 */
async function listedHost(
  client: XmlRpcClient,
  session: string,
  host: string,
): Promise<{ id: number; element: XmlElement } | undefined> {
  const method = "one.hostpool.info";
  const pool = resultDocument(client, method, await oneCall(client, method, session), "HOST_POOL");
  const element = pool.children.find((h) => h.name === "HOST" && childText(h, "NAME") === host);
  const id = element === undefined ? undefined : childText(element, "ID")?.trim();
  return element !== undefined && id !== undefined && /^\d+$/.test(id)
    ? { id: Number(id), element }
    : undefined;
}

/**
 * oned's `ONE_KEY`, from its configuration (`one.system.config`, which gives it to the oneadmin
 * group only).
 *
 * @throws {DriverError} naming the attributes when the key is not given.
 */
async function oneKeyOf(
  client: XmlRpcClient,
  session: string,
  host: string,
  encrypted: readonly string[],
): Promise<string> {
  const method = "one.system.config";
  const refused = (why: string) =>
    new DriverError(
      `oned answers ${
        encrypted.join(" and ")
      } of host ${host}'s template encrypted and ${why}: the driver needs the credentials of the oneadmin group (ONE_AUTH) to decrypt them`,
    );
  let config: XmlElement;
  try {
    config = resultDocument(client, method, await oneCall(client, method, session), "");
  } catch (error) {
    if (error instanceof OneApiError && error.code === String(ONE_ERROR.AUTHORIZATION)) {
      throw refused("refuses this user its configuration");
    }
    throw error;
  }
  const key = childText(config, "ONE_KEY")?.trim();
  if (!key) throw refused("does not give this user its ONE_KEY");
  addSecret(key);
  return key;
}
