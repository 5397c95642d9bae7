/**
 * The 5.12+ VM status probe's memory and rules. oned (`InformationManager::_vm_state`, 5.12
 * to 7.x) takes every `VM = [ ID, DEPLOY_ID, STATE ]` line as the truth: it sets the VM's
 * `DEPLOY_ID` from it, and with `SYNC_STATE=yes` it takes every VM of the host that the list
 * leaves out, and that is ACTIVE in RUNNING, UNKNOWN, SHUTDOWN, SHUTDOWN_POWEROFF or
 * SHUTDOWN_UNDEPLOY when it reads the list, as missing (`MISSING_STATE`). So the probe
 *
 * - remembers, per VM id, the deploy id and state it last reported, and reports a VM again
 *   only when one of them changes: never a deploy id it merely remembers;
 * - never reports a VM as missing itself: oned finds the missing ones from the full list;
 * - sends the full list (every {@link SYNC_SECONDS}) only when it cannot leave out a VM oned
 *   would then take as missing while its instance lives: see {@link hostVmCheck} and
 *   {@link describedCheck}. Otherwise the run reports changes only, and the next run tries
 *   again.
 *
 * The memory is a small JSON file per host; the logic here is pure, the action reads and
 * writes the file and asks oned and the cloud.
 *
 * @module
 */

import type { InstanceState } from "../core/provider.ts";
import { oneStateNumber, type StateMeaning, stateMeaning } from "../one_xmlrpc/one_states.ts";

/** What one run reports of a VM: its id, deploy id and status word (`RUNNING`, ...). */
export interface StatusVm {
  /** OpenNebula VM id. */
  readonly id: number;
  /** The instance id. */
  readonly deployId: string;
  /** `RUNNING`, `POWEROFF` or `UNKNOWN`. */
  readonly state: string;
}

/** What the memory keeps of a VM: what was last reported of it. */
interface RememberedVm {
  /** The instance id reported. */
  readonly deployId: string;
  /** The status word reported. */
  readonly state: string;
}

/** The memory between runs. */
interface StatusMemory {
  /** The format (2: keyed by VM id). */
  readonly v: 2;
  /** When the last full list was sent (epoch seconds; 0: never). */
  readonly syncedAt: number;
  /** What was last reported of each VM seen, by VM id. */
  readonly vms: Readonly<Record<string, RememberedVm>>;
}

/** Seconds between full lists, as 5.12+'s EC2 status probe asks (`:sync => 180`). */
export const SYNC_SECONDS = 180;
/** The state oned gives a VM the full list leaves out, as the EC2 status probe asks. */
export const MISSING_STATE = "UNKNOWN";

/** One VM's status line, spaced exactly as `probe_db.rb` writes it. */
function statusLine(vm: StatusVm): string {
  return `VM = [ ID="${vm.id}", DEPLOY_ID="${vm.deployId}",  STATE="${vm.state}" ]`;
}

/**
 * Whether a run should send the full list: none was ever sent (no memory, an unreadable one, or
 * `syncedAt` 0),
 * {@link SYNC_SECONDS} have passed, or the clock went back.
 *
 * @param previous The memory of the last run, or undefined.
 * @param now Epoch seconds.
 * @returns Whether the full list is due.
 */
export function fullListDue(previous: StatusMemory | undefined, now: number): boolean {
  return !previous || previous.syncedAt === 0 || now >= previous.syncedAt + SYNC_SECONDS ||
    now < previous.syncedAt;
}

/**
 * One run of the status probe: what to print and what to remember.
 *
 * @param previous The memory of the last run, or undefined for none (or unreadable).
 * @param current The VMs to report now, one entry per VM id at most.
 * @param now Epoch seconds.
 * @param full Whether to send the full list (`SYNC_STATE=yes`): only when it is due and
 * `current` holds every VM oned must not take as missing.
 * @returns The lines to print and the new memory.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statusRun } from "./vm_status.ts";
 * const first = statusRun(undefined, [{ id: 4, deployId: "i-1", state: "RUNNING" }], 1000, true);
 * assert.deepEqual(first.lines, [
 *   "SYNC_STATE=yes",
 *   "MISSING_STATE=UNKNOWN",
 *   'VM = [ ID="4", DEPLOY_ID="i-1",  STATE="RUNNING" ]',
 * ]);
 * const again = statusRun(first.memory, [{ id: 4, deployId: "i-1", state: "RUNNING" }], 1030, false);
 * assert.deepEqual(again.lines, []);
 * ```
 */
export function statusRun(
  previous: StatusMemory | undefined,
  current: readonly StatusVm[],
  now: number,
  full: boolean,
): { lines: string[]; memory: StatusMemory } {
  const vms: Record<string, RememberedVm> = {};
  for (const vm of current) vms[vm.id] = { deployId: vm.deployId, state: vm.state };
  if (full) {
    return {
      lines: ["SYNC_STATE=yes", `MISSING_STATE=${MISSING_STATE}`, ...current.map(statusLine)],
      memory: { v: 2, syncedAt: now, vms },
    };
  }
  // A VM no longer seen is forgotten, not reported: the next full list lets oned find it.
  const lines = current.filter((vm) => {
    const before = previous?.vms[vm.id];
    return !before || before.deployId !== vm.deployId || before.state !== vm.state;
  }).map(statusLine);
  return { lines, memory: { v: 2, syncedAt: previous?.syncedAt ?? 0, vms } };
}

