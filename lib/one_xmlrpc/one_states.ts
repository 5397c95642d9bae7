/**
 * Every VM state (`STATE`) and life-cycle state (`LCM_STATE`) number of OpenNebula 3.2 to 7.4,
 * as `include/VirtualMachine.h` defines them release by release (`enum VmState`, `enum
 * LcmState`), each with what it means for a wait, a poll and a probe. One table serves the local
 * oned's side (`lib/opennebula/`) and a partner cloud's (`lib/providers/one_cloud/`);
 * `one_states_test.ts` checks it against the numbers extracted from every release's source
 * (`tests/testdata/one_states_by_release.json`).
 *
 * A number is never reused for another state. Across releases numbers are added, retired (the
 * enumerator becomes a comment and its number stays reserved: STATE 7 `FAILED` and LCM 13
 * `CANCEL`, 14 `FAILURE` after 4.12, LCM 58 `DISK_SNAPSHOT_REVERT` after 4.14, LCM 55
 * `DISK_SNAPSHOT_REVERT_SUSPENDED` from 6.6.3), and once renamed (LCM 15: `CLEANUP` until 3.8,
 * `CLEANUP_RESUBMIT` from 4.0).
 *
 * @module
 */

/**
 * What a VM in a state is doing, in words every consumer maps onto its own:
 *
 * - `pending`: on its way to running: created, scheduled, deployed, booted, resumed, or moved
 *   (a running VM migrated, live or saved: it runs again on the other host);
 * - `held`: HOLD: the scheduler leaves it alone until an operator releases it;
 * - `running`: the guest runs, also while oned hot-plugs, snapshots, resizes or backs it up;
 * - `stopping`: on its way to a VM that is kept but does not run (saving, powering off,
 *   undeploying);
 * - `off`: kept and not running (powered off, suspended, stopped, undeployed), also while oned
 *   changes it (disk snapshots, hot-plugs, backups, restores) or moves it between hosts;
 * - `cleanup`: its deployment is being cleaned up, after which it goes back to PENDING (4.0+
 *   `CLEANUP_RESUBMIT`; 3.2–3.8's `CLEANUP` served `delete` too, which ends in DONE);
 * - `ending`: on its way out (shutdown, cancel, epilog, delete);
 * - `done`: DONE, gone for good;
 * - `failed`: an operation failed: it stays so until an operator recovers or deletes it;
 * - `lost`: UNKNOWN: oned lost track of it (its host does not answer); it may still run, and
 *   oned takes it back when the host answers.
 */
export type StateMeaning =
  | "pending"
  | "held"
  | "running"
  | "stopping"
  | "off"
  | "cleanup"
  | "ending"
  | "done"
  | "failed"
  | "lost";

/** Which of a VM's two state numbers. */
export type StateKind = "STATE" | "LCM_STATE";

/** One name a number has had, in which releases, and what a VM in it is doing. */
interface StateRow {
  readonly name: string;
  readonly meaning: StateMeaning;
  /** The first release that defines it (3.2 for the oldest this table covers). */
  readonly since: string;
  /** The first release that no longer defines it (retired or renamed), if any. */
  readonly until?: string;
}

/** A row: kind, number, name, meaning, and the first release that defines the name. */
type Row = readonly [StateKind, number, string, StateMeaning, string];

/**
 * The table: `STATE` (`enum VmState`: an ACTIVE VM's state is its `LCM_STATE`'s, the meaning
 * of ACTIVE itself is unused), then `LCM_STATE` (`enum LcmState`, the state of an ACTIVE VM).
 */
