/**
 * A stand-in for a partner OpenNebula's XML-RPC API, for the partner-cloud tests:
 * `one.template.info`, `one.template.instantiate`, `one.vm.info`, `one.vm.action`,
 * `one.vm.update` (replace or merge the user template, 4.4+'s four parameters),
 * `one.vm.rename`, `one.vm.snapshotcreate`, `one.vmpool.info` (the short documents of 5.8+, without custom
 * attributes) and `one.vmpool.infoextended` (5.8.1+), both with oned's id ranges, row offsets
 * and order (`oned_pool.ts`), `one.user.info`, `one.system.version` (the release it answers as). It answers as the release it stands for does (`partner_wire.ts`): failures of
 * 3, 4 or 5 elements, messages naming the method as the release does, xmlrpc-c's fault -506 for
 * a method the release does not have and -501 for a parameter missing or of another type, in
 * every call (the session first, before authentication). It refuses a wrong session, unknown
 * templates and VMs, actions on a locked VM (5.6+, as oned refuses a user outside the oneadmin
 * group: not authorized), an extra template with a restricted `CONTEXT/FILES`
 * (`partner_restricted.ts`), an instantiate past the user's VM quota, and a resume past its
 * RUNNING_* quota (5.6.1+, error ACTION as oned answers it) (its own limits, `-1` for the
 * default quota, `-2` for unlimited, as oned reads them; a VM charged its template's CPU, not
 * VCPU, and MEMORY, RUNNING_* from 5.6.1), each with oned's code.
 * `one.vm.action` takes the names of its release, in the states that release accepts each in,
 * with oned's refusals otherwise (`oned_vm_actions.ts`: 4.14's `shutdown-hard` and `delete`,
 * 5.x's aliases of them, 6.0+'s hard power-off of a VM powering off, ...). A VM moves through
 * its states over time (PENDING → PROLOG → BOOT → RUNNING, SHUTDOWN_POWEROFF → POWEROFF, ...),
 * one step every `stepMs`, or as long as `dwellMs` says for a state (so that an action can
 * arrive in PROLOG or BOOT); a guest that ignores ACPI stays in a soft power-off or shutdown
 * until a hard one takes over. Listens on 127.0.0.1, on a free port.
 *
 * @module
 */

import { parseXml, type XmlElement } from "../lib/util/xml.ts";
import {
  failAnswer,
  FAULT,
  faultAnswer,
  methodExists,
  methodLabel,
  okAnswer,
  ONE_ERR as ERR,
  paramFault,
  readCall,
  type WireParam,
} from "./partner_wire.ts";
import { restrictedAttribute } from "./partner_restricted.ts";
import { oneStateNumber, stateLabel } from "../lib/one_xmlrpc/one_states.ts";
import { onedVmAction, stateStr } from "./oned_vm_actions.ts";
import { type ListOrder, listPool } from "./oned_pool.ts";

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
  /** Its lock (`one.vm.lock`, 5.6+): level 1 USE, 2 MANAGE, 3 ADMIN; who set it and when (s). */
  lock?: { level: number; owner: number; time: number };
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
 * session string the call carried (as a careless proxy or a patched oned might);
 * `timeout-fault` is xmlrpc-c's fault -505, which its server answers when the call's body does
 * not arrive in time (nothing is done); `replication` does the call, then answers REPLICATION
 * (an HA front-end whose log entry did not replicate: the change may still take effect);
 * `locked` answers LOCKED (0x8000) without doing the call.
 */
