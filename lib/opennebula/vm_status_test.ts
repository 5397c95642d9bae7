import assert from "node:assert/strict";
import {
  describedCheck,
  fullListDue,
  hostVmCheck,
  parseStatusMemory,
  statusRun,
  SYNC_SECONDS,
} from "./vm_status.ts";

const A = { id: 4, deployId: "i-a", state: "RUNNING" };
const B = { id: 5, deployId: "i-b", state: "RUNNING" };

Deno.test("fullListDue() is true with no memory, once SYNC_SECONDS have passed, or when the clock went back", () => {
  assert.equal(fullListDue(undefined, 1000), true);
  const first = statusRun(undefined, [A], 1000, true).memory;
  assert.equal(fullListDue(first, 1000 + SYNC_SECONDS - 1), false);
  assert.equal(fullListDue(first, 1000 + SYNC_SECONDS), true);
  assert.equal(fullListDue(first, 900), true);
});

Deno.test("statusRun() sends the full list only when told, and remembers when", () => {
  const first = statusRun(undefined, [A], 1000, true);
  assert.deepEqual(first.lines, [
    "SYNC_STATE=yes",
    "MISSING_STATE=UNKNOWN",
    'VM = [ ID="4", DEPLOY_ID="i-a",  STATE="RUNNING" ]',
  ]);
  const quiet = statusRun(first.memory, [A], 1000 + SYNC_SECONDS + 5, false);
  assert.deepEqual(quiet.lines, []);
  assert.equal(quiet.memory.syncedAt, 1000, "a postponed full list stays due");
  const sync = statusRun(quiet.memory, [A, B], 1000 + SYNC_SECONDS + 10, true);
  assert.deepEqual(sync.lines, [
    "SYNC_STATE=yes",
    "MISSING_STATE=UNKNOWN",
    'VM = [ ID="4", DEPLOY_ID="i-a",  STATE="RUNNING" ]',
    'VM = [ ID="5", DEPLOY_ID="i-b",  STATE="RUNNING" ]',
  ]);
  assert.equal(sync.memory.syncedAt, 1000 + SYNC_SECONDS + 10);
});

Deno.test("statusRun() without memory and without a full list reports every VM as a change, and leaves the full list due", () => {
  const run = statusRun(undefined, [A], 50, false);
  assert.deepEqual(run.lines, ['VM = [ ID="4", DEPLOY_ID="i-a",  STATE="RUNNING" ]']);
  assert.equal(fullListDue(run.memory, 51), true);
});

Deno.test("statusRun() reports a VM when its state or its deploy id changes, keyed by VM id", () => {
  const first = statusRun(undefined, [A], 0, true).memory;
  const added = statusRun(first, [A, B], 10, false);
  assert.deepEqual(added.lines, ['VM = [ ID="5", DEPLOY_ID="i-b",  STATE="RUNNING" ]']);
  const off = statusRun(added.memory, [A, { ...B, state: "POWEROFF" }], 20, false);
  assert.deepEqual(off.lines, ['VM = [ ID="5", DEPLOY_ID="i-b",  STATE="POWEROFF" ]']);
  // VM 5 resumed on a new instance: the new deploy id is a change, the old one is never named.
  const relaunched = statusRun(off.memory, [A, { ...B, deployId: "i-c" }], 30, false);
  assert.deepEqual(relaunched.lines, ['VM = [ ID="5", DEPLOY_ID="i-c",  STATE="RUNNING" ]']);
  assert.deepEqual(relaunched.memory.vms["5"], { deployId: "i-c", state: "RUNNING" });
});

Deno.test("statusRun() never reports a VM that is no longer seen, however long it is missing: oned finds it from the full list", () => {
  let memory = statusRun(undefined, [A, B], 0, true).memory;
  for (let t = 10; t <= 100; t += 10) {
    const run = statusRun(memory, [A], t, false);
    assert.deepEqual(run.lines, [], `run at ${t}`);
    memory = run.memory;
  }
  assert.equal(memory.vms["5"], undefined);
  // Back: reported again (oned may have taken it as missing meanwhile).
  assert.deepEqual(statusRun(memory, [A, B], 110, false).lines, [
    'VM = [ ID="5", DEPLOY_ID="i-b",  STATE="RUNNING" ]',
  ]);
});