const TABLE: readonly Row[] = [
  ["STATE", 0, "INIT", "pending", "3.2"],
  ["STATE", 1, "PENDING", "pending", "3.2"],
  ["STATE", 2, "HOLD", "held", "3.2"],
  ["STATE", 3, "ACTIVE", "running", "3.2"],
  ["STATE", 4, "STOPPED", "off", "3.2"],
  ["STATE", 5, "SUSPENDED", "off", "3.2"],
  ["STATE", 6, "DONE", "done", "3.2"],
  ["STATE", 7, "FAILED", "failed", "3.2"],
  ["STATE", 8, "POWEROFF", "off", "3.8"],
  ["STATE", 9, "UNDEPLOYED", "off", "4.0"],
  ["STATE", 10, "CLONING", "pending", "5.0"],
  ["STATE", 11, "CLONING_FAILURE", "failed", "5.0"],
  ["LCM_STATE", 0, "LCM_INIT", "pending", "3.2"],
  ["LCM_STATE", 1, "PROLOG", "pending", "3.2"],
  ["LCM_STATE", 2, "BOOT", "pending", "3.2"],
  ["LCM_STATE", 3, "RUNNING", "running", "3.2"],
  ["LCM_STATE", 4, "MIGRATE", "pending", "3.2"],
  ["LCM_STATE", 5, "SAVE_STOP", "stopping", "3.2"],
  ["LCM_STATE", 6, "SAVE_SUSPEND", "stopping", "3.2"],
  // A cold migration: saved, copied (PROLOG_MIGRATE), restored (BOOT_MIGRATE), running again.
  ["LCM_STATE", 7, "SAVE_MIGRATE", "pending", "3.2"],
  ["LCM_STATE", 8, "PROLOG_MIGRATE", "pending", "3.2"],
  ["LCM_STATE", 9, "PROLOG_RESUME", "pending", "3.2"],
  ["LCM_STATE", 10, "EPILOG_STOP", "stopping", "3.2"],
  ["LCM_STATE", 11, "EPILOG", "ending", "3.2"],
  ["LCM_STATE", 12, "SHUTDOWN", "ending", "3.2"],
  ["LCM_STATE", 13, "CANCEL", "ending", "3.2"],
  ["LCM_STATE", 14, "FAILURE", "failed", "3.2"],
  ["LCM_STATE", 15, "CLEANUP", "cleanup", "3.2"],
  ["LCM_STATE", 15, "CLEANUP_RESUBMIT", "cleanup", "4.0"],
  ["LCM_STATE", 16, "UNKNOWN", "lost", "3.2"],
  ["LCM_STATE", 17, "HOTPLUG", "running", "3.6"],
  ["LCM_STATE", 18, "SHUTDOWN_POWEROFF", "stopping", "3.8"],
  ["LCM_STATE", 19, "BOOT_UNKNOWN", "pending", "3.8"],
  ["LCM_STATE", 20, "BOOT_POWEROFF", "pending", "3.8"],
  ["LCM_STATE", 21, "BOOT_SUSPENDED", "pending", "3.8"],
  ["LCM_STATE", 22, "BOOT_STOPPED", "pending", "3.8"],
  ["LCM_STATE", 23, "CLEANUP_DELETE", "ending", "4.0"],
  ["LCM_STATE", 24, "HOTPLUG_SNAPSHOT", "running", "4.0"],
  ["LCM_STATE", 25, "HOTPLUG_NIC", "running", "4.0"],
  ["LCM_STATE", 26, "HOTPLUG_SAVEAS", "running", "4.0"],
  ["LCM_STATE", 27, "HOTPLUG_SAVEAS_POWEROFF", "off", "4.0"],
  ["LCM_STATE", 28, "HOTPLUG_SAVEAS_SUSPENDED", "off", "4.0"],
  ["LCM_STATE", 29, "SHUTDOWN_UNDEPLOY", "stopping", "4.0"],
  ["LCM_STATE", 30, "EPILOG_UNDEPLOY", "stopping", "4.0"],
  ["LCM_STATE", 31, "PROLOG_UNDEPLOY", "pending", "4.0"],
  ["LCM_STATE", 32, "BOOT_UNDEPLOY", "pending", "4.0"],
  ["LCM_STATE", 33, "HOTPLUG_PROLOG_POWEROFF", "off", "4.14"],
  ["LCM_STATE", 34, "HOTPLUG_EPILOG_POWEROFF", "off", "4.14"],
  ["LCM_STATE", 35, "BOOT_MIGRATE", "pending", "4.14"],
  ["LCM_STATE", 36, "BOOT_FAILURE", "failed", "4.14"],
  ["LCM_STATE", 37, "BOOT_MIGRATE_FAILURE", "failed", "4.14"],
  ["LCM_STATE", 38, "PROLOG_MIGRATE_FAILURE", "failed", "4.14"],
  ["LCM_STATE", 39, "PROLOG_FAILURE", "failed", "4.14"],
  ["LCM_STATE", 40, "EPILOG_FAILURE", "failed", "4.14"],
  ["LCM_STATE", 41, "EPILOG_STOP_FAILURE", "failed", "4.14"],
  ["LCM_STATE", 42, "EPILOG_UNDEPLOY_FAILURE", "failed", "4.14"],
  // A powered-off or suspended VM moved to another host: it ends POWEROFF or SUSPENDED there.
  ["LCM_STATE", 43, "PROLOG_MIGRATE_POWEROFF", "off", "4.14"],
  ["LCM_STATE", 44, "PROLOG_MIGRATE_POWEROFF_FAILURE", "failed", "4.14"],
  ["LCM_STATE", 45, "PROLOG_MIGRATE_SUSPEND", "off", "4.14"],
  ["LCM_STATE", 46, "PROLOG_MIGRATE_SUSPEND_FAILURE", "failed", "4.14"],
  ["LCM_STATE", 47, "BOOT_UNDEPLOY_FAILURE", "failed", "4.14"],
  ["LCM_STATE", 48, "BOOT_STOPPED_FAILURE", "failed", "4.14"],
  ["LCM_STATE", 49, "PROLOG_RESUME_FAILURE", "failed", "4.14"],
  ["LCM_STATE", 50, "PROLOG_UNDEPLOY_FAILURE", "failed", "4.14"],
  ["LCM_STATE", 51, "DISK_SNAPSHOT_POWEROFF", "off", "4.14"],
  ["LCM_STATE", 52, "DISK_SNAPSHOT_REVERT_POWEROFF", "off", "4.14"],
  ["LCM_STATE", 53, "DISK_SNAPSHOT_DELETE_POWEROFF", "off", "4.14"],
  ["LCM_STATE", 54, "DISK_SNAPSHOT_SUSPENDED", "off", "4.14"],
  ["LCM_STATE", 55, "DISK_SNAPSHOT_REVERT_SUSPENDED", "off", "4.14"],
  ["LCM_STATE", 56, "DISK_SNAPSHOT_DELETE_SUSPENDED", "off", "4.14"],
  ["LCM_STATE", 57, "DISK_SNAPSHOT", "running", "4.14"],
  ["LCM_STATE", 58, "DISK_SNAPSHOT_REVERT", "running", "4.14"],
  ["LCM_STATE", 59, "DISK_SNAPSHOT_DELETE", "running", "4.14"],
  ["LCM_STATE", 60, "PROLOG_MIGRATE_UNKNOWN", "pending", "5.0"],
  ["LCM_STATE", 61, "PROLOG_MIGRATE_UNKNOWN_FAILURE", "failed", "5.0"],
  ["LCM_STATE", 62, "DISK_RESIZE", "running", "5.4"],
  ["LCM_STATE", 63, "DISK_RESIZE_POWEROFF", "off", "5.4"],
  ["LCM_STATE", 64, "DISK_RESIZE_UNDEPLOYED", "off", "5.4"],
  ["LCM_STATE", 65, "HOTPLUG_NIC_POWEROFF", "off", "5.12"],
  ["LCM_STATE", 66, "HOTPLUG_RESIZE", "running", "6.0"],
  ["LCM_STATE", 67, "HOTPLUG_SAVEAS_UNDEPLOYED", "off", "6.0"],
  ["LCM_STATE", 68, "HOTPLUG_SAVEAS_STOPPED", "off", "6.0"],
  // A backup of a running VM (it runs on, and is RUNNING after), or of a powered-off one.
  ["LCM_STATE", 69, "BACKUP", "running", "6.6"],
  ["LCM_STATE", 70, "BACKUP_POWEROFF", "off", "6.6"],
  // A powered-off VM's disks restored from a backup: POWEROFF after.
  ["LCM_STATE", 71, "RESTORE", "off", "6.10"],
];

