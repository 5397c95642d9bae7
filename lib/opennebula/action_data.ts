/**
 * The `VMM_DRIVER_ACTION_DATA` document OpenNebula 5.0+ writes (base64) to the stdin of every
 * local action but deploy: it tells why an action was sent (the VM's `LCM_STATE`) and when the
 * VM was deployed.
 *
 * @module
 */

import { child, children, childText, parseXml, type XmlElement } from "../util/xml.ts";
import { decodeStdinXml, readStdin } from "./stdin.ts";

/** What the driver uses from the action data. */
interface ActionData {
  /** `HOST`. */
  readonly host?: string;
  /** `DEPLOY_ID`. */
  readonly deployId?: string;
  /** `CHECKPOINT_FILE`. */
  readonly checkpointFile?: string;
  /** `VM/ID`. */
  readonly vmId?: number;
  /** `VM/LCM_STATE`. */
  readonly lcmState?: number;
  /** When the VM was deployed on its current host (epoch seconds): the last history record's `STIME`, else the VM's. */
  readonly deployedAt?: number;
  /**
   * The ids of the hosts the VM's history records name (`HOSTNAME` to `HID`), the last record
   * winning: how an action finds its host's id without asking oned.
   */
  readonly hostIds?: Readonly<Record<string, number>>;
}

/**
 * Parses the action data XML.
 *
 * @param xml The decoded document.
 * @returns The fields the driver uses; absent ones are left out.
 * @throws {InvalidInputError} when the XML is malformed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseActionData } from "./action_data.ts";
 * const data = parseActionData(
 *   "<VMM_DRIVER_ACTION_DATA><HOST>aws</HOST><VM><ID>7</ID><LCM_STATE>18</LCM_STATE></VM></VMM_DRIVER_ACTION_DATA>",
 * );
 * assert.equal(data.lcmState, 18);
 * assert.equal(data.host, "aws");
 * const deployment = parseActionData(
 *   "<VM><ID>7</ID><HISTORY_RECORDS><HISTORY><HOSTNAME>aws</HOSTNAME><HID>3</HID></HISTORY></HISTORY_RECORDS></VM>",
 * );
 * assert.deepEqual(deployment.hostIds, { aws: 3 });
 * ```
 */
export function parseActionData(xml: string): ActionData {
  const root = parseXml(xml);
  const vm = root.name === "VM" ? root : child(root, "VM");
  const data: Record<string, string | number> = {};
  const text = (el: XmlElement | undefined, name: string) => {
    const value = el ? childText(el, name)?.trim() : undefined;
    return value ? value : undefined;
  };
  const integer = (value: string | undefined) =>
    value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
  const put = (key: keyof ActionData, value: string | number | undefined) => {
    if (value !== undefined) data[key] = value;
  };
  put("host", text(root, "HOST"));
  put("deployId", text(root, "DEPLOY_ID") ?? text(vm, "DEPLOY_ID"));
  put("checkpointFile", text(root, "CHECKPOINT_FILE"));
  put("vmId", integer(text(vm, "ID")));
  put("lcmState", integer(text(vm, "LCM_STATE")));
  const records = vm ? children(child(vm, "HISTORY_RECORDS") ?? vm, "HISTORY") : [];
  const history = records.at(-1);
  const started = integer(text(history, "STIME")) ?? integer(text(vm, "STIME"));
  put("deployedAt", started ? started : undefined);
  const hostIds: Record<string, number> = {};
  for (const record of records) {
    const name = text(record, "HOSTNAME");
    const id = integer(text(record, "HID"));
    if (name !== undefined && id !== undefined) hostIds[name] = id;
  }
  return (Object.keys(hostIds).length > 0 ? { ...data, hostIds } : data) as ActionData;
}

/**
 * Reads the action data from standard input, if oned sent any. Input that cannot be read as
 * action data is ignored: older OpenNebula versions send none, and no action depends on it
 * to do its job safely.
 *
 * @param stdin Reads standard input (injectable for tests).
 * @returns The action data, or `undefined`.
 * @throws {InvalidInputError} when standard input is larger than its limit or does not end in time.
 */
export async function readActionData(
  stdin: () => Promise<string> = readStdin,
): Promise<ActionData | undefined> {
  // Input too large or never ending is not "an older OpenNebula sent none": guessing then
  // could terminate a VM that is being powered off.
  const input = await stdin();
  try {
    const xml = decodeStdinXml(input);
    return xml === undefined ? undefined : parseActionData(xml);
  } catch {
    return undefined;
  }
}
