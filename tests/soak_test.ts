/**
 * The soak under faults, small enough for every run (`deno task soak` runs the full 100 VMs):
 * whatever the throttling, server errors, dropped connections and late visibility, each VM gets
 * exactly one instance, all are terminated at the end, no action outlives its deadline, and no
 * output holds the secret key.
 */

import assert from "node:assert/strict";
import { FULL_SOAK, runSoak } from "../scripts/soak.ts";

Deno.test({
  name:
    "under random throttling, 5xx, dropped connections and late visibility, each VM gets exactly one instance and all end terminated",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const report = await runSoak({ ...FULL_SOAK, vms: 12, concurrency: 4, seed: 7 });
    assert.equal(report.launched, 12, JSON.stringify(report));
    assert.deepEqual(report.duplicated, []);
    assert.deepEqual(report.notTerminated, []);
    assert.deepEqual(report.failedVms, []);
    assert.equal(report.pastDeadline, 0);
    assert.equal(report.secretLeaks, 0);
    assert.ok(report.calls.throttled > 0 && report.calls.dropped > 0, "faults were injected");
  },
});