/** The names no longer defined from a release on (retired, or renamed), by that release. */
const RETIRED: Readonly<Record<string, string>> = {
  FAILED: "4.14",
  CANCEL: "4.14",
  FAILURE: "4.14",
  CLEANUP: "4.0",
  DISK_SNAPSHOT_REVERT_SUSPENDED: "6.6.3",
  DISK_SNAPSHOT_REVERT: "5.0",
};

/** Each kind's rows by number, oldest name first. */
const BY_NUMBER: Readonly<Record<StateKind, ReadonlyMap<number, readonly StateRow[]>>> = {
  STATE: rowsByNumber("STATE"),
  LCM_STATE: rowsByNumber("LCM_STATE"),
};

function rowsByNumber(kind: StateKind): Map<number, StateRow[]> {
  const map = new Map<number, StateRow[]>();
  for (const [rowKind, number, name, meaning, since] of TABLE) {
    if (rowKind !== kind) continue;
    const until = RETIRED[name];
    const row = { name, meaning, since, ...(until === undefined ? {} : { until }) };
    map.set(number, [...map.get(number) ?? [], row]);
  }
  return map;
}

/** A release (`6.10.0`, `5.12.0.1`, `6.6`) as text that sorts as the releases do. */
function releaseKey(release: string): string {
  const parts = [...release.split("."), "0", "0", "0"].slice(0, 4);
  return parts.map((part) => part.padStart(4, "0")).join(".");
}