export type PartnerFault =
  | "http-500"
  | "html"
  | "cut"
  | "hang"
  | "echo-session"
  | "timeout-fault"
  | "replication"
  | "locked";

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
   * How long a VM stays in a state, by its name (`PROLOG`, `BOOT`, `MIGRATE`; an ACTIVE VM's
   * LCM state, else its STATE), when longer or shorter than `stepMs`.
   */
  readonly dwellMs: Record<string, number>;
  /**
   * Whether guests ignore ACPI: a soft power-off, undeploy or terminate then stays in
   * SHUTDOWN_POWEROFF, SHUTDOWN_UNDEPLOY or SHUTDOWN until a hard one takes over.
   */
  guestIgnoresAcpi: boolean;
  /**
   * The partner's administrator live-migrates a running VM: it is in MIGRATE (for
   * `dwellMs.MIGRATE`), then RUNNING again.
   */
  migrate(id: number): void;
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
  /**
   * Puts a VM in a state, as oned does on its own or at another user's request, by OpenNebula's
   * name of it: a `STATE` (`HOLD`, `POWEROFF`) or an ACTIVE VM's `LCM_STATE` (`UNKNOWN`,
   * `BACKUP`, `PROLOG_FAILURE`, `BOOT_FAILURE`, `PROLOG_MIGRATE_POWEROFF`, `SAVE_MIGRATE`, ...);
   * then through the states `then` names, one a step.
   *
   * @throws when the release it answers as has no state of that name (`BACKUP` before 6.6).
   */
  putIn(id: number, name: string, then?: readonly string[]): void;
  /** Counts calls of a method. */
  count(method: string): number;
  close(): Promise<void>;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function cdata(record: Record<string, string>): string {
  return Object.entries(record).map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`).join("");
}

/** The way up from PENDING. */
const BOOT_PATH: [number, number][] = [[3, 1], [3, 2], [3, 3]];

/**
 * The states an action oned accepted takes a VM through, from its state now; soft ones that a
 * guest ignoring ACPI never finishes stop in their SHUTDOWN_* state.
 */
function pathOf(action: string, vm: PartnerVm, ignoresAcpi: boolean): [number, number][] {
  const soft = ignoresAcpi && !action.endsWith("-hard");
  const active = vm.state === 3;
  switch (action) {
    case "poweroff":
    case "poweroff-hard":
      return soft ? [[3, 18]] : [[3, 18], [8, 0]];
    case "undeploy":
    case "undeploy-hard":
      return !active ? [[3, 30], [9, 0]] : soft ? [[3, 29]] : [[3, 29], [3, 30], [9, 0]];
    case "suspend":
      return [[3, 6], [5, 0]];
    case "stop":
      return [[3, 5], [3, 10], [4, 0]];
    case "hold":
      return [[2, 0]];
    case "release":
      return [[1, 0], ...BOOT_PATH];
    case "resume": {
      if (vm.state === 3) return [[3, 3]]; // UNKNOWN
      const boot = vm.state === 9 ? [[3, 31], [3, 32]] : vm.state === 5 ? [[3, 21]] : [[3, 20]];
      return [...boot, [3, 3]] as [number, number][];
    }
    case "delete": // 4.x: whatever the state
      return active ? [[3, 23], [6, 0]] : [[6, 0]];
    case "shutdown":
    case "shutdown-hard":
    case "terminate":
    case "terminate-hard":
      if (vm.state === 6) return [];
      if (!active) return vm.state <= 2 || vm.state >= 10 ? [[6, 0]] : [[3, 11], [6, 0]];
      if (vm.lcm !== 3 && vm.lcm !== 12 && vm.lcm !== 16) return [[3, 23], [6, 0]]; // a failure
      return soft ? [[3, 12]] : [[3, 12], [3, 11], [6, 0]];
    default: // reboot, reboot-hard
      return [];
  }
}

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
  options: {
    user?: string;
    password?: string;
    stepMs?: number;
    release?: string;
    dwellMs?: Record<string, number>;
  } = {},
): Promise<PartnerOned> {
  const release = options.release ?? "6.10.0";
  const user = options.user ?? "partner";
  const session = `${user}:${options.password ?? "Partner-s3cret"}`;
  const stepMs = options.stepMs ?? 200;
  const calls: PartnerCall[] = [];
  const vms = new Map<number, PartnerVm>();
  const templates = new Map<number, PartnerTemplate>();
  let nextId = 100;
  /** oned's answer, shaped as the release shapes it. */
  const answer = (success: boolean, result: string | number, code = 0, respId = -1) =>
    success ? okAnswer(result) : failAnswer(release, String(result), code, respId);

  const dwellMs: Record<string, number> = { ...options.dwellMs };
  const stay = (vm: PartnerVm) => dwellMs[stateStr(vm.state, vm.lcm)] ?? stepMs;
  const advance = (vm: PartnerVm) => {
    const now = Date.now();
    while (vm.next.length > 0 && now - vm.since >= stay(vm)) {
      vm.since += stay(vm);
      [vm.state, vm.lcm] = vm.next.shift()!;
    }
    if (vm.next.length === 0) vm.since = Math.max(vm.since, now - stepMs);
  };
  /** Sets a VM on its way: its first state comes one step from now, whatever it dwells in. */
  const go = (vm: PartnerVm, path: [number, number][]) => {
    advance(vm);
    vm.next = [...path];
    vm.since = Date.now() - Math.max(0, stay(vm) - stepMs);
  };

  /** A state's numbers, by its name in this release. */
  const numbered = (name: string): [number, number] => {
    const state = oneStateNumber("STATE", name);
    const lcm = oneStateNumber("LCM_STATE", name);
    const pair: [number, number] = state !== undefined ? [state, 0] : [3, lcm ?? -1];
    if (stateLabel(...pair, release) !== name) {
      throw new Error(`OpenNebula ${release} has no VM state ${name}`);
    }
    return pair;
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
      lockXml(vm, extended) + "</VM>";
  };

  /** `PoolObjectSQL::lock_db_to_xml`; `to_xml_short` (5.8+ pool listings) has the level only. */
  const lockXml = (vm: PartnerVm, extended: boolean) =>
    !vm.lock || !releaseAtLeast(release, "5.6")
      ? ""
      : extended
      ? `<LOCK><LOCKED>${vm.lock.level}</LOCKED><OWNER>${vm.lock.owner}</OWNER>` +
        `<TIME>${vm.lock.time}</TIME><REQ_ID>-1</REQ_ID></LOCK>`
      : `<LOCK><LOCKED>${vm.lock.level}</LOCKED></LOCK>`;

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
  /** The metric and limit adding a VM exceeds (`runningOnly`: one that starts again), if any. */
  const quotaRefusal = (runningOnly: boolean, vm: { cpu?: number; memory?: number }) => {
    const used = quotaUsed();
    for (const metric of METRICS) {
      if (runningOnly && !metric.startsWith("RUNNING_")) continue;
      const limit = limitOf(metric);
      if (limit !== -2 && used[metric]! + amountOf(metric, vm) > limit) return { metric, limit };
    }
    return undefined;
  };

  const faults: { method: string; fault: PartnerFault; times: number; after: number }[] = [];
  const closing = new AbortController();
  const faulty = async (
    method: string,
    params: readonly WireParam[],
  ): Promise<Response | "replication" | undefined> => {
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
        return new Response(okAnswer("<VM><ID>1</ID>").slice(0, 120), {
          headers: { "content-type": "text/xml" },
        });
      case "echo-session":
        return new Response(
          failAnswer(
            release,
            `[${method}] User couldn't be authenticated with session ${
              params[0]?.value
            }, aborting call.`,
            ERR.AUTHENTICATION,
          ),
          { headers: { "content-type": "text/xml; charset=utf-8" } },
        );
      case "timeout-fault":
        return new Response(
          faultAnswer(FAULT.TIMEOUT, "Timed out waiting for client to send its POST data"),
          { headers: { "content-type": "text/xml; charset=utf-8" } },
        );
      case "locked": {
        const id = params[method === "one.vm.action" ? 2 : 1]?.value;
        return new Response(
          failAnswer(
            release,
            `[${methodLabel(release, method)}] The resource virtual machine is locked. [${id}].`,
            ERR.LOCKED,
            typeof id === "number" ? id : -1,
          ),
          { headers: { "content-type": "text/xml; charset=utf-8" } },
        );
      }
      case "replication":
        return "replication";
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
    /** Set by a `replication` fault: the call is done, then answered REPLICATION. */
    let replicating: string | undefined;
    const xml = (body: string) =>
      new Response(replicating ?? body, {
        headers: { "content-type": "text/xml; charset=utf-8" },
      });
    let method: string;
    let wire: WireParam[];
    try {
      ({ method, params: wire } = readCall(await request.text()));
    } catch {
      return xml(faultAnswer(FAULT.PARSE, "Call XML not a proper XML-RPC call"));
    }
    const params = wire.map((p) => p.value);
    calls.push({
      method,
      params: params.filter((p) => p !== undefined),
    });
    const misbehaving = await faulty(method, wire);
    if (misbehaving instanceof Response) return misbehaving;
    const tag = `[${methodLabel(release, method)}]`;
    const [given, ...rest] = params;
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
      "one.system.version",
    ];
    if (!known.includes(method) || !methodExists(release, method)) {
      return xml(faultAnswer(FAULT.NO_SUCH_METHOD, `Method '${method}' not defined`));
    }
    // The session is read, and authenticated, before the method's own parameters.
    const mistyped = paramFault(release, method, wire);
    if (mistyped?.at === 0) return xml(faultAnswer(FAULT.TYPE, mistyped.text));
    if (given !== session) {
      return xml(
        answer(false, `${tag} User couldn't be authenticated, aborting call.`, ERR.AUTHENTICATION),
      );
    }
    if (mistyped) return xml(faultAnswer(FAULT.TYPE, mistyped.text));
    if (misbehaving === "replication") {
      const entry = 4000 + calls.length;
      replicating = failAnswer(
        release,
        `${tag} Error replicating log entry ${entry}: Cannot replicate log record on followers.`,
        ERR.REPLICATION,
        -1,
        entry,
      );
    }
    const noVm = (id: unknown) =>
      xml(
        answer(
          false,
          `${tag} Error getting virtual machine [${id}].`,
          ERR.NO_EXISTS,
          typeof id === "number" ? id : -1,
        ),
      );
    const noTemplate = (id: unknown) =>
      xml(
        answer(
          false,
          `${tag} Error getting template [${id}].`,
          ERR.NO_EXISTS,
          typeof id === "number" ? id : -1,
        ),
      );
    // The driver's VM calls are MANAGE operations (oned.conf VM_MANAGE_OPERATIONS): a lock of
    // level USE (1) or MANAGE (2) refuses them, ADMIN (3) does not (AclManager::authorize,
    // release-6.10.5:src/acl/AclManager.cc:203). oned words it as any refusal of a user
    // outside the oneadmin group (release-6.10.5:src/authm/AuthManager.cc:96-112).
    const isLocked = (vm: PartnerVm) =>
      vm.lock !== undefined && vm.lock.level <= 2 && releaseAtLeast(release, "5.6");
    const lockedVm = (vm: PartnerVm) =>
      xml(
        answer(
          false,
          `${tag} User [2] : Not authorized to perform MANAGE VM [${vm.id}].`,
          ERR.AUTHORIZATION,
        ),
      );
    switch (method) {
      case "one.template.info": {
        const [id] = rest;
        const t = typeof id === "number" ? templates.get(id) : undefined;
        if (!t) return noTemplate(id);
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
        // Their types are checked (paramFault); the extra template is optional.
        const [id, name, , extra = ""] = rest as [number, string, boolean?, string?];
        const t = templates.get(id);
        if (!t) return noTemplate(id);
        const live = [...vms.values()].filter((vm) => (advance(vm), vm.state !== 6)).length;
        if (state.vmQuota !== undefined && live >= state.vmQuota) {
          return xml(
            answer(
              false,
              `${tag} User [2] : user [2] limit of ${state.vmQuota} reached for VMS quota in VM.`,
              ERR.AUTHORIZATION,
            ),
          );
        }
        const refusal = quotaRefusal(false, t);
        if (refusal) {
          return xml(
            answer(
              false,
              `${tag} User [2] : user [2] limit of ${refusal.limit} reached for ${refusal.metric} quota in VM.`,
              ERR.AUTHORIZATION,
            ),
          );
        }
        let extraXml: XmlElement;
        try {
          extraXml = parseXml(extra === "" ? "<TEMPLATE/>" : extra);
        } catch {
          return xml(answer(false, `${tag} Error parsing the extra template`, 0x1000));
        }
        const restricted = restrictedAttribute(release, t.context, extraXml);
        if (restricted) {
          return xml(
            answer(
              false,
              `${tag} User [2] : User Template includes a restricted attribute ${restricted}.`,
              ERR.AUTHORIZATION,
            ),
          );
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
          next: state.failNextBoot ? [[3, 1], [3, 2], [3, 36]] : [...BOOT_PATH],
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
        if (isLocked(vm)) return lockedVm(vm);
        advance(vm);
        // 5.6.1+ check the RUNNING_* quota of a resume first (its refusal is an ACTION error).
        const overQuota = action === "resume" && releaseAtLeast(release, "5.6.1")
          ? quotaRefusal(true, vm)
          : undefined;
        if (overQuota) {
          return xml(
            answer(
              false,
              `${tag} user [2] limit of ${overQuota.limit} reached for ${overQuota.metric} quota in VM`,
              ERR.ACTION,
            ),
          );
        }
        const verdict = onedVmAction(release, String(action), vm);
        if (!("accepted" in verdict)) return xml(answer(false, verdict.message, verdict.code));
        vm.actions.push(action as string);
        go(vm, pathOf(verdict.accepted, vm, state.guestIgnoresAcpi));
        return xml(answer(true, vm.id));
      }
      case "one.vm.update": {
        // Their types are checked (paramFault); without a type, oned replaces.
        const [id, template, type = 0] = rest as [number, string, number?];
        const vm = vms.get(id);
        if (!vm) return noVm(id);
        if (isLocked(vm)) return lockedVm(vm);
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
        const [id, name] = rest as [number, string];
        const vm = vms.get(id);
        if (!vm) return noVm(id);
        if (isLocked(vm)) return lockedVm(vm);
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
        if (isLocked(vm)) return lockedVm(vm);
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
        if ("fault" in listing) return xml(faultAnswer(FAULT.TYPE, listing.fault));
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
      case "one.system.version":
        return xml(answer(true, release));
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
    guestIgnoresAcpi: false,
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
          dwellMs,
          get guestIgnoresAcpi() {
            return state.guestIgnoresAcpi;
          },
          set guestIgnoresAcpi(value) {
            state.guestIgnoresAcpi = value;
          },
          migrate(id) {
            const vm = vms.get(id)!;
            advance(vm);
            [vm.state, vm.lcm] = [3, 4];
            vm.next = [[3, 3]];
            vm.since = Date.now();
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
          putIn(id, name, then = []) {
            const path = [name, ...then].map(numbered);
            const vm = vms.get(id)!;
            [vm.state, vm.lcm] = path.shift()!;
            vm.next = path;
            vm.since = Date.now();
          },
          count: (m) => calls.filter((c) => c.method === m).length,
          close,
          [Symbol.asyncDispose]: close,
        });
      },
    }, handle);
  });
}
