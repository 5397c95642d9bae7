/**
 * A stand-in for a partner OpenNebula's XML-RPC API (5.10–6.x), for the partner-cloud tests:
 * `one.template.info`, `one.template.instantiate`, `one.vm.info`, `one.vm.action`,
 * `one.vm.update` (replace or merge the user template, 4.4+'s four parameters),
 * `one.vm.rename`, `one.vm.snapshotcreate`, `one.vmpool.info` (the short documents of 5.8+, without custom
 * attributes) and `one.vmpool.infoextended` (5.8.1+), both with oned's id ranges, row offsets
 * and order (`oned_pool.ts`), `one.user.info`. It answers as oned does
 * (`[success, result, error code]`, xmlrpc-c's faults for unknown methods and wrong
 * parameters), refuses a wrong session, unknown templates and VMs, actions a VM's state does not
 * allow, and an instantiate or resume past the user's VM quota (its own limits, `-1` for the
 * default quota, `-2` for unlimited, as oned reads them; a VM charged its template's CPU, not
 * VCPU, and MEMORY, RUNNING_* from 5.6.1), each with oned's code; and a VM moves
 * through its states over time (PENDING → PROLOG → BOOT → RUNNING, SHUTDOWN_POWEROFF →
 * POWEROFF, ...), one step every `stepMs`. Listens on 127.0.0.1, on a free port.
 *
 * @module
 */

import { child, parseXml, type XmlElement } from "../lib/util/xml.ts";
import { type ListOrder, listPool } from "./oned_pool.ts";

/** oned's error codes. */
const ERR = { AUTHENTICATION: 0x0100, AUTHORIZATION: 0x0200, NO_EXISTS: 0x0400, ACTION: 0x0800 };

/** A VM on the partner. */
export interface PartnerVm {
  readonly id: number;
  name: string;
  readonly templateId: number;
  state: number;
  lcm: number;
  /** States still to come, each after one more step. */
  next: [number, number][];
  /** When the last state was reached (ms). */
  since: number;
  /** USER_TEMPLATE attributes (the marks). */
  readonly user: Record<string, string>;
  /** TEMPLATE/CONTEXT. */
  readonly context: Record<string, string>;
  /** Actions received, in order. */
  readonly actions: string[];
  /** Its template's `CPU`, what oned charges the CPU quotas (1 when not given). */
  readonly cpu?: number;
  /** Its template's `VCPU` (1 when not given). */
  readonly vcpu?: number;
  /** Its template's `MEMORY`, MB (512 when not given). */
  readonly memory?: number;
}

/** A template of the partner: its name and CONTEXT, whether the user may use it, its size. */
export interface PartnerTemplate {
  name: string;
  context: Record<string, string>;
  forbidden?: boolean;
  /** `CPU` (1 when not given). */
  cpu?: number;
  /** `VCPU` (1 when not given). */
  vcpu?: number;
  /** `MEMORY`, MB (512 when not given). */
  memory?: number;
}

/**
 * How a call can go wrong on the way; `echo-session` is a refusal whose message quotes the
 * session string the call carried (as a careless proxy or a patched oned might).
 */
export type PartnerFault = "http-500" | "html" | "cut" | "hang" | "echo-session";

/** One call as received. */
export interface PartnerCall {
  readonly method: string;
  readonly params: readonly (string | number | boolean)[];
}