/**
 * Reads a memory file's text; anything unreadable, or of the older format (keyed by deploy
 * id), counts as no memory (every VM is reported again, and the full list is due).
 *
 * @param text The file's text, or undefined when there is none.
 * @returns The memory, or undefined.
 */
export function parseStatusMemory(text: string | undefined): StatusMemory | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text);
    if (
      value?.v !== 2 || typeof value.syncedAt !== "number" || typeof value.vms !== "object" ||
      !value.vms
    ) {
      return undefined;
    }
    for (const [id, vm] of Object.entries(value.vms) as [string, Record<string, unknown>][]) {
      if (
        !/^\d+$/.test(id) || typeof vm?.deployId !== "string" || typeof vm.state !== "string"
      ) return undefined;
    }
    return value as StatusMemory;
  } catch {
    return undefined;
  }
}

/** oned's `STATE` of an active VM. */
const ACTIVE = 3;

/** The LCM states in which oned takes a VM left out of a full list as missing. */
const TAKEN_AS_MISSING = new Set(
  ["RUNNING", "UNKNOWN", "SHUTDOWN", "SHUTDOWN_POWEROFF", "SHUTDOWN_UNDEPLOY"].map((name) =>
    oneStateNumber("LCM_STATE", name)
  ),
);

/** What an ACTIVE VM is doing in the LCM states that are settled. */
const SETTLED: ReadonlySet<StateMeaning> = new Set([
  "stopping",
  "off",
  "cleanup",
  "ending",
  "failed",
]);

/**
 * Whether an LCM state is settled: a VM in it cannot reach a state oned takes as missing
 * without a new operation (the failures, the epilogs and cleanups, the saves that end in
 * SUSPENDED or STOPPED, the operations on a VM that is off and stays off: disk snapshots,
 * hot-plugs, backups, restores, moves). The others (BOOT*, PROLOG*, MIGRATE, HOTPLUG*, live
 * snapshots, a running VM's BACKUP, states no release this driver knows defines, ...) may turn
 * RUNNING as soon as a driver action returns.
 */
function settled(lcmState: number): boolean {
  const meaning = stateMeaning(ACTIVE, lcmState);
  return meaning !== undefined && SETTLED.has(meaning);
}

/** What oned says of a VM, as {@link hostVmCheck} needs it. */
interface VmStates {
  /** `STATE`. */
  readonly state: number;
  /** `LCM_STATE`. */
  readonly lcmState: number;
  /** `DEPLOY_ID`, when it has one. */
  readonly deployId?: string;
}

/**
 * What a full list must do about a VM oned has on the host but the listing did not show:
 *
 * - `ignore`: oned will not take it as missing (not ACTIVE, or in a settled LCM state);
 * - `describe`: oned will take it as missing: ask the cloud for its instance (`DEPLOY_ID`);
 * - `absent`: oned will take it as missing and it has no instance to ask about: true;
 * - `postpone`: it may turn RUNNING (deploy, migrate, hotplug returning) before oned reads
 *   the list, which would then make it missing: no full list this run.
 *
 * @param vm What oned says of the VM.
 * @returns The check.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostVmCheck } from "./vm_status.ts";
 * assert.equal(hostVmCheck({ state: 3, lcmState: 3, deployId: "i-1" }), "describe");
 * assert.equal(hostVmCheck({ state: 3, lcmState: 2 }), "postpone"); // BOOT
 * assert.equal(hostVmCheck({ state: 3, lcmState: 36 }), "ignore"); // BOOT_FAILURE
 * assert.equal(hostVmCheck({ state: 8, lcmState: 0, deployId: "i-1" }), "ignore"); // POWEROFF
 * ```
 */
export function hostVmCheck(vm: VmStates): "ignore" | "describe" | "absent" | "postpone" {
  if (vm.state !== ACTIVE) return "ignore";
  if (TAKEN_AS_MISSING.has(vm.lcmState)) return vm.deployId ? "describe" : "absent";
  return settled(vm.lcmState) ? "ignore" : "postpone";
}

/**
 * Whether oned's `DEPLOY_ID` of a VM can be trusted to name its instance now: not while an
 * action that may give it another is under way ({@link hostVmCheck} says `postpone`).
 *
 * @param vm What oned says of the VM.
 * @returns Whether the deploy id is current.
 */
export function deployIdSettled(vm: VmStates): boolean {
  return hostVmCheck(vm) !== "postpone";
}

/** What the cloud said of a VM's instance when asked ({@link describedCheck}). */
type Described =
  | { readonly found: true; readonly state: InstanceState }
  | { readonly found: false; readonly notFound: boolean };

/**
 * What a full list does with a VM oned would take as missing, once its instance is described:
 * `include` it (the instance lives), leave it out as `absent` (terminated, or unknown to the
 * cloud long after the VM began running there: missing is true), or `postpone` the full list
 * (the cloud could not say, or the instance may not be visible yet).
 *
 * @param described What the cloud said.
 * @param runningSince When the VM began running on the host (epoch seconds), when oned says.
 * @param now Epoch seconds.
 * @param graceSeconds How long after that a "not found" still means "not visible yet"
 * (`notFoundGraceSeconds`).
 * @returns The check.
 */
export function describedCheck(
  described: Described,
  runningSince: number | undefined,
  now: number,
  graceSeconds: number,
): "include" | "absent" | "postpone" {
  if (described.found) {
    return described.state === "terminated" || described.state === "terminating"
      ? "absent"
      : "include";
  }
  if (!described.notFound || runningSince === undefined) return "postpone";
  return now - runningSince > graceSeconds ? "absent" : "postpone";
}
