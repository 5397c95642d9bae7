/**
 * `lab/pool_scale.ts` at a small scale: its probes answer right over pools of several pages
 * (the script stops otherwise), and the pages it counts are pages. No timing is asserted.
 */

import assert from "node:assert/strict";

Deno.test("the pool measurement lists a partner user's 300 VMs and oned's 1,500 page by page, and every probe answers right", async () => {
  const script = new URL("../lab/pool_scale.ts", import.meta.url).pathname;
  const sizes = ["--partner", "300", "--local", "1500", "--runs", "1"];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script, ...sizes],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const stdout = decode(out.stdout);
  assert.equal(out.code, 0, decode(out.stderr));
  const rows = stdout.trim().split("\n").slice(2).map((line) => line.split(" | "));
  const calls = rows.map((row) => `${row[0]!.slice(2)} ${row[1]} ${row[3]}`);
  assert.equal(calls.length, 4);
  assert.deepEqual(calls.slice(0, 2), ["host/monitor 10 1 + 0", "host/system 10 1 + 1"]);
  // Several pages of each pool; host/monitor never asks oned.
  const [monitor, system] = calls.slice(2).map((c) => c.split(" "));
  assert.equal(monitor![0], "host/monitor");
  assert.ok(Number(monitor![2]) >= 3 && monitor![4] === "0", calls[2]);
  assert.ok(Number(system![2]) >= 3 && Number(system![4]) >= 3, calls[3]);
});