Deno.test("parseStatusMemory() takes an unreadable, malformed or older (keyed by deploy id) file as no memory", () => {
  assert.equal(parseStatusMemory(undefined), undefined);
  assert.equal(parseStatusMemory("{"), undefined);
  assert.equal(
    parseStatusMemory(
      '{"syncedAt":1,"vms":{"i-a":{"id":4,"deployId":"i-a","state":"RUNNING","missing":3}}}',
    ),
    undefined,
  );
  assert.equal(parseStatusMemory('{"v":2,"syncedAt":1,"vms":{"4":{"deployId":7}}}'), undefined);
  const memory = statusRun(undefined, [A], 7, true).memory;
  assert.deepEqual(parseStatusMemory(JSON.stringify(memory)), memory);
});

Deno.test("hostVmCheck() follows InformationManager::_vm_state: only ACTIVE VMs in RUNNING, UNKNOWN or SHUTDOWN* are taken as missing", () => {
  for (const lcm of [3, 16, 12, 18, 29]) {
    assert.equal(hostVmCheck({ state: 3, lcmState: lcm, deployId: "i-1" }), "describe", `${lcm}`);
    assert.equal(hostVmCheck({ state: 3, lcmState: lcm }), "absent", `${lcm} without deploy id`);
  }
  // BOOT, BOOT_POWEROFF, BOOT_UNDEPLOY, PROLOG, MIGRATE, HOTPLUG, PROLOG_UNDEPLOY, LCM_INIT,
  // a state this driver does not know: may turn RUNNING before oned reads the list.
  for (const lcm of [2, 20, 32, 1, 4, 17, 31, 0, 99]) {
    assert.equal(hostVmCheck({ state: 3, lcmState: lcm, deployId: "i-1" }), "postpone", `${lcm}`);
  }
  // BOOT_FAILURE, EPILOG, CLEANUP_DELETE, SAVE_STOP, DISK_SNAPSHOT_POWEROFF: settled.
  for (const lcm of [36, 11, 23, 5, 52]) {
    assert.equal(hostVmCheck({ state: 3, lcmState: lcm, deployId: "i-1" }), "ignore", `${lcm}`);
  }
  for (const state of [8, 5, 6, 9]) {
    assert.equal(hostVmCheck({ state, lcmState: 0, deployId: "i-1" }), "ignore", `STATE ${state}`);
  }
});

Deno.test("hostVmCheck(): a VM backed up while running (BACKUP) may turn RUNNING; one backed up or restored while off, or a suspended one being moved, stays off (6.6+ states, PROLOG_MIGRATE_SUSPEND)", () => {
  assert.equal(hostVmCheck({ state: 3, lcmState: 69, deployId: "i-1" }), "postpone"); // BACKUP
  // BACKUP_POWEROFF, RESTORE end POWEROFF; PROLOG_MIGRATE_POWEROFF, _SUSPEND end off too.
  for (const lcm of [70, 71, 43, 45]) {
    assert.equal(hostVmCheck({ state: 3, lcmState: lcm, deployId: "i-1" }), "ignore", `${lcm}`);
  }
});

Deno.test("describedCheck(): a live instance is included, a terminated one left out, a not-found one left out only well past the VM's running start", () => {
  assert.equal(describedCheck({ found: true, state: "running" }, undefined, 0, 0), "include");
  assert.equal(describedCheck({ found: true, state: "stopped" }, undefined, 0, 0), "include");
  assert.equal(describedCheck({ found: true, state: "terminated" }, undefined, 0, 0), "absent");
  assert.equal(describedCheck({ found: true, state: "terminating" }, undefined, 0, 0), "absent");
  assert.equal(describedCheck({ found: false, notFound: true }, 1000, 1500, 600), "postpone");
  assert.equal(describedCheck({ found: false, notFound: true }, 1000, 1601, 600), "absent");
  assert.equal(describedCheck({ found: false, notFound: true }, undefined, 9999, 600), "postpone");
  assert.equal(describedCheck({ found: false, notFound: false }, 1000, 9999, 600), "postpone");
});
