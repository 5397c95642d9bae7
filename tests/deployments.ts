/**
 * Deployment files as oned writes them, built for the integration tests from the local
 * endpoint's fixture resources.
 *
 * @module
 */

/** Attributes of a template section, written as oned writes them (CDATA values). */
export type Section = Record<string, string>;

function cdata(section: Section): string {
  return Object.entries(section).map(([key, value]) => `<${key}><![CDATA[${value}]]></${key}>`)
    .join("");
}

/**
 * An OpenNebula 5.x deployment file: the whole VM, the section under USER_TEMPLATE.
 *
 * @param vmId VM id.
 * @param section The PUBLIC_CLOUD attributes (TYPE added).
 * @param options VM name, creation time, LCM state, existing deploy id, CONTEXT section, the
 * section's TYPE (`ec2` unless given), the history record of the host it is deployed to (as
 * oned writes it: `HOSTNAME` and `HID`; none unless given).
 * @returns The XML text.
 */
export function vmDeployment(
  vmId: number,
  section: Section,
  options: {
    name?: string;
    stime?: number;
    lcmState?: number;
    deployId?: string;
    context?: Section;
    type?: string;
    history?: { host: string; hostId: number };
  } = {},
): string {
  const stime = options.stime ?? 1_700_000_000 + vmId;
  return `<VM><ID>${vmId}</ID><UID>0</UID><GID>0</GID><UNAME>oneadmin</UNAME><GNAME>oneadmin</GNAME>` +
    `<NAME>${options.name ?? `web-${vmId}`}</NAME><LAST_POLL>0</LAST_POLL><STATE>3</STATE>` +
    `<LCM_STATE>${options.lcmState ?? 2}</LCM_STATE><STIME>${stime}</STIME><ETIME>0</ETIME>` +
    `<DEPLOY_ID>${
      options.deployId ?? ""
    }</DEPLOY_ID><TEMPLATE><CPU><![CDATA[1]]></CPU><MEMORY><![CDATA[1024]]></MEMORY>` +
    `<VMID><![CDATA[${vmId}]]></VMID>${
      options.context ? `<CONTEXT>${cdata(options.context)}</CONTEXT>` : ""
    }</TEMPLATE><USER_TEMPLATE><PUBLIC_CLOUD><TYPE><![CDATA[${options.type ?? "ec2"}]]></TYPE>` +
    `${cdata(section)}</PUBLIC_CLOUD></USER_TEMPLATE>${
      options.history
        ? `<HISTORY_RECORDS><HISTORY><OID>${vmId}</OID><SEQ>0</SEQ><HOSTNAME>${options.history.host}</HOSTNAME>` +
          `<HID>${options.history.hostId}</HID><STIME>${stime}</STIME></HISTORY></HISTORY_RECORDS>`
        : "<HISTORY_RECORDS/>"
    }</VM>`;
}

/**
 * An OpenNebula 3.2 deployment file: the VM template alone, with an `EC2` section (or, for
 * another type, a `PUBLIC_CLOUD` section of that TYPE).
 *
 * @param vmId VM id.
 * @param section The section's attributes.
 * @param type The section's type.
 * @returns The XML text.
 */
export function templateDeployment(vmId: number, section: Section, type = "ec2"): string {
  const body = type === "ec2"
    ? `<EC2>${cdata(section)}</EC2>`
    : `<PUBLIC_CLOUD>${cdata({ TYPE: type, ...section })}</PUBLIC_CLOUD>`;
  return `<TEMPLATE><CPU><![CDATA[1]]></CPU><MEMORY><![CDATA[512]]></MEMORY><NAME><![CDATA[legacy-${vmId}]]></NAME>` +
    `${body}<VMID><![CDATA[${vmId}]]></VMID></TEMPLATE>`;
}

/**
 * The `VMM_DRIVER_ACTION_DATA` document OpenNebula 5.x writes to a local action's stdin.
 *
 * @param vmId VM id.
 * @param host Host name.
 * @param deployId Deploy id.
 * @param options LCM state, deploy (history) start time, and the host's id (`HID`, as oned
 * writes it in the history record; left out unless given).
 * @returns The XML text.
 */
export function actionData(
  vmId: number,
  host: string,
  deployId: string,
  options: { lcmState?: number; stime?: number; hostId?: number } = {},
): string {
  const stime = options.stime ?? Math.floor(Date.now() / 1000);
  return `<VMM_DRIVER_ACTION_DATA><HOST>${host}</HOST><MIGR_HOST/><DEPLOY_ID>${deployId}</DEPLOY_ID>` +
    `<LOCAL_DEPLOYMENT_FILE>/var/lib/one/vms/${vmId}/deployment.0</LOCAL_DEPLOYMENT_FILE>` +
    `<REMOTE_DEPLOYMENT_FILE/><CHECKPOINT_FILE/><VM><ID>${vmId}</ID><LCM_STATE>${
      options.lcmState ?? 3
    }</LCM_STATE>` +
    `<STIME>${stime}</STIME><HISTORY_RECORDS><HISTORY><SEQ>0</SEQ><HOSTNAME>${host}</HOSTNAME>` +
    (options.hostId !== undefined ? `<HID>${options.hostId}</HID>` : "") +
    `<STIME>${stime}</STIME></HISTORY></HISTORY_RECORDS></VM><DATASTORE/></VMM_DRIVER_ACTION_DATA>`;
}

/**
 * Writes a deployment file where oned would (`<dir>/vms/<vmid>/deployment.<seq>`).
 *
 * @param dir oned's working directory.
 * @param vmId VM id.
 * @param xml The file's text.
 * @param seq The deployment's sequence number.
 * @returns The file's path.
 */
export async function writeDeployment(
  dir: string,
  vmId: number,
  xml: string,
  seq = 0,
): Promise<string> {
  await Deno.mkdir(`${dir}/vms/${vmId}`, { recursive: true });
  const path = `${dir}/vms/${vmId}/deployment.${seq}`;
  await Deno.writeTextFile(path, xml);
  return path;
}
