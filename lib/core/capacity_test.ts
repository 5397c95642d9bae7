import assert from "node:assert/strict";
import {
  capacityExceeded,
  capacityFromTemplate,
  type CapacitySpec,
  checkDeployCapacity,
  holdsCapacity,
  hostFigures,
} from "./capacity.ts";
import { DriverError, InvalidInputError } from "../util/errors.ts";
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

Deno.test("hostFigures() of totals alone reports them, whatever sizes run", async () => {
  const figures = await hostFigures("aws", { vcpus: 8, memoryGiB: 16 }, provider, [
    listed("m5.large"),
  ]);
  assert.deepEqual(figures, {
    totalCpu: 800,
    totalMemoryKiB: 16 * 1024 * 1024,
    usedCpu: 200,
    usedMemoryKiB: 8192 * 1024,
    freeCpu: 600,
    freeMemoryKiB: 8 * 1024 * 1024,
  });
});

Deno.test("hostFigures() caps the sum of the counts by the totals, and keeps a total above it", async () => {
  // 10 t3.micro + 2 m5.large = 24 vCPUs, 26 GiB; vcpus 16 caps the CPU, memoryGiB 64 does not.
  const capped = await hostFigures("aws", { ...CAPACITY, vcpus: 16, memoryGiB: 64 }, provider, []);
  assert.equal(capped.totalCpu, 1600);
  assert.equal(capped.totalMemoryKiB, 26 * 1024 * 1024);
  // instances has no figure of its own.
  const withInstances = await hostFigures("aws", { ...CAPACITY, instances: 1 }, provider, []);
  assert.equal(withInstances.totalCpu, 2400);
});

Deno.test("hostFigures() asks the provider nothing for a host with totals alone and no instances", async () => {
  const silent = {
    sizes: () => Promise.reject(new Error("asked")),
  } as unknown as Provider;
  const figures = await hostFigures("aws", { vcpus: 2, memoryGiB: 0.5 }, silent, []);
  assert.equal(figures.totalMemoryKiB, 512 * 1024);
});

Deno.test("capacityFromTemplate() reads OpenNebula's CAPACITY: upper case, _ for ., totals, odd spacing and case", () => {
  assert.deepEqual(
    capacityFromTemplate({
      M1_SMALL: "5",
      t3_micro: " 10 ",
      "U-6TB1_METAL": "1",
      "C5.LARGE": "2",
      VCPUS: "64",
      memory_gib: "256.5",
      INSTANCES: "20",
    }),
    {
      "m1.small": 5,
      "t3.micro": 10,
      "u-6tb1.metal": 1,
      "c5.large": 2,
      vcpus: 64,
      memoryGiB: 256.5,
      instances: 20,
    },
  );
  assert.deepEqual(capacityFromTemplate({ T3_MICRO: "0" }), { "t3.micro": 0 });
});

Deno.test("capacityFromTemplate() refuses what OpenNebula's own driver read as 0, naming the key", () => {
  const cases: [Record<string, string>, string][] = [
    [{ T3_MICRO: "ten" }, 'Host template CAPACITY T3_MICRO="ten" is not a number of instances'],
    [{ T3_MICRO: "" }, 'Host template CAPACITY T3_MICRO="" is not a number of instances'],
    [{ T3_MICRO: "-1" }, 'Host template CAPACITY T3_MICRO="-1" is not a number of instances'],
    [
      { VCPUS: "8x", MEMORY_GIB: "1" },
      'Host template CAPACITY VCPUS="8x" is not a number of vcpus',
    ],
    [
      { T3_MICRO: "1.5" },
      'Host template CAPACITY has "t3.micro" 1.5; it must be a whole number from 0 to 10000000',
    ],
    [
      { T3_MICRO: "1", "t3.micro": "2" },
      "Host template CAPACITY names t3.micro twice (T3_MICRO and t3.micro)",
    ],
    [
      { MICRO: "1" },
      'Host template CAPACITY has "micro", which is neither an instance type (family.size, e.g. t3.micro) nor a total (vcpus, memoryGiB, instances)',
    ],
    [
      { T3_MICRO_X: "1" },
      'Host template CAPACITY has "t3.micro.x", which is neither an instance type (family.size, e.g. t3.micro) nor a total (vcpus, memoryGiB, instances)',
    ],
    [{}, "Host template CAPACITY is empty: give instances per type and/or vcpus and memoryGiB"],
    [
      { VCPUS: "8" },
      'Host template CAPACITY lists no instance type, so it needs both "vcpus" and "memoryGiB"',
    ],
  ];
  for (const [attributes, message] of cases) {
    assert.throws(
      () => capacityFromTemplate(attributes),
      new InvalidInputError(message),
      JSON.stringify(attributes),
    );
  }
});

const KNOWN = new Map(Object.entries(SIZES));
const held = (...sizes: string[]) => sizes.map((size) => ({ size }));

