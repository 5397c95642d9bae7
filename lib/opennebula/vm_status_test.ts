import assert from "node:assert/strict";
import { parseStatusMemory, statusRun, SYNC_SECONDS } from "./vm_status.ts";

const A = { id: 4, deployId: "i-a", state: "RUNNING" };
const B = { id: 5, deployId: "i-b", state: "RUNNING" };

Deno.test("statusRun() sends the full list again once SYNC_SECONDS have passed, or when the clock went back", () => {
  const first = statusRun(undefined, [A], 1000);
  assert.equal(first.lines[0], "SYNC_STATE=yes");
  const quiet = statusRun(first.memory, [A], 1000 + SYNC_SECONDS - 1);
  assert.deepEqual(quiet.lines, []);
  assert.equal(quiet.memory.syncedAt, 1000);
  const sync = statusRun(quiet.memory, [A, B], 1000 + SYNC_SECONDS);
  assert.deepEqual(sync.lines, [
    "SYNC_STATE=yes",
    "MISSING_STATE=UNKNOWN",
    'VM = [ ID="4", DEPLOY_ID="i-a",  STATE="RUNNING" ]',
    'VM = [ ID="5", DEPLOY_ID="i-b",  STATE="RUNNING" ]',
  ]);
  assert.equal(statusRun(sync.memory, [A, B], 900).lines[0], "SYNC_STATE=yes");
});

Deno.test("statusRun() reports a new VM and a changed state, and a VM back before its fourth miss as nothing", () => {
  const first = statusRun(undefined, [A], 0).memory;
  const added = statusRun(first, [A, B], 10);
  assert.deepEqual(added.lines, ['VM = [ ID="5", DEPLOY_ID="i-b",  STATE="RUNNING" ]']);
  const off = statusRun(added.memory, [A, { ...B, state: "POWEROFF" }], 20);
  assert.deepEqual(off.lines, ['VM = [ ID="5", DEPLOY_ID="i-b",  STATE="POWEROFF" ]']);
  let memory = off.memory;
  for (let t = 30; t <= 50; t += 10) memory = statusRun(memory, [A], t).memory;
  assert.equal(memory.vms["i-b"]?.missing, 3);
  assert.deepEqual(statusRun(memory, [A, { ...B, state: "POWEROFF" }], 60).lines, []);
});

Deno.test("parseStatusMemory() takes an unreadable or malformed file as no memory", () => {
  assert.equal(parseStatusMemory(undefined), undefined);
  assert.equal(parseStatusMemory("{"), undefined);
  assert.equal(parseStatusMemory('{"syncedAt":1,"vms":{"i-a":{"id":"4"}}}'), undefined);
  const memory = statusRun(undefined, [A], 7).memory;
  assert.deepEqual(parseStatusMemory(JSON.stringify(memory)), memory);
});
