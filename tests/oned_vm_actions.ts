/**
 * How oned answers `one.vm.action`, release by release, for the partner stand-ins
 * (`tests/partner_oned.ts`, `tests/fakes/partner_api.ts`): which names each release dispatches
 * and which older names it rewrites, in which (STATE, LCM_STATE) each is accepted, and its
 * refusals' codes and words. Written from OpenNebula's source (4.14.2 to 7.4.0:
 * `src/rm/RequestManagerVirtualMachine.cc`, `src/dm/DispatchManagerActions.cc`), by state
 * number, apart from the driver's own table (`lib/providers/one_cloud/action_names.ts`) that it
 * tests.
 *
 * @module
 */

import { LCM_STATE_NAMES, VM_STATE_NAMES } from "../lib/one_xmlrpc/one_states.ts";

/** oned's error codes of a refused action. */
const CODE = { AUTHORIZATION: 0x0200, ACTION: 0x0800 } as const;

/** STATE numbers. */
const S = { INIT: 0, PENDING: 1, HOLD: 2, ACTIVE: 3, STOPPED: 4, SUSPENDED: 5, DONE: 6 } as const;
const POWEROFF = 8;
const UNDEPLOYED = 9;
const CLONING = 10;
const CLONING_FAILURE = 11;

/** LCM_STATE numbers. */
const L = {
  RUNNING: 3,
  SHUTDOWN: 12,
  UNKNOWN: 16,
  SHUTDOWN_POWEROFF: 18,
  SHUTDOWN_UNDEPLOY: 29,
} as const;

/** The `*_FAILURE` LCM states (BOOT_FAILURE 36 ... PROLOG_MIGRATE_UNKNOWN_FAILURE 61). */
const FAILURE_LCM = new Set([36, 37, 38, 39, 40, 41, 42, 44, 46, 47, 48, 49, 50, 61]);

/** A release as `[major, minor]`. */
type Version = readonly [number, number];

/** `6.10.5` as `[6, 10]`. */
function versionOf(release: string): Version {
  const [major = 0, minor = 0] = release.split(".").map(Number);
  return [major, minor];
}

function atLeast([major, minor]: Version, than: Version): boolean {
  return major > than[0] || (major === than[0] && minor >= than[1]);
}

/** The names every generation dispatches. */
const COMMON_NAMES = [
  "hold",
  "release",
  "stop",
  "suspend",
  "resume",
  "reboot",
  "reboot-hard",
  "resched",
  "unresched",
  "poweroff",
  "poweroff-hard",
  "undeploy",
  "undeploy-hard",
];
/** The names each generation dispatches besides, and the older names it rewrites first. */
const NAMES_4 = ["shutdown", "shutdown-hard", "delete", "delete-recreate", ...COMMON_NAMES];
const ALIASES_4: Readonly<Record<string, string>> = {
  cancel: "shutdown-hard",
  finalize: "delete",
  resubmit: "delete-recreate",
  reset: "reboot-hard",
};
const NAMES_5 = ["terminate", "terminate-hard", ...COMMON_NAMES];
/** 5.0–5.12 only ("Compatibility with 4.x"); 6.0 dropped them. */
const ALIASES_5: Readonly<Record<string, string>> = {
  shutdown: "terminate",
  "shutdown-hard": "terminate-hard",
  delete: "terminate-hard",
};

/** A VM as oned checks it. */
export interface VmAsSeen {
  readonly id: number;
  readonly state: number;
  readonly lcm: number;
}

/** oned's answer: the action it dispatched (after rewriting an old name), or its refusal. */
export type Verdict =
  | { readonly accepted: string }
  | { readonly code: number; readonly message: string };

/** `VirtualMachine::state_str()`: the LCM state's name for an ACTIVE VM, else the STATE's. */
export function stateStr(state: number, lcm: number): string {
  return (state === S.ACTIVE ? LCM_STATE_NAMES[lcm] : VM_STATE_NAMES[state]) ?? String(state);
}

