import assert from "node:assert/strict";
import { oneStateNumber } from "../one_xmlrpc/one_states.ts";
import { endOfRun, LCM_STATE, VM_STATE } from "./lcm.ts";

Deno.test("endOfRun() names only the states in which oned 3.2–4.x end or stop a VM", () => {
  const decided: string[] = [];
  for (const state of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
    for (let lcmState = 0; lcmState <= 60; lcmState++) {
      const end = endOfRun(state, lcmState);
      if (end !== undefined && state !== VM_STATE.DONE) decided.push(`${lcmState}:${end}`);
      if (state === VM_STATE.DONE) assert.equal(end, "terminate");
    }
  }
  assert.deepEqual(decided, [
    `${LCM_STATE.SHUTDOWN}:terminate`,
    `${LCM_STATE.CANCEL}:terminate`,
    `${LCM_STATE.CLEANUP_RESUBMIT}:terminate`,
    `${LCM_STATE.SHUTDOWN_POWEROFF}:poweroff`,
    `${LCM_STATE.CLEANUP_DELETE}:terminate`,
    `${LCM_STATE.SHUTDOWN_UNDEPLOY}:undeploy`,
  ]);
});

Deno.test("the state numbers the driver acts on are the ones OpenNebula's releases give those names", () => {
  for (const [name, number] of Object.entries(LCM_STATE)) {
    assert.equal(oneStateNumber("LCM_STATE", name), number, name);
  }
  for (const [name, number] of Object.entries(VM_STATE)) {
    assert.equal(oneStateNumber("STATE", name), number, name);
  }
});