/** Whether a release (`6.10.0`) is this one or later (`5.10`). */
export function releaseAtLeast(release: string, than: string): boolean {
  const a = release.split(".").map(Number);
  const b = than.split(".").map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/**
 * A VM the partner user made by hand, running, without the driver's marks unless `more` gives
 * them, from template 7 unless it names another.
 */
export function handMadeVm(id: number, more: Partial<PartnerVm> = {}): PartnerVm {
  return {
    id,
    name: `by-hand-${id}`,
    templateId: 7,
    state: 3,
    lcm: 3,
    next: [],
    since: Date.now(),
    user: {},
    context: {},
    actions: [],
    ...more,
  };
}

/** A running stand-in partner. */
export interface PartnerOned extends AsyncDisposable {
  /** The OpenNebula release it answers as (`6.10.0` unless the options name another). */
  readonly release: string;
  readonly url: string;
  readonly session: string;
  readonly calls: PartnerCall[];
  readonly vms: Map<number, PartnerVm>;
  /** Templates by id: their name and CONTEXT, whether the user may not use them, their size. */
  readonly templates: Map<number, PartnerTemplate>;
  /**
   * How pool listings order their rows (`API_LIST_ORDER`): the release's default when
   * undefined, descending from 5.8.
   */
  listOrder: ListOrder | undefined;
  /** The user's VM quota (`VMS`); unlimited when undefined. */
  vmQuota: number | undefined;
  /**
   * The user's VM quota limits by metric (`VMS`, `CPU`, `MEMORY`, `RUNNING_VMS`, ...); a
   * metric left out is `-1`, the default quota's.
   */
  readonly userQuota: Record<string, number>;
  /** The default user quota's VM limits by metric; a metric left out is unlimited. */
  readonly defaultQuota: Record<string, number>;
  /** Makes a VM's boot fail (BOOT_FAILURE) for the next instantiate. */
  failNextBoot: boolean;
  /**
   * Makes the next `times` calls of a method (`*` for any) misbehave, after `after` more that
   * are answered: HTTP 500, an HTML page, an XML-RPC answer cut short, no answer at all
   * (until the server closes), or an authentication refusal quoting the session given.
   */
  fail(method: string, fault: PartnerFault, times?: number, after?: number): void;
  /** Drops the faults not yet answered. */
  clearFaults(): void;
  /** The VM's state now. */
  stateOf(id: number): [number, number];
  /** Counts calls of a method. */
  count(method: string): number;
  close(): Promise<void>;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function answer(success: boolean, result: string | number, code = 0): string {
  const value = typeof result === "number"
    ? `<i4>${result}</i4>`
    : `<string>${escape(result)}</string>`;
  return '<?xml version="1.0" encoding="UTF-8"?>\r\n<methodResponse>\r\n<params>\r\n' +
    `<param><value><array><data>\r\n<value><boolean>${success ? 1 : 0}</boolean></value>\r\n` +
    `<value>${value}</value>\r\n<value><i4>${code}</i4></value>\r\n` +
    "</data></array></value></param>\r\n</params>\r\n</methodResponse>\r\n";
}

function fault(code: number, text: string): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\r\n<methodResponse>\r\n<fault>\r\n' +
    `<value><struct><member><name>faultCode</name><value><i4>${code}</i4></value></member>` +
    `<member><name>faultString</name><value><string>${
      escape(text)
    }</string></value></member></struct></value>\r\n</fault>\r\n</methodResponse>\r\n`;
}

function param(value: XmlElement | undefined): string | number | boolean | undefined {
  const typed = value?.children[0];
  if (!value) return undefined;
  if (!typed) return value.text;
  if (typed.name === "string") return typed.text;
  if (typed.name === "int" || typed.name === "i4") return Number(typed.text.trim());
  if (typed.name === "boolean") return typed.text.trim() === "1";
  return undefined;
}

function cdata(record: Record<string, string>): string {
  return Object.entries(record).map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`).join("");
}

/** What each action does: the states it goes through, from the states it is allowed in. */
const ACTIONS: Record<
  string,
  { from: (s: number, l: number) => boolean; path: [number, number][] }
> = {
  poweroff: { from: (s, l) => s === 3 && l === 3, path: [[3, 18], [8, 0]] },
  "poweroff-hard": { from: (s, l) => s === 3 && l === 3, path: [[3, 18], [8, 0]] },
  undeploy: { from: (s, l) => (s === 3 && l === 3) || s === 8, path: [[3, 29], [3, 30], [9, 0]] },
  "undeploy-hard": {
    from: (s, l) => (s === 3 && l === 3) || s === 8,
    path: [[3, 29], [3, 30], [9, 0]],
  },
  suspend: { from: (s, l) => s === 3 && l === 3, path: [[3, 6], [5, 0]] },
  resume: { from: (s) => s === 5 || s === 8 || s === 9 || s === 4, path: [] },
  reboot: { from: (s, l) => s === 3 && l === 3, path: [] },
  "reboot-hard": { from: (s, l) => s === 3 && l === 3, path: [] },
  terminate: { from: (s) => s !== 6, path: [[3, 12], [3, 11], [6, 0]] },
  "terminate-hard": { from: (s) => s !== 6, path: [[3, 12], [3, 11], [6, 0]] },
};

const STATE_NAMES = [
  "INIT",
  "PENDING",
  "HOLD",
  "ACTIVE",
  "STOPPED",
  "SUSPENDED",
  "DONE",
  "FAILED",
  "POWEROFF",
  "UNDEPLOYED",
];

/** The permissions every VM document of the partner's full form has. */
const PERMISSIONS = "<PERMISSIONS><OWNER_U>1</OWNER_U><OWNER_M>1</OWNER_M><OWNER_A>0</OWNER_A>" +
  "<GROUP_U>0</GROUP_U><GROUP_M>0</GROUP_M><GROUP_A>0</GROUP_A><OTHER_U>0</OTHER_U>" +
  "<OTHER_M>0</OTHER_M><OTHER_A>0</OTHER_A></PERMISSIONS>";

/**
 * The DISK, GRAPHICS and OS of a VM's full document, as 6.x writes them: what makes a listing
 * of full documents several times the size of the short ones.
 */
function fullDisk(id: number): string {
  const hex = id.toString(16).padStart(8, "0");
  return `<AUTOMATIC_REQUIREMENTS><![CDATA[(CLUSTER_ID = 0) & !(PUBLIC_CLOUD = YES)]]>` +
    `</AUTOMATIC_REQUIREMENTS><DISK>${
      cdata({
        ALLOW_ORPHANS: "FORMAT",
        CLONE: "YES",
        CLONE_TARGET: "SYSTEM",
        CLUSTER_ID: "0",
        DATASTORE: "default",
        DATASTORE_ID: "1",
        DEV_PREFIX: "vd",
        DISK_ID: "0",
        DISK_TYPE: "FILE",
        DRIVER: "qcow2",
        FORMAT: "qcow2",
        IMAGE: "ubuntu2204",
        IMAGE_ID: "3",
        IMAGE_STATE: "2",
        LN_TARGET: "NONE",
        ORIGINAL_SIZE: "2252",
        READONLY: "NO",
        SAVE: "NO",
        SIZE: "2252",
        SOURCE: `/var/lib/one//datastores/1/${hex}0c55b9e5b5ee4f1d6d0ea4d2`,
        TARGET: "vda",
        TM_MAD: "ssh",
        TYPE: "FILE",
      })
    }</DISK><GRAPHICS>${
      cdata({ LISTEN: "0.0.0.0", PORT: String(5900 + id), TYPE: "VNC" })
    }</GRAPHICS><OS>${cdata({ ARCH: "x86_64", UUID: `${hex}-5f0e-4b8a-9d3c-2a6b7e1f4c90` })}</OS>`;
}

/** The attributes of a full NIC besides its IP. */
function nicDetails(id: number): Record<string, string> {
  const mac = `02:00:c0:a8:96:${(id % 250).toString(16).padStart(2, "0")}`;
  return {
    AR_ID: "0",
    BRIDGE: "br0",
    BRIDGE_TYPE: "linux",
    MAC: mac,
    MODEL: "virtio",
    NETWORK: "private",
    NETWORK_ID: "0",
    NIC_ID: "0",
    SECURITY_GROUPS: "0",
    TARGET: `one-${id}-0`,
    VN_MAD: "bridge",
  };
}

/** The history of a VM's full document: one stay on a partner host. */
function historyOf(id: number): string {
  return `<HISTORY_RECORDS><HISTORY><OID>${id}</OID><SEQ>0</SEQ><HOSTNAME>kvm-1</HOSTNAME>` +
    "<HID>0</HID><CID>0</CID><STIME>1700000000</STIME><ETIME>0</ETIME><VM_MAD>kvm</VM_MAD>" +
    "<TM_MAD>ssh</TM_MAD><DS_ID>0</DS_ID><PSTIME>1700000000</PSTIME><PETIME>1700000010</PETIME>" +
    "<RSTIME>1700000010</RSTIME><RETIME>0</RETIME><ESTIME>0</ESTIME><EETIME>0</EETIME>" +
    "<ACTION>0</ACTION><UID>-1</UID><GID>-1</GID><REQUEST_ID>-1</REQUEST_ID></HISTORY>" +
    "</HISTORY_RECORDS>";
}

/**
 * ACTIVE's LCM states of a powered-off, suspended or undeployed VM being changed (hot-plugs,
 * disk snapshots and resizes): not running for the RUNNING_* quotas.
 */
const OFF_WHILE_ACTIVE = new Set([27, 28, 33, 34, 51, 52, 53, 54, 56, 63, 64, 65, 67, 68]);

/** A quota figure as oned writes it (`one_util::float_to_str`): whole, or two decimals. */
function quotaFigure(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/**
 * Starts a stand-in partner.
 *
 * @param options The user and password it accepts, how long a state lasts, and the release it
 *   answers as.
 */
export function startPartnerOned(
  options: { user?: string; password?: string; stepMs?: number; release?: string } = {},
): Promise<PartnerOned> {
  const release = options.release ?? "6.10.0";
  const user = options.user ?? "partner";
  const session = `${user}:${options.password ?? "Partner-s3cret"}`;
  const stepMs = options.stepMs ?? 200;
  const calls: PartnerCall[] = [];
  const vms = new Map<number, PartnerVm>();
  const templates = new Map<number, PartnerTemplate>();
  let nextId = 100;

  const advance = (vm: PartnerVm) => {
    const now = Date.now();
    while (vm.next.length > 0 && now - vm.since >= stepMs) {
      [vm.state, vm.lcm] = vm.next.shift()!;
      vm.since += stepMs;
    }
    if (vm.next.length === 0) vm.since = Math.max(vm.since, now - stepMs);
  };
  const go = (vm: PartnerVm, path: [number, number][]) => {
    advance(vm);
    vm.next = [...path];
    vm.since = Date.now();
  };

  /** A VM's document: full (one.vm.info, infoextended, 5.6's pool), or 5.8+'s short one. */
  const vmXml = (vm: PartnerVm, extended: boolean) => {
    advance(vm);
    // The short body of 5.8+ pool listings has no VCPU until 6.6.3.
    const vcpu = extended || releaseAtLeast(release, "6.6.3")
      ? `<VCPU><![CDATA[${vm.vcpu ?? 1}]]></VCPU>`
      : "";
    return `<VM><ID>${vm.id}</ID><UID>2</UID><GID>1</GID><UNAME>${user}</UNAME><GNAME>users</GNAME>` +
      `<NAME>${escape(vm.name)}</NAME>${extended ? PERMISSIONS : ""}<STATE>${vm.state}</STATE>` +
      `<LCM_STATE>${vm.lcm}</LCM_STATE>` +
      `<DEPLOY_ID>one-${vm.id}</DEPLOY_ID><TEMPLATE><CPU><![CDATA[${vm.cpu ?? 1}]]></CPU>` +
      `<MEMORY><![CDATA[${vm.memory ?? 512}]]></MEMORY>${vcpu}` +
      (extended
        ? `<CONTEXT>${cdata(vm.context)}</CONTEXT>${fullDisk(vm.id)}` +
          `<TEMPLATE_ID><![CDATA[${vm.templateId}]]></TEMPLATE_ID>`
        : "") +
      `<NIC><IP><![CDATA[192.168.150.${vm.id % 250}]]></IP>${
        extended ? cdata(nicDetails(vm.id)) : ""
      }</NIC></TEMPLATE>` +
      (extended ? `<USER_TEMPLATE>${cdata(vm.user)}</USER_TEMPLATE>` : "<USER_TEMPLATE/>") +
      (extended ? historyOf(vm.id) : "") +
      "</VM>";
  };

  const userQuota: Record<string, number> = {};
  const defaultQuota: Record<string, number> = {};
  // RUNNING_* came with 5.6.1 (QuotaVirtualMachine::VM_METRICS).
  const METRICS = releaseAtLeast(release, "5.6.1")
    ? ["VMS", "RUNNING_VMS", "CPU", "RUNNING_CPU", "MEMORY", "RUNNING_MEMORY"]
    : ["VMS", "CPU", "MEMORY"];
  /** What oned charges for a VM: 1 VM, its template's CPU (not VCPU) and MEMORY. */
  const charge = (vm: { cpu?: number; memory?: number }) =>
    ({ VMS: 1, CPU: vm.cpu ?? 1, MEMORY: vm.memory ?? 512 }) as Record<string, number>;
  /** The charge of each metric (`RUNNING_CPU` is the CPU's). */
  const amountOf = (metric: string, vm: { cpu?: number; memory?: number }) =>
    charge(vm)[metric.replace(/^RUNNING_/, "")]!;
  /**
   * The VMs' charges; the RUNNING_* ones of VMs that count as running
   * (`VirtualMachine::is_running_quota`: PENDING, HOLD, CLONING(_FAILURE), and ACTIVE but
   * for the LCM states of a powered-off, suspended or undeployed VM being changed).
   */
  const quotaUsed = () => {
    const used: Record<string, number> = Object.fromEntries(METRICS.map((m) => [m, 0]));
    for (const vm of vms.values()) {
      advance(vm);
      if (vm.state === 6) continue;
      const running = [1, 2, 10, 11].includes(vm.state) ||
        (vm.state === 3 && !OFF_WHILE_ACTIVE.has(vm.lcm));
      for (const metric of METRICS) {
        if (running || !metric.startsWith("RUNNING_")) used[metric]! += amountOf(metric, vm);
      }
    }
    return used;
  };
  const limitOf = (metric: string) => {
    const own = userQuota[metric] ?? -1;
    return own === -1 ? defaultQuota[metric] ?? -2 : own;
  };
  /** The quota error of adding a VM (`runningOnly`: one that starts again), if any. */
  const quotaRefusal = (runningOnly: boolean, vm: { cpu?: number; memory?: number }) => {
    const used = quotaUsed();
    for (const metric of METRICS) {
      if (runningOnly && !metric.startsWith("RUNNING_")) continue;
      const limit = limitOf(metric);
      if (limit !== -2 && used[metric]! + amountOf(metric, vm) > limit) {
        return `User [2] : user [2] limit of ${limit} reached for ${metric} quota in user.`;
      }
    }
    return undefined;
  };

  const faults: { method: string; fault: PartnerFault; times: number; after: number }[] = [];
  const closing = new AbortController();
  const faulty = async (method: string, given: unknown): Promise<Response | undefined> => {
    const found = faults.find((f) => f.times > 0 && (f.method === method || f.method === "*"));
    if (!found) return undefined;
    if (found.after > 0) {
      found.after--;
      return undefined;
    }
    found.times--;
    switch (found.fault) {
      case "http-500":
        return new Response("Internal Server Error", { status: 500 });
      case "html":
        return new Response("<html><body><h1>Bad Gateway</h1></body></html>", {
          headers: { "content-type": "text/html" },
        });
      case "cut":
        return new Response(answer(true, "<VM><ID>1</ID>").slice(0, 120), {
          headers: { "content-type": "text/xml" },
        });
      case "echo-session":
        return new Response(
          answer(
            false,
            `[${method}] User couldn't be authenticated with session ${given}, aborting call.`,
            ERR.AUTHENTICATION,
          ),
          { headers: { "content-type": "text/xml; charset=utf-8" } },
        );
      case "hang":
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, 120_000);
          closing.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve(undefined);
          });
        });
        return new Response("", { status: 503 });
    }
  };

  const handle = async (request: Request): Promise<Response> => {
    const xml = (body: string) =>
      new Response(body, { headers: { "content-type": "text/xml; charset=utf-8" } });
    let method = "";
    let params: (string | number | boolean | undefined)[];
    try {
      const call = parseXml(await request.text());
      method = child(call, "methodName")?.text.trim() ?? "";
      params = (child(call, "params")?.children ?? []).map((p) => param(child(p, "value")));
    } catch {
      return xml(fault(-503, "Call XML not a proper XML-RPC call"));
    }
    calls.push({
      method,
      params: params.filter((p) => p !== undefined) as (string | number | boolean)[],
    });
    const misbehaving = await faulty(method, params[0]);
    if (misbehaving) return misbehaving;
    const [given, ...rest] = params;
    const tag = `[${method}]`;
    const known = [
      "one.template.info",
      "one.template.instantiate",
      "one.vm.info",
      "one.vm.action",
      "one.vm.snapshotcreate",
      "one.vm.update",
      "one.vm.rename",
      "one.vmpool.info",
      "one.vmpool.infoextended",
      "one.user.info",
    ];
    // one.vmpool.infoextended came with 5.8.1.
    if (
      !known.includes(method) ||
      (method === "one.vmpool.infoextended" && !releaseAtLeast(release, "5.8.1"))
    ) return xml(fault(-506, `Method '${method}' not defined`));
    if (typeof given !== "string") {
      return xml(fault(-501, `Type mismatch in the parameters of ${method}`));
    }
    if (given !== session) {
      return xml(
        answer(false, `${tag} User couldn't be authenticated, aborting call.`, ERR.AUTHENTICATION),
      );
    }
    const noVm = (id: unknown) =>
      xml(answer(false, `${tag} Error getting virtual machine [${id}].`, ERR.NO_EXISTS));
    switch (method) {
      case "one.template.info": {
        const [id] = rest;
        const t = typeof id === "number" ? templates.get(id) : undefined;
        if (!t) return xml(answer(false, `${tag} Error getting template [${id}].`, ERR.NO_EXISTS));
        if (t.forbidden) {
          return xml(
            answer(
              false,
              `${tag} User [2] : Not authorized to perform USE TEMPLATE [${id}].`,
              ERR.AUTHORIZATION,
            ),
          );
        }
        return xml(
          answer(
            true,
            `<VMTEMPLATE><ID>${id}</ID><NAME>${escape(t.name)}</NAME><TEMPLATE><CONTEXT>${
              cdata(t.context)
            }</CONTEXT><CPU><![CDATA[${t.cpu ?? 1}]]></CPU><MEMORY><![CDATA[${
              t.memory ?? 512
            }]]></MEMORY>${
              t.vcpu === undefined ? "" : `<VCPU><![CDATA[${t.vcpu}]]></VCPU>`
            }</TEMPLATE></VMTEMPLATE>`,
          ),
        );
      }
      case "one.template.instantiate": {
        const [id, name, hold, extra] = rest;
        if (
          typeof id !== "number" || typeof name !== "string" || typeof hold !== "boolean" ||
          typeof extra !== "string"
        ) {
          return xml(fault(-501, "Type mismatch in the parameters of one.template.instantiate"));
        }
        const t = templates.get(id);
        if (!t) return xml(answer(false, `${tag} Error getting template [${id}].`, ERR.NO_EXISTS));
        const live = [...vms.values()].filter((vm) => (advance(vm), vm.state !== 6)).length;
        if (state.vmQuota !== undefined && live >= state.vmQuota) {
          return xml(
            answer(
              false,
              `${tag} User [2] : user [2] limit of ${state.vmQuota} reached for VMS quota in user.`,
              ERR.AUTHORIZATION,
            ),
          );
        }
        const refusal = quotaRefusal(false, t);
        if (refusal) return xml(answer(false, `${tag} ${refusal}`, ERR.AUTHORIZATION));
        let extraXml: XmlElement;
        try {
          extraXml = parseXml(extra);
        } catch {
          return xml(answer(false, `${tag} Error parsing the extra template`, 0x1000));
        }
        const userAttrs: Record<string, string> = {};
        let context: Record<string, string> = { ...t.context };
        for (const element of extraXml.children) {
          if (element.name === "CONTEXT") {
            // A CONTEXT in the extra template replaces the template's, as Template::merge does.
            context = Object.fromEntries(element.children.map((c) => [c.name, c.text]));
          } else userAttrs[element.name] = element.text;
        }
        const vm: PartnerVm = {
          id: nextId++,
          name,
          templateId: id,
          state: 1,
          lcm: 0,
          next: state.failNextBoot ? [[3, 1], [3, 2], [3, 36]] : [[3, 1], [3, 2], [3, 3]],
          since: Date.now(),
          user: userAttrs,
          context,
          actions: [],
          ...(t.cpu !== undefined ? { cpu: t.cpu } : {}),
          ...(t.vcpu !== undefined ? { vcpu: t.vcpu } : {}),
          ...(t.memory !== undefined ? { memory: t.memory } : {}),
        };
        state.failNextBoot = false;
        vms.set(vm.id, vm);
        return xml(answer(true, vm.id));
      }
      case "one.vm.info": {
        const [id] = rest;
        const vm = typeof id === "number" ? vms.get(id) : undefined;
        return vm ? xml(answer(true, vmXml(vm, true))) : noVm(id);
      }
      case "one.vm.action": {
        const [action, id] = rest;
        const vm = typeof id === "number" ? vms.get(id) : undefined;
        if (!vm) return noVm(id);
        advance(vm);
        const rule = typeof action === "string" ? ACTIONS[action] : undefined;
        if (!rule) {
          return xml(
            answer(false, `${tag} Virtual machine action "${action}" is not supported`, ERR.ACTION),
          );
        }
        if (vm.next.length > 0 || !rule.from(vm.state, vm.lcm)) {
          return xml(
            answer(
              false,
              `${tag} Error performing action "${action}": This action is not available for state ${
                STATE_NAMES[vm.state]
              }`,
              ERR.ACTION,
            ),
          );
        }
        if (action === "resume") {
          const refusal = quotaRefusal(true, vm);
          if (refusal) return xml(answer(false, `${tag} ${refusal}`, ERR.AUTHORIZATION));
        }
        vm.actions.push(action as string);
        if (action === "resume") {
          const boot = vm.state === 9 ? [[3, 31], [3, 32]] : vm.state === 5 ? [[3, 21]] : [[3, 20]];
          go(vm, [...boot, [3, 3]] as [number, number][]);
        } else go(vm, rule.path);
        return xml(answer(true, vm.id));
      }
      case "one.vm.update": {
        const [id, template, type] = rest;
        if (typeof id !== "number" || typeof template !== "string" || typeof type !== "number") {
          return xml(fault(-501, "Type mismatch in the parameters of one.vm.update"));
        }
        const vm = vms.get(id);
        if (!vm) return noVm(id);
        if (type !== 0 && type !== 1) {
          return xml(answer(false, `${tag} Wrong update type`, ERR.ACTION));
        }
        let given: XmlElement;
        try {
          given = parseXml(template);
        } catch {
          return xml(answer(false, `${tag} Error parsing the template`, 0x1000));
        }
        if (type === 0) { for (const key of Object.keys(vm.user)) delete vm.user[key]; }
        for (const element of given.children) vm.user[element.name] = element.text;
        return xml(answer(true, vm.id));
      }
      case "one.vm.rename": {
        const [id, name] = rest;
        if (typeof id !== "number" || typeof name !== "string") {
          return xml(fault(-501, "Type mismatch in the parameters of one.vm.rename"));
        }
        const vm = vms.get(id);
        if (!vm) return noVm(id);
        if (name.trim() === "") {
          return xml(answer(false, `${tag} Invalid NAME, it cannot be empty`, ERR.ACTION));
        }
        vm.name = name;
        return xml(answer(true, vm.id));
      }
      case "one.vm.snapshotcreate": {
        const [id] = rest;
        const vm = typeof id === "number" ? vms.get(id) : undefined;
        if (!vm) return noVm(id);
        vm.actions.push("snapshot-create");
        return xml(answer(true, 0));
      }
      case "one.vmpool.info":
      case "one.vmpool.infoextended": {
        // Every VM is the user's (uid 2); oned's paging, order and parameter checks.
        const listing = listPool(
          rest,
          [...vms.values()].map((vm) => (advance(vm), { id: vm.id, state: vm.state, uid: 2 })),
          (than) => releaseAtLeast(release, than),
          state.listOrder,
        );
        if ("fault" in listing) return xml(fault(-501, listing.fault));
        if ("refusal" in listing) {
          return xml(answer(false, `${tag} ${listing.refusal}`, listing.code));
        }
        // one.vmpool.info answers the short documents from 5.8.0, the full ones before.
        const full = method.endsWith("extended") || !releaseAtLeast(release, "5.8");
        return xml(
          answer(
            true,
            `<VM_POOL>${listing.ids.map((id) => vmXml(vms.get(id)!, full)).join("")}</VM_POOL>`,
          ),
        );
      }
      default: {
        // As oned 5.10+ answers: the user's VM quota with its counters (an empty VM_QUOTA
        // until a limit is set or a VM is made), then the default quotas.
        const used = quotaUsed();
        const set = Object.keys(userQuota).length > 0 || vms.size > 0;
        const own = set
          ? `<VM>${
            METRICS.map((m) =>
              `<${m}>${userQuota[m] ?? -1}</${m}><${m}_USED>${quotaFigure(used[m]!)}</${m}_USED>`
            ).join("")
          }</VM>`
          : "";
        const defaults = METRICS.map((m) => `<${m}>${defaultQuota[m] ?? -2}</${m}>`).join("");
        return xml(
          answer(
            true,
            `<USER><ID>2</ID><GID>1</GID><NAME>${user}</NAME><VM_QUOTA>${own}</VM_QUOTA>` +
              `<DEFAULT_USER_QUOTAS><VM_QUOTA><VM>${defaults}</VM></VM_QUOTA>` +
              "</DEFAULT_USER_QUOTAS></USER>",
          ),
        );
      }
    }
  };

  const state = {
    vmQuota: undefined as number | undefined,
    failNextBoot: false,
    listOrder: undefined as ListOrder | undefined,
  };
  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) => {
        const close = () => {
          closing.abort();
          return server.shutdown();
        };
        resolve({
          release,
          url: `http://127.0.0.1:${port}/RPC2`,
          session,
          calls,
          vms,
          templates,
          userQuota,
          defaultQuota,
          get vmQuota() {
            return state.vmQuota;
          },
          set vmQuota(value) {
            state.vmQuota = value;
          },
          get listOrder() {
            return state.listOrder;
          },
          set listOrder(value) {
            state.listOrder = value;
          },
          get failNextBoot() {
            return state.failNextBoot;
          },
          set failNextBoot(value) {
            state.failNextBoot = value;
          },
          fail(method, fault, times = 1, after = 0) {
            faults.push({ method, fault, times, after });
          },
          clearFaults() {
            faults.length = 0;
          },
          stateOf(id) {
            const vm = vms.get(id)!;
            advance(vm);
            return [vm.state, vm.lcm];
          },
          count: (m) => calls.filter((c) => c.method === m).length,
          close,
          [Symbol.asyncDispose]: close,
        });
      },
    }, handle);
  });
}
