import assert from "node:assert/strict";
import { CloudError } from "../util/errors.ts";
import { type PoolPage, type PoolReader, readPool } from "./pool_pages.ts";
import { type ListOrder, listPool, type PoolVm } from "../../tests/oned_pool.ts";
import { releaseAtLeast } from "../../tests/partner_oned.ts";

/** A pool as oned 6.10 lists it, with a hook run before each page is answered. */
function pool(ids: Iterable<number>, order: ListOrder = "DESC") {
  const vms = new Map<number, PoolVm>([...ids].map((id) => [id, { id, state: 3, uid: 0 }]));
  const calls: [number, number][] = [];
  let before: (call: number) => void = () => {};
  const list = (params: number[]): PoolPage<number> => {
    const answer = listPool(params, vms.values(), () => true, order);
    if (!("ids" in answer)) throw new Error(JSON.stringify(answer));
    return { rows: answer.ids.map((id) => ({ id, item: id })), chars: answer.ids.length * 1000 };
  };
  const reader: PoolReader<number> = {
    label: "oned answered one.vmpool.info",
    page: (offset, size) => {
      calls.push([offset, size]);
      before(calls.length);
      return Promise.resolve(list([-2, offset, -size, -1]));
    },
  };
  return {
    vms,
    calls,
    reader,
    /** Runs before each page (the call's number, from 1). */
    beforeEach(hook: (call: number) => void) {
      before = hook;
    },
    add(id: number) {
      vms.set(id, { id, state: 3, uid: 0 });
    },
  };
}

/** Numbers from a seed, the same every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

Deno.test("readPool() lists a pool far larger than one page once each, in the pool's order, newest first or oldest first", async () => {
  for (const order of ["DESC", "ASC"] as const) {
    const p = pool(range(0, 5000), order);
    const items = await readPool(p.reader, { first: 100, most: 1000, chars: 500_000 });
    assert.deepEqual(items, order === "DESC" ? range(0, 5000).reverse() : range(0, 5000));
    // A small first page, then pages sized from the rows' characters (500,000 at 1000 a row),
    // each repeating the last 1 in 20 rows of the one before.
    assert.deepEqual(p.calls.slice(0, 3), [[0, 100], [95, 500], [570, 500]]);
    assert.equal(p.calls.length, 12);
  }
});

Deno.test("readPool() misses no VM that lives through the walk while VMs end and are created between pages, and takes none twice", async () => {
  for (const [order, seed] of [["DESC", 1], ["DESC", 2], ["ASC", 3], ["DESC", 4]] as const) {
    const p = pool(range(0, 3000), order);
    const next = random(seed);
    let nextId = 3000;
    const removed = new Set<number>();
    p.beforeEach((call) => {
      if (call === 1) return;
      // Between two pages: up to 120 VMs end (often among those already read), up to 40 are made.
      const live = [...p.vms.keys()];
      for (let i = Math.floor(next() * 120); i > 0; i--) {
        const id = live[Math.floor(next() * live.length)]!;
        p.vms.delete(id);
        removed.add(id);
      }
      for (let i = Math.floor(next() * 40); i > 0; i--) p.add(nextId++);
    });
    const items = await readPool(p.reader, { first: 200, most: 200 });
    assert.equal(new Set(items).size, items.length, "no VM twice");
    const throughout = range(0, 3000).filter((id) => !removed.has(id));
    const listed = new Set(items);
    assert.deepEqual(throughout.filter((id) => !listed.has(id)), [], `${order} ${seed}: missed`);
    assert.ok(items.every((id) => id < nextId), "nothing that never was");
    const sorted = [...items].sort((a, b) => order === "DESC" ? b - a : a - b);
    assert.deepEqual(items, sorted, "in the pool's order");
  }
});

Deno.test("readPool() reads a page again from further back when VMs before it ended, rather than skip the rows that moved back", async () => {
  const p = pool(range(0, 400));
  p.beforeEach((call) => {
    // Before the second page, the 30 newest VMs (all read) end: every row moves back 30.
    if (call === 2) { for (const id of range(370, 400)) p.vms.delete(id); }
  });
  const items = await readPool(p.reader, { first: 100, most: 100 });
  assert.deepEqual(items, range(0, 400).reverse());
  // Offset 95 starts past VM 300 (the last taken): read again from 0.
  assert.deepEqual(p.calls.slice(0, 3), [[0, 100], [95, 100], [0, 100]]);
});

Deno.test("readPool() halves a page the client refuses as too large, and gives up with the refusal at 4 rows", async () => {
  const p = pool(range(0, 300));
  const tooLarge = new CloudError(
    "TooLarge",
    "oned answered one.vmpool.info with more than 4 bytes",
  );
  const reader: PoolReader<number> = {
    label: p.reader.label,
    page: (offset, size) => size > 30 ? Promise.reject(tooLarge) : p.reader.page(offset, size),
  };
  assert.deepEqual(await readPool(reader, { first: 100, most: 100 }), range(0, 300).reverse());
  assert.deepEqual(p.calls[0], [0, 25]);
  const never: PoolReader<number> = { label: p.reader.label, page: () => Promise.reject(tooLarge) };
  await assert.rejects(readPool(never), tooLarge);
});

Deno.test("readPool() asks the whole pool in one call when the first page is empty: an empty pool, or oned before 4.6, which takes offsets for an id range", async () => {
  const vms = range(0, 10).map((id) => ({ id, state: 3, uid: 0 }));
  const calls: number[][] = [];
  const answer = (params: number[]) => {
    calls.push(params);
    const listed = listPool(params, vms, (than) => releaseAtLeast("4.4.1", than));
    const ids = "ids" in listed ? listed.ids : [];
    return Promise.resolve({ rows: ids.map((id) => ({ id, item: id })), chars: 0 });
  };
  const old: PoolReader<number> = {
    label: "oned answered one.vmpool.info",
    page: (offset, size) => answer([-2, offset, -size, -1]),
    whole: () => answer([-2, -1, -1, -1]),
  };
  assert.deepEqual(await readPool(old), range(0, 10));
  assert.deepEqual(calls, [[-2, 0, -100, -1], [-2, -1, -1, -1]]);
  const empty = pool([]);
  assert.deepEqual(await readPool(empty.reader), []);
  assert.equal(empty.calls.length, 1);
});

Deno.test("readPool() refuses a page whose rows are not in id order, and gives up on a pool whose pages never reach a new row", async () => {
  const shuffled: PoolReader<number> = {
    label: "oned answered one.vmpool.info",
    page: () => Promise.resolve({ rows: [3, 1, 2].map((id) => ({ id, item: id })), chars: 3 }),
  };
  await assert.rejects(readPool(shuffled), {
    code: "InvalidResponse",
    message:
      "oned answered one.vmpool.info with a page whose rows are not in id order, which cannot be paged",
  });
  const p = pool(range(0, 1000));
  // Before every page after the first, 600 VMs are made: they come first, and push every row
  // the walk has not read further than a page of 500 goes.
  let nextId = 1000;
  p.beforeEach((call) => {
    if (call > 1) { for (let i = 0; i < 600; i++) p.add(nextId++); }
  });
  await assert.rejects(readPool(p.reader, { first: 500, most: 500 }), { code: "PoolChanging" });
  assert.equal(p.calls.length, 34);
});
