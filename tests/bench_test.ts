/**
 * `deno task bench` at its smallest (one round, a cycle of two VMs): every action it measures
 * succeeded or failed as it should (the bench stops otherwise), the EC2 calls it counts are the
 * calls each makes, and the poll cycle reaches every VM. No timing is asserted.
 */

import assert from "node:assert/strict";

Deno.test({
  name: "the bench measures each action once and counts the EC2 calls of a two-VM poll cycle",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "hybrid-bench-test-" });
    try {
      const json = `${tmp}/bench.json`;
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-write",
          "--allow-run",
          "--allow-env",
          "--allow-net=127.0.0.1",
          new URL("../lab/bench.ts", import.meta.url).pathname,
          "--runs",
          "1",
          "--sizes",
          "2",
          "--sample",
          "2",
          "--json",
          json,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const decoder = new TextDecoder();
      assert.equal(out.code, 0, decoder.decode(out.stderr));
      const report = JSON.parse(await Deno.readTextFile(json));
      const calls = Object.fromEntries(
        report.actions.map((a: { name: string; ec2CallsPerRun: number }) => [
          a.name,
          a.ec2CallsPerRun,
        ]),
      );
      assert.deepEqual(Object.keys(calls), [
        "bare deno (empty script)",
        "poll, bad input",
        "attach_disk (unsupported)",
        "poll (shared listing)",
        "poll (asks EC2)",
        "deploy",
        "shutdown",
        "cancel",
        "save",
        "restore",
        "reboot",
        "reset",
      ]);
      assert.equal(calls["bare deno (empty script)"], 0);
      assert.equal(calls["poll, bad input"], 0);
      assert.equal(calls["attach_disk (unsupported)"], 0);
      assert.equal(calls["poll (asks EC2)"], 1);
      assert.equal(calls["poll (shared listing)"], 0, "served from the listing of round 0");
      for (const row of report.actions) assert.ok(row.wallMedianMs > 0 && row.rssPeakMB > 0);
      const cycle = report.pollCycles as {
        vms: number;
        how: string;
        describeCalls: number;
        note: string;
      }[];
      const today = cycle.find((c) => c.how.includes("no sharing"))!;
      assert.equal(today.describeCalls, 2, "one describe per independent poll without sharing");
      for (const shared of cycle.filter((c) => c.how.includes("shared state"))) {
        assert.equal(shared.describeCalls, 1, `${shared.how}: one listing for both polls`);
      }
      const probe = cycle.find((c) => c.how.includes("probe"))!;
      assert.match(probe.note, /^reported 2 VMs/);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
