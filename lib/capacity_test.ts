import assert from "node:assert/strict";
import { type CapacitySpec, holdsCapacity, hostFigures } from "./capacity.ts";
import type { ListedInstance, Provider, Size } from "./provider.ts";

/** A provider that knows two sizes, as far as capacity needs one. */
const SIZES: Record<string, Size> = {
  "t3.micro": { vcpus: 2, memoryMiB: 1024 },
  "m5.large": { vcpus: 2, memoryMiB: 8192 },
};
const provider = {
  sizes: (names: readonly string[]) =>
    Promise.resolve(new Map(names.flatMap((n) => SIZES[n] ? [[n, SIZES[n]!] as const] : []))),
} as unknown as Provider;

let serial = 0;
/** A listed instance of this driver on host `aws`, unless told otherwise. */
function listed(size: string, more: Partial<ListedInstance> = {}): ListedInstance {
  return {
    id: `i-${(++serial).toString(16).padStart(17, "0")}`,
    state: "running",
    nativeState: "running",
    facts: {},
    launchedByDriver: true,
    ownerHost: "aws",
    size,
    sectionAttributes: {},
    ...more,
  };
}

const CAPACITY: CapacitySpec = { "t3.micro": 10, "m5.large": 2 };

Deno.test("hostFigures() of an empty host: totals from the capacity, nothing used, all free", async () => {
  assert.deepEqual(await hostFigures("aws", CAPACITY, provider, []), {
    totalCpu: (10 * 2 + 2 * 2) * 100,
    totalMemoryKiB: (10 * 1024 + 2 * 8192) * 1024,
    usedCpu: 0,
    usedMemoryKiB: 0,
    freeCpu: 2400,
    freeMemoryKiB: 26624 * 1024,
  });
});

Deno.test("hostFigures() counts this host's pending and running instances only", async () => {
  const instances = [
    listed("m5.large"),
    listed("t3.micro", { state: "pending", nativeState: "pending" }),
    listed("t3.micro", { state: "stopped", nativeState: "stopped" }),
    listed("t3.micro", { state: "terminated", nativeState: "terminated" }),
    listed("t3.micro", { ownerHost: "aws-other" }),
    listed("t3.micro", { launchedByDriver: false }),
  ];
  const figures = await hostFigures("aws", CAPACITY, provider, instances);
  assert.equal(figures.usedCpu, 400);
  assert.equal(figures.usedMemoryKiB, (8192 + 1024) * 1024);
  assert.equal(figures.freeCpu, 2000);
});

Deno.test("hostFigures() of a full and an over-full host leaves nothing free, never less", async () => {
  const full = [listed("m5.large"), listed("m5.large")];
  const capacity = { "m5.large": 2 };
  assert.equal((await hostFigures("aws", capacity, provider, full)).freeCpu, 0);
  const over = await hostFigures("aws", capacity, provider, [...full, listed("m5.large")]);
  assert.equal(over.usedCpu, 600);
  assert.equal(over.freeCpu, 0);
  assert.equal(over.freeMemoryKiB, 0);
});

Deno.test("hostFigures() counts a size the provider does not know as nothing", async () => {
  const figures = await hostFigures("aws", { "x9.mega": 4, "t3.micro": 1 }, provider, [
    listed("x9.mega"),
  ]);
  assert.equal(figures.totalCpu, 200);
  assert.equal(figures.usedCpu, 0);
});

Deno.test("holdsCapacity() is about this driver's pending and running instances of the host", () => {
  assert.ok(holdsCapacity(listed("t3.micro"), "aws"));
  assert.ok(!holdsCapacity(listed("t3.micro"), "aws-other"));
  assert.ok(!holdsCapacity(listed("t3.micro", { state: "stopping" }), "aws"));
});
