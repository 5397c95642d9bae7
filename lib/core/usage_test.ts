import assert from "node:assert/strict";
import type { UsageSample } from "./provider.ts";
import { accumulate, CPU_FRESH_MS, usageOf } from "./usage.ts";

const P = 300_000;
const EMPTY: UsageSample = { cpuPercent: [], received: [], sent: [] };

Deno.test("accumulate() reports the latest period's CPU times the vCPUs: OpenNebula's 100 per busy CPU", () => {
  const counters = accumulate(
    undefined,
    {
      ...EMPTY,
      cpuPercent: [{ at: 2 * P, value: 75 }, { at: 0, value: 10 }, { at: P, value: 20 }],
    },
    4,
    0,
  );
  assert.equal(counters.cpu, 300);
  assert.equal(counters.cpuAt, 2 * P);
});

Deno.test("accumulate() gives no CPU figure when the vCPUs are unknown, keeping an earlier one", () => {
  assert.equal(
    accumulate(undefined, { ...EMPTY, cpuPercent: [{ at: 0, value: 50 }] }, undefined, 0).cpu,
    undefined,
  );
  const before = accumulate(undefined, { ...EMPTY, cpuPercent: [{ at: 0, value: 50 }] }, 2, 0);
  const after = accumulate(before, { ...EMPTY, cpuPercent: [{ at: P, value: 90 }] }, undefined, 0);
  assert.deepEqual([after.cpu, after.cpuAt], [100, 0]);
});

Deno.test("accumulate() counts a period read again only once, and only what it grew by", () => {
  const first = accumulate(
    undefined,
    {
      ...EMPTY,
      received: [{ at: 0, value: 100 }, { at: P, value: 40 }],
      sent: [{ at: 0, value: 7 }],
    },
    1,
    0,
  );
  assert.deepEqual([first.rx, first.tx], [140, 7]);
  const second = accumulate(
    first,
    {
      ...EMPTY,
      // P grew by late data (40 -> 60), 2P arrived; 0 is the same.
      received: [{ at: 0, value: 100 }, { at: P, value: 60 }, { at: 2 * P, value: 5 }],
      sent: [{ at: 0, value: 7 }],
    },
    1,
    0,
  );
  assert.deepEqual([second.rx, second.tx], [165, 7]);
});

Deno.test("accumulate() counts a late period that arrives after a later one", () => {
  const first = accumulate(undefined, { ...EMPTY, received: [{ at: 2 * P, value: 10 }] }, 1, 0);
  const second = accumulate(
    first,
    {
      ...EMPTY,
      received: [{ at: P, value: 30 }, { at: 2 * P, value: 10 }],
    },
    1,
    0,
  );
  assert.equal(second.rx, 40);
});

Deno.test("accumulate() forgets periods before the look-back and never subtracts", () => {
  const first = accumulate(undefined, { ...EMPTY, received: [{ at: 0, value: 100 }] }, 1, 0);
  const moved = accumulate(
    first,
    {
      ...EMPTY,
      received: [{ at: 0, value: 50 }, { at: P, value: -5 }, { at: 2 * P, value: NaN }],
    },
    1,
    P,
  );
  assert.equal(moved.rx, 100);
  assert.deepEqual(moved.rxSeen, {});
});

Deno.test("usageOf() reports the CPU figure while it is recent, the counters always", () => {
  const counters = accumulate(
    undefined,
    {
      cpuPercent: [{ at: 0, value: 12.5 }],
      received: [{ at: 0, value: 1 }],
      sent: [{ at: 0, value: 2 }],
    },
    2,
    0,
  );
  assert.deepEqual(usageOf(counters, CPU_FRESH_MS - 1), { cpu: 25, netrx: 1, nettx: 2 });
  assert.deepEqual(usageOf(counters, CPU_FRESH_MS), { netrx: 1, nettx: 2 });
});
