import assert from "node:assert/strict";
import { parseXml } from "../../util/xml.ts";
import { neutralState, readVm } from "./vm.ts";

/** A partner VM's document in a state. */
const vmIn = (state: number, lcm: number) =>
  readVm(parseXml(`<VM><ID>5</ID><STATE>${state}</STATE><LCM_STATE>${lcm}</LCM_STATE></VM>`))!;

Deno.test("a partner VM being backed up reads as running, and one backed up or restored while powered off as stopped (6.6+)", () => {
  assert.equal(neutralState(3, 69), "running"); // BACKUP
  assert.equal(neutralState(3, 70), "stopped"); // BACKUP_POWEROFF
  assert.equal(neutralState(3, 71), "stopped"); // RESTORE
  const backup = vmIn(3, 69);
  assert.deepEqual([backup.state, backup.nativeState, backup.facts.STATE], [
    "running",
    "BACKUP",
    "BACKUP",
  ]);
});

Deno.test("a powered-off or suspended partner VM being moved to another host reads as stopped, not pending", () => {
  assert.equal(neutralState(3, 43), "stopped"); // PROLOG_MIGRATE_POWEROFF
  assert.equal(neutralState(3, 45), "stopped"); // PROLOG_MIGRATE_SUSPEND
  assert.equal(neutralState(3, 44), "unknown"); // PROLOG_MIGRATE_POWEROFF_FAILURE: failed
});

Deno.test("a running partner VM saved for a cold migration (SAVE_MIGRATE) reads as pending, not stopping: it runs again on the other host", () => {
  assert.equal(neutralState(3, 7), "pending");
  assert.equal(neutralState(3, 8), "pending"); // PROLOG_MIGRATE
  assert.equal(neutralState(3, 35), "pending"); // BOOT_MIGRATE
});

Deno.test("every state a partner of 4.14-7.4 reports maps as before where it was right: HOLD pending, UNKNOWN and failures unknown, a later release's new state unknown", () => {
  const expected: Record<string, [number, number][]> = {
    pending: [[0, 0], [1, 0], [2, 0], [10, 0], [3, 0], [3, 1], [3, 2], [3, 4], [3, 15], [3, 20]],
    running: [[3, 3], [3, 17], [3, 24], [3, 57], [3, 62], [3, 66]],
    stopping: [[3, 5], [3, 6], [3, 10], [3, 18], [3, 29], [3, 30]],
    stopped: [[4, 0], [5, 0], [8, 0], [9, 0], [3, 27], [3, 51], [3, 55], [3, 65], [3, 68]],
    terminating: [[3, 11], [3, 12], [3, 13], [3, 23]],
    terminated: [[6, 0]],
    unknown: [[3, 16], [3, 36], [3, 39], [3, 61], [11, 0], [7, 0], [3, 72], [12, 0]],
  };
  for (const [state, pairs] of Object.entries(expected)) {
    for (const [s, l] of pairs) assert.equal(neutralState(s, l), state, `${s}/${l}`);
  }
  assert.equal(vmIn(3, 72).nativeState, "ACTIVE/72");
});
