import assert from "node:assert/strict";
import { ec2Error, FakeEc2 } from "../../../tests/fakes/ec2_api.ts";
import { instanceTypeSizes, SIZE_CACHE_TTL_MS, type SizeCacheOptions } from "./type_sizes.ts";

const LOCATION = '["us-east-1",""]';

/** A cache in a fresh directory, with a clock the test moves. */
async function tempCache() {
  const dir = await Deno.makeTempDir({ prefix: "hybrid-sizes-" });
  let now = 1_800_000_000_000;
  const options: SizeCacheOptions = { dir: `${dir}/one-hybrid`, now: () => now };
  return {
    options,
    dir,
    advance: (ms: number) => void (now += ms),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

const asked = (fake: FakeEc2) => fake.inputsOf("describeInstanceTypes");

Deno.test("instanceTypeSizes() asks EC2 once for every type needed, so a type the table does not know has a size", async () => {
  await using cache = await tempCache();
  const fake = new FakeEc2();
  const sizes = await instanceTypeSizes(
    fake,
    ["i4i.large", "t3.micro", "i4i.large"],
    LOCATION,
    cache.options,
  );
  assert.deepEqual(Object.fromEntries(sizes), {
    "i4i.large": { vcpus: 2, memoryMiB: 16384 },
    "t3.micro": { vcpus: 2, memoryMiB: 1024 },
  });
  assert.deepEqual(asked(fake), [{
    Filters: [{ Name: "instance-type", Values: ["i4i.large", "t3.micro"] }],
    MaxResults: 100,
  }]);
});

Deno.test("instanceTypeSizes() answers from the cache while fresh, and asks only for the types it lacks", async () => {
  await using cache = await tempCache();
  const fake = new FakeEc2();
  await instanceTypeSizes(fake, ["i4i.large"], LOCATION, cache.options);
  cache.advance(SIZE_CACHE_TTL_MS - 1);
  const again = await instanceTypeSizes(fake, ["i4i.large", "m5.large"], LOCATION, cache.options);
  assert.equal(again.get("i4i.large")?.memoryMiB, 16384);
  assert.deepEqual(asked(fake).map((i) => i.Filters?.[0]?.Values), [["i4i.large"], ["m5.large"]]);
  await instanceTypeSizes(fake, ["i4i.large", "m5.large"], LOCATION, cache.options);
  assert.equal(asked(fake).length, 2, "both cached now");
  // Another endpoint has a cache of its own.
  await instanceTypeSizes(fake, ["i4i.large"], '["us-east-1","https://x"]', cache.options);
  assert.equal(asked(fake).length, 3);
});

Deno.test("instanceTypeSizes() asks again once a cached size is a week old", async () => {
  await using cache = await tempCache();
  const fake = new FakeEc2();
  await instanceTypeSizes(fake, ["t3.micro"], LOCATION, cache.options);
  cache.advance(SIZE_CACHE_TTL_MS);
  await instanceTypeSizes(fake, ["t3.micro"], LOCATION, cache.options);
  assert.equal(asked(fake).length, 2);
});

Deno.test("instanceTypeSizes() remembers a type the region does not know, answering it from the table", async () => {
  await using cache = await tempCache();
  const fake = new FakeEc2();
  const first = await instanceTypeSizes(fake, ["m6i.2xlarge", "x9.mega"], LOCATION, cache.options);
  assert.deepEqual(Object.fromEntries(first), { "m6i.2xlarge": { vcpus: 8, memoryMiB: 32768 } });
  await instanceTypeSizes(fake, ["m6i.2xlarge", "x9.mega"], LOCATION, cache.options);
  assert.equal(asked(fake).length, 1);
});

Deno.test("instanceTypeSizes() falls back to the table when the call fails or is unsupported, and caches nothing", async () => {
  await using cache = await tempCache();
  const fake = new FakeEc2();
  fake.failNext("describeInstanceTypes", ec2Error("InvalidAction", "not implemented"));
  fake.failNext("describeInstanceTypes", ec2Error("UnauthorizedOperation", "denied", 403));
  for (let i = 0; i < 2; i++) {
    const sizes = await instanceTypeSizes(fake, ["m5.large", "i4i.large"], LOCATION, cache.options);
    assert.deepEqual(Object.fromEntries(sizes), { "m5.large": { vcpus: 2, memoryMiB: 8192 } });
  }
  const sizes = await instanceTypeSizes(fake, ["i4i.large"], LOCATION, cache.options);
  assert.equal(sizes.get("i4i.large")?.vcpus, 2, "asked again after the failures");
  assert.equal(asked(fake).length, 3);
});

Deno.test("instanceTypeSizes() reads every page of the answer", async () => {
  await using cache = await tempCache();
  // The first page answers i4i.large and says there is more.
  const paged = new FakeEc2();
  paged.script(
    "describeInstanceTypes",
    {
      InstanceTypes: [{
        InstanceType: "i4i.large",
        VCpuInfo: { DefaultVCpus: 2 },
        MemoryInfo: { SizeInMiB: 16384 },
      }],
      NextToken: "page-2",
    },
    {
      InstanceTypes: [{
        InstanceType: "m5.large",
        VCpuInfo: { DefaultVCpus: 2 },
        MemoryInfo: { SizeInMiB: 7000 },
      }],
    },
  );
  const sizes = await instanceTypeSizes(paged, ["i4i.large", "m5.large"], LOCATION, cache.options);
  assert.deepEqual(Object.fromEntries(sizes), {
    "i4i.large": { vcpus: 2, memoryMiB: 16384 },
    "m5.large": { vcpus: 2, memoryMiB: 7000 },
  });
  assert.deepEqual(paged.inputsOf("describeInstanceTypes").map((i) => i.NextToken), [
    undefined,
    "page-2",
  ]);
});

Deno.test("instanceTypeSizes() works on when the cache cannot be written or holds garbage", async () => {
  await using cache = await tempCache();
  // A file where the cache directory should be: nothing can be written under it.
  await Deno.writeTextFile(`${cache.dir}/one-hybrid`, "not a directory");
  const fake = new FakeEc2();
  for (let i = 0; i < 2; i++) {
    const sizes = await instanceTypeSizes(fake, ["i4i.large"], LOCATION, cache.options);
    assert.equal(sizes.get("i4i.large")?.memoryMiB, 16384);
  }
  assert.equal(asked(fake).length, 2, "nothing cached, so asked each time");
  await Deno.remove(`${cache.dir}/one-hybrid`);
  await instanceTypeSizes(fake, ["i4i.large"], LOCATION, cache.options);
  const [file] = [...Deno.readDirSync(`${cache.dir}/one-hybrid`)].map((e) => e.name);
  assert.match(file ?? "", /^instance-types-[0-9a-f]{16}\.json$/);
  await Deno.writeTextFile(
    `${cache.dir}/one-hybrid/${file}`,
    '{"format":"one-hybrid-instance-types","version":1,"types":{"i4i.large":{"size":{"vcpus":"x"}}}}',
  );
  const sizes = await instanceTypeSizes(fake, ["i4i.large"], LOCATION, cache.options);
  assert.equal(sizes.get("i4i.large")?.vcpus, 2);
  assert.equal(asked(fake).length, 4, "a garbled entry is asked again");
  const noCache = await instanceTypeSizes(fake, ["i4i.large"], LOCATION, {
    dir: undefined,
    now: Date.now,
  });
  assert.equal(noCache.get("i4i.large")?.vcpus, 2);
});