/**
 * The row of a number: the one a release defines, or without a release the newest name the
 * number has had (retired numbers keep their last name).
 */
function rowOf(kind: StateKind, number: number, release?: string): StateRow | undefined {
  const rows = BY_NUMBER[kind].get(number);
  if (release === undefined) return rows?.at(-1);
  const key = releaseKey(release);
  return rows?.find((row) =>
    key >= releaseKey(row.since) && (row.until === undefined || key < releaseKey(row.until))
  );
}

/**
 * OpenNebula's name of a state number.
 *
 * @param kind `STATE` or `LCM_STATE`.
 * @param number The number.
 * @param release The OpenNebula release (`6.10.0`) whose name to give; without it, the newest
 * name the number has had.
 * @returns The name; undefined for a number the release (or, without one, every release) does
 * not define.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oneStateName } from "./one_states.ts";
 * assert.equal(oneStateName("LCM_STATE", 69), "BACKUP");
 * assert.equal(oneStateName("LCM_STATE", 69, "6.4.7"), undefined);
 * assert.equal(oneStateName("LCM_STATE", 15, "3.2"), "CLEANUP");
 * assert.equal(oneStateName("LCM_STATE", 15), "CLEANUP_RESUBMIT");
 * assert.equal(oneStateName("STATE", 7), "FAILED"); // 3.2–4.12 only
 * ```
 */
export function oneStateName(
  kind: StateKind,
  number: number,
  release?: string,
): string | undefined {
  return rowOf(kind, number, release)?.name;
}

/**
 * The number of a state name of any release (`SHUTDOWN_POWEROFF`: 18).
 *
 * @returns The number; undefined for a name no release from 3.2 to 7.4 defines.
 */
export function oneStateNumber(kind: StateKind, name: string): number | undefined {
  for (const [number, rows] of BY_NUMBER[kind]) {
    if (rows.some((row) => row.name === name)) return number;
  }
  return undefined;
}

/**
 * What a VM in a state is doing: its `STATE`'s meaning, or for an ACTIVE VM its
 * `LCM_STATE`'s.
 *
 * @param state `STATE`.
 * @param lcm `LCM_STATE`.
 * @param release The release that reported it, when known.
 * @returns The meaning; undefined for a state the release (or, without one, every release)
 * does not define, as a later release's new state would be.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stateMeaning } from "./one_states.ts";
 * assert.equal(stateMeaning(3, 69), "running"); // ACTIVE/BACKUP
 * assert.equal(stateMeaning(3, 43), "off"); // ACTIVE/PROLOG_MIGRATE_POWEROFF
 * assert.equal(stateMeaning(3, 7), "pending"); // ACTIVE/SAVE_MIGRATE
 * assert.equal(stateMeaning(2, 0), "held"); // HOLD
 * assert.equal(stateMeaning(3, 99), undefined);
 * ```
 */
export function stateMeaning(
  state: number,
  lcm: number,
  release?: string,
): StateMeaning | undefined {
  const vm = rowOf("STATE", state, release);
  return vm?.name === "ACTIVE" ? rowOf("LCM_STATE", lcm, release)?.meaning : vm?.meaning;
}

/**
 * A VM's state as OpenNebula names it: the `LCM_STATE` name of an ACTIVE VM (`RUNNING`), the
 * `STATE` name otherwise (`POWEROFF`), or the numbers of one it does not name (`ACTIVE/99`,
 * `STATE 12`).
 *
 * @param state `STATE`.
 * @param lcm `LCM_STATE`.
 * @param release The release that reported it, when known.
 * @returns The name.
 */
export function stateLabel(state: number, lcm: number, release?: string): string {
  if (state === 3) return oneStateName("LCM_STATE", lcm, release) ?? `ACTIVE/${lcm}`;
  return oneStateName("STATE", state, release) ?? `STATE ${state}`;
}

/** The newest name of each number of a kind, by number. */
function newestNames(kind: StateKind): string[] {
  const names: string[] = [];
  for (const [number, rows] of BY_NUMBER[kind]) names[number] = rows.at(-1)!.name;
  return names;
}

/** `STATE` names by number, the newest of each (7 is 3.2–4.12's `FAILED`). */
export const VM_STATE_NAMES: readonly string[] = newestNames("STATE");

/** `LCM_STATE` names by number, the newest of each (13 and 14: 3.2–4.12's CANCEL, FAILURE). */
export const LCM_STATE_NAMES: readonly string[] = newestNames("LCM_STATE");
