/**
 * The 5.12+ VM status probe's memory, as `probe_db.rb` keeps it in sqlite: the state last
 * reported for each VM, so that a run reports only changes, a VM missing for several runs is
 * reported `UNKNOWN`, and a full list (`SYNC_STATE=yes`) is sent every few minutes. Kept here
 * as a small JSON file per host; the logic is pure, the action reads and writes the file.
 *
 * @module
 */

/** What one run sees of a VM: its id, deploy id and status word (`RUNNING`, ...). */
export interface StatusVm {
  /** OpenNebula VM id. */
  readonly id: number;
  /** The instance id. */
  readonly deployId: string;
  /** `RUNNING`, `POWEROFF` or `UNKNOWN`. */
  readonly state: string;
}

/** The memory between runs. */
export interface StatusMemory {
  /** When the last full list was sent (epoch seconds). */
  readonly syncedAt: number;
  /** Each VM reported, by deploy id, with how many runs in a row it has been missing. */
  readonly vms: Readonly<Record<string, StatusVm & { readonly missing: number }>>;
}

/** Seconds between full lists, as 5.12+'s EC2 status probe asks (`:sync => 180`). */
export const SYNC_SECONDS = 180;
/** Runs a VM may be missing before it is reported, as `probe_db.rb`'s `times_missing`. */
export const TIMES_MISSING = 3;
/** The state a missing VM is reported in, as the EC2 status probe asks. */
export const MISSING_STATE = "UNKNOWN";

/** One VM's status line, spaced exactly as `probe_db.rb` writes it. */
function statusLine(vm: StatusVm, state = vm.state): string {
  return `VM = [ ID="${vm.id}", DEPLOY_ID="${vm.deployId}",  STATE="${state}" ]`;
}

/**
 * One run of the status probe: what to print and what to remember.
 *
 * @param previous The memory of the last run, or undefined for none (or unreadable).
 * @param current The VMs seen now.
 * @param now Epoch seconds.
 * @returns The lines to print and the new memory.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statusRun } from "./vm_status.ts";
 * const first = statusRun(undefined, [{ id: 4, deployId: "i-1", state: "RUNNING" }], 1000);
 * assert.deepEqual(first.lines, [
 *   "SYNC_STATE=yes",
 *   "MISSING_STATE=UNKNOWN",
 *   'VM = [ ID="4", DEPLOY_ID="i-1",  STATE="RUNNING" ]',
 * ]);
 * assert.deepEqual(statusRun(first.memory, [{ id: 4, deployId: "i-1", state: "RUNNING" }], 1030).lines, []);
 * ```
 */
export function statusRun(
  previous: StatusMemory | undefined,
  current: readonly StatusVm[],
  now: number,
): { lines: string[]; memory: StatusMemory } {
  const vms: Record<string, StatusVm & { missing: number }> = {};
  for (const vm of current) vms[vm.deployId] = { ...vm, missing: 0 };
  if (!previous || now >= previous.syncedAt + SYNC_SECONDS || now < previous.syncedAt) {
    return {
      lines: [
        "SYNC_STATE=yes",
        `MISSING_STATE=${MISSING_STATE}`,
        ...current.map((v) => statusLine(v)),
      ],
      memory: { syncedAt: now, vms },
    };
  }
  const lines: string[] = [];
  for (const vm of current) {
    const before = previous.vms[vm.deployId];
    if (!before || before.state !== vm.state || before.id !== vm.id) lines.push(statusLine(vm));
  }
  for (const [deployId, before] of Object.entries(previous.vms)) {
    if (vms[deployId]) continue;
    if (before.missing >= TIMES_MISSING) lines.push(statusLine(before, MISSING_STATE));
    else vms[deployId] = { ...before, missing: before.missing + 1 };
  }
  return { lines, memory: { syncedAt: previous.syncedAt, vms } };
}

/**
 * Reads a memory file's text; anything unreadable counts as no memory (a full list follows).
 *
 * @param text The file's text, or undefined when there is none.
 * @returns The memory, or undefined.
 */
export function parseStatusMemory(text: string | undefined): StatusMemory | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text);
    if (typeof value?.syncedAt !== "number" || typeof value.vms !== "object" || !value.vms) {
      return undefined;
    }
    for (const vm of Object.values(value.vms) as Record<string, unknown>[]) {
      if (
        typeof vm?.id !== "number" || typeof vm.deployId !== "string" ||
        typeof vm.state !== "string" || typeof vm.missing !== "number"
      ) return undefined;
    }
    return value as StatusMemory;
  } catch {
    return undefined;
  }
}