/** Whether a dispatched action is accepted in the VM's state (`DispatchManager`). */
function allowed(action: string, vm: VmAsSeen, v: Version): boolean {
  const { state, lcm } = vm;
  const active = (...lcms: number[]) => state === S.ACTIVE && lcms.includes(lcm);
  const hard = action.endsWith("-hard");
  switch (action) {
    case "shutdown":
    case "shutdown-hard": // 4.x
      return state === POWEROFF || state === S.SUSPENDED || active(L.RUNNING, L.UNKNOWN);
    case "delete": // 4.x: no state check
      return true;
    case "terminate":
    case "terminate-hard":
      return [S.INIT, S.PENDING, S.HOLD, CLONING, CLONING_FAILURE, S.DONE].includes(state) ||
        [S.STOPPED, S.SUSPENDED, POWEROFF, UNDEPLOYED].includes(state) ||
        active(L.RUNNING, L.UNKNOWN) ||
        (state === S.ACTIVE && FAILURE_LCM.has(lcm) && atLeast(v, [5, 4])) ||
        (hard && active(L.SHUTDOWN) && atLeast(v, [6, 0]));
    case "poweroff":
    case "poweroff-hard":
      return active(L.RUNNING, L.UNKNOWN) ||
        (hard && active(L.SHUTDOWN_POWEROFF) && atLeast(v, [6, 0]));
    case "undeploy":
    case "undeploy-hard":
      return state === POWEROFF || active(L.RUNNING, L.UNKNOWN) ||
        (hard && active(L.SHUTDOWN_UNDEPLOY) && atLeast(v, [6, 0]));
    case "suspend":
    case "reboot":
    case "reboot-hard":
      return active(L.RUNNING);
    case "stop":
      return state === S.SUSPENDED || active(L.RUNNING);
    case "resume":
      return [S.STOPPED, UNDEPLOYED, S.SUSPENDED, POWEROFF].includes(state) || active(L.UNKNOWN);
    case "hold":
      return state === S.PENDING;
    case "release":
      return state === S.HOLD;
    default:
      return false;
  }
}

/**
 * What oned of a release answers to `one.vm.action(name)` for a VM, from a user who is not an
 * administrator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { onedVmAction } from "./oned_vm_actions.ts";
 * assert.deepEqual(onedVmAction("5.12.13", "shutdown-hard", { id: 5, state: 3, lcm: 3 }), { accepted: "terminate-hard" });
 * assert.deepEqual(onedVmAction("6.10.5", "terminate-hard", { id: 5, state: 3, lcm: 1 }), {
 *   code: 2048,
 *   message: '[one.vm.action] Error performing action "terminate-hard": Could not terminate VM 5, wrong state PROLOG.',
 * });
 * ```
 */
export function onedVmAction(release: string, name: string, vm: VmAsSeen): Verdict {
  const v = versionOf(release);
  const fourX = !atLeast(v, [5, 0]);
  const tag = atLeast(v, [5, 4]) ? "[one.vm.action]" : "[VirtualMachineAction]";
  const aliases = fourX ? ALIASES_4 : atLeast(v, [6, 0]) ? {} : ALIASES_5;
  const action = aliases[name] ?? name;
  if (!(fourX ? NAMES_4 : NAMES_5).includes(action)) {
    if (action === "delete" && !fourX) {
      // 6.0+ parses it (DELETE_ACTION, an administrator's) before finding it is not dispatched.
      return {
        code: CODE.AUTHORIZATION,
        message: `[one.vm.action] User [2] : Not authorized to perform ADMIN VM [${vm.id}].`,
      };
    }
    const what = fourX ? "Virtual machine action" : "Action";
    return { code: CODE.ACTION, message: `${tag} ${what} "${name}" is not supported` };
  }
  if (allowed(action, vm, v)) return { accepted: action };
  const state = stateStr(vm.state, vm.lcm);
  const detail = action.startsWith("terminate")
    ? `Could not terminate VM ${vm.id}, wrong state ${state}.`
    : `This action is not available for state ${state}`;
  return {
    code: CODE.ACTION,
    message: fourX
      ? `${tag} Error performing action "${name}" on virtual machine [${vm.id}]. ${detail}`
      : `${tag} Error performing action "${name}": ${detail}`,
  };
}