Deno.test("capacityExceeded() by counts: room left, full, over-full, and a type not listed", () => {
  assert.equal(capacityExceeded(CAPACITY, "m5.large", KNOWN, held("m5.large")), undefined);
  assert.equal(
    capacityExceeded(CAPACITY, "m5.large", KNOWN, held("m5.large", "t3.micro", "m5.large")),
    "its capacity allows 2 m5.large and 2 are pending or running",
  );
  assert.equal(
    capacityExceeded(
      { "m5.large": 1 },
      "m5.large",
      KNOWN,
      held("m5.large", "m5.large", "m5.large"),
    ),
    "its capacity allows 1 m5.large and 3 are pending or running",
  );
  assert.equal(
    capacityExceeded({ "m5.large": 0 }, "m5.large", KNOWN, []),
    "its capacity allows 0 m5.large and 0 are pending or running",
  );
  assert.equal(
    capacityExceeded(CAPACITY, "c5.large", KNOWN, []),
    "its capacity allows no c5.large (it lists t3.micro, m5.large)",
  );
  assert.equal(
    capacityExceeded(CAPACITY, undefined, KNOWN, []),
    "its capacity allows no instance of unknown size (it lists t3.micro, m5.large)",
  );
});

Deno.test("capacityExceeded() by totals: instances, vCPUs and memory, each named", () => {
  const totals = { vcpus: 6, memoryGiB: 10, instances: 3 };
  assert.equal(capacityExceeded(totals, "t3.micro", KNOWN, held("t3.micro")), undefined);
  assert.equal(
    capacityExceeded(totals, "t3.micro", KNOWN, held("t3.micro", "t3.micro", "t3.micro")),
    "its capacity allows 3 instances and 3 are pending or running",
  );
  assert.equal(
    capacityExceeded(totals, "t3.micro", KNOWN, held("t3.micro", "t3.micro")),
    undefined,
    "exactly full after the deploy is allowed",
  );
  assert.equal(
    capacityExceeded({ vcpus: 4, memoryGiB: 100 }, "m5.large", KNOWN, held("t3.micro", "x9.mega")),
    undefined,
    "a held size no one knows holds nothing",
  );
  assert.equal(
    capacityExceeded({ vcpus: 5, memoryGiB: 100 }, "m5.large", KNOWN, held("t3.micro", "t3.micro")),
    "its capacity allows 5 vCPUs, pending and running instances hold 4 and m5.large needs 2",
  );
  assert.equal(
    capacityExceeded(totals, "m5.large", KNOWN, held("t3.micro", "t3.micro")),
    undefined,
    "2 GiB held and 8 GiB needed fill 10 GiB exactly",
  );
  assert.equal(
    capacityExceeded(
      { ...totals, memoryGiB: 9.5 },
      "m5.large",
      KNOWN,
      held("t3.micro", "t3.micro"),
    ),
    "its capacity allows 9.5 GiB of memory, pending and running instances hold 2 GiB and m5.large needs 8 GiB",
  );
  assert.equal(
    capacityExceeded(totals, "x9.mega", KNOWN, []),
    "its capacity caps vCPUs and the size of x9.mega is unknown",
  );
});

Deno.test("capacityExceeded() with counts and totals: the counts, then the totals over all of them", () => {
  const both = { ...CAPACITY, vcpus: 4, memoryGiB: 100 };
  assert.equal(
    capacityExceeded(both, "t3.micro", KNOWN, held("m5.large", "t3.micro")),
    "its capacity allows 4 vCPUs, pending and running instances hold 4 and t3.micro needs 2",
  );
  assert.equal(capacityExceeded(both, "t3.micro", KNOWN, held("m5.large")), undefined);
  assert.equal(
    capacityExceeded(both, "c5.large", KNOWN, []),
    "its capacity allows no c5.large (it lists t3.micro, m5.large)",
  );
});

/** A provider that lists the given instances for any host and records what it was asked. */
function listingProvider(instances: ListedInstance[]) {
  const asked: string[] = [];
  const fake = {
    listForHost: (host: string) => {
      asked.push(`listForHost ${host}`);
      return Promise.resolve(instances);
    },
    sizes: (names: readonly string[]) => {
      asked.push(`sizes ${names.join(",")}`);
      return provider.sizes(names);
    },
  } as unknown as Provider;
  return { fake, asked };
}

Deno.test("checkDeployCapacity() refuses with the VM and host named, leaving out the VM's own instances", async () => {
  const { fake, asked } = listingProvider([
    listed("m5.large", { ownerVmId: 7 }),
    listed("m5.large", { ownerVmId: 8 }),
    listed("m5.large", { ownerVmId: 9, state: "stopped", nativeState: "stopped" }),
  ]);
  await assert.rejects(
    checkDeployCapacity(fake, { "m5.large": 2 }, { vmId: 42, host: "aws", size: "m5.large" }),
    new DriverError(
      "Cannot deploy VM 42 to host aws: its capacity allows 2 m5.large and 2 are pending or running",
    ),
  );
  // A retry of VM 7, whose instance is one of the two, fits.
  await checkDeployCapacity(fake, { "m5.large": 2 }, { vmId: 7, host: "aws", size: "m5.large" });
  assert.deepEqual(asked, ["listForHost aws", "listForHost aws"], "no sizes asked for counts");
});

Deno.test("checkDeployCapacity() asks sizes once, for the held sizes and the deploy's, only for totals", async () => {
  const { fake, asked } = listingProvider([listed("t3.micro", { ownerVmId: 1 })]);
  await checkDeployCapacity(fake, { vcpus: 4, memoryGiB: 16 }, {
    vmId: 2,
    host: "aws",
    size: "m5.large",
  });
  assert.deepEqual(asked, ["listForHost aws", "sizes t3.micro,m5.large"]);
});
