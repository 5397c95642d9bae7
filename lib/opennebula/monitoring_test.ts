import assert from "node:assert/strict";
import type { Instance } from "../core/provider.ts";
import { formatMonitoring } from "./monitoring.ts";

const running: Instance = {
  id: "i-0123456789abcdef0",
  state: "running",
  nativeState: "running",
  memoryKiB: 2097152,
  facts: { STATE: "running", SECURITY_GROUPS: "sg-1,sg-2", KEY_NAME: "ops key" },
};

Deno.test("formatMonitoring() puts STATE first, then memory, then prefixed facts", () => {
  assert.equal(
    formatMonitoring(running, "AWS", "current"),
    "STATE=a MEMORY=2097152 AWS_STATE=running AWS_SECURITY_GROUPS=sg-1,sg-2 AWS_KEY_NAME=ops%20key",
  );
});

Deno.test("formatMonitoring() uses USEDMEMORY for OpenNebula 3.2 to 4.12", () => {
  assert.match(formatMonitoring(running, "AWS", "legacy"), /^STATE=a USEDMEMORY=2097152 /);
});

Deno.test("formatMonitoring() reports no memory for an instance that is not active", () => {
  assert.equal(
    formatMonitoring(
      { ...running, state: "stopped", nativeState: "stopped", facts: { STATE: "stopped" } },
      "AWS",
      "current",
    ),
    "STATE=p AWS_STATE=stopped",
  );
});

Deno.test("formatMonitoring() never writes a blank inside a value", () => {
  const line = formatMonitoring({ ...running, facts: { NAME: "a b\tc\nd" } }, "AWS", "current");
  assert.equal(line.split(" ").length, 3);
});

Deno.test("formatMonitoring() maps every provider-neutral state to OpenNebula's poll state", () => {
  const states = [
    "pending",
    "running",
    "stopping",
    "stopped",
    "terminating",
    "terminated",
    "unknown",
  ] as const;
  const lines = states.map((state) =>
    formatMonitoring({ id: "x", state, nativeState: "n", facts: {} }, "AWS", "current")
  );
  assert.deepEqual(lines.map((l) => l.slice("STATE=".length)), ["a", "a", "p", "p", "d", "d", "-"]);
});

Deno.test("formatMonitoring() puts a running VM's usage after its memory, in each generation's keys", () => {
  const usage = { cpu: 80, netrx: 1500, nettx: 2000 };
  assert.equal(
    formatMonitoring(running, "AWS", "current", usage),
    "STATE=a MEMORY=2097152 CPU=80 NETTX=2000 NETRX=1500 AWS_STATE=running AWS_SECURITY_GROUPS=sg-1,sg-2 AWS_KEY_NAME=ops%20key",
  );
  assert.match(
    formatMonitoring(running, "AWS", "legacy", { ...usage, cpu: 79.6 }),
    /^STATE=a USEDMEMORY=2097152 USEDCPU=80 NETTX=2000 NETRX=1500 AWS_/,
  );
});

Deno.test("formatMonitoring() reports no usage for a VM that is not active", () => {
  const stopped: Instance = { ...running, state: "stopped", nativeState: "stopped", facts: {} };
  assert.equal(
    formatMonitoring(stopped, "AWS", "current", { cpu: 1, netrx: 2, nettx: 3 }),
    "STATE=p",
  );
});
