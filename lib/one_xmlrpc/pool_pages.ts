/**
 * Reading an OpenNebula pool (`one.vmpool.info` and kin) page by page, so that no pool is too
 * large to list: each answer stays far below the client's cap on an answer's size, however many
 * VMs there are.
 *
 * oned (4.6 to 7.x) pages a pool by row offset: with `end_id < -1`, `start_id` is the offset
 * and `-end_id` the page size (`LIMIT start_id, -end_id`), rows ordered by id, ascending (up to
 * 5.6) or descending (the default from 5.8, `API_LIST_ORDER`, which a user's or group's template
 * may set either way). With `end_id >= -1` the two are an inclusive id range instead, with no
 * limit on how many rows come back.
 *
 * Why offsets and not id ranges: ids are never reused, so a cloud that has made two million
 * VMs and keeps ten thousand has them spread over two million ids; id windows either take
 * thousands of calls or are wide enough that one of them may hold most of the pool, and
 * nothing in the API says where the ids are. An offset page is bounded by its size. Its weak
 * point is that offsets move when VMs come and go during the walk; since rows are ordered by
 * id, this module sees it happen, and reads again rather than miss a VM:
 *
 * - each page starts a little before where the last one ended (an overlap of a few rows), and
 *   takes only the rows past the last id it took, in the pool's order (duplicates are dropped);
 * - a page whose first row is already past that id means rows moved back past the offset (VMs
 *   ended or were deleted before it): some may have been skipped, so the offset steps back and
 *   the page is read again. At offset 0 nothing can be skipped.
 * - VMs created during the walk move rows forward: rows are read twice and dropped, none is
 *   missed. A VM created after the walk began may or may not be listed; one that ended may
 *   still be.
 *
 * Every VM that exists from the first call to the last is listed exactly once.
 *
 * Page sizes follow the answers: the first page is small, the next ones are sized from the
 * characters a row took so far, and a page the client refuses as too large is asked again at
 * half the size. Items are copied as they are taken, so that no item keeps a page's document
 * alive (text read from it may be a slice of it).
 *
 * oned before 4.6 has no row offsets (it reads `end_id < -1` as an id range and answers an
 * empty pool); a reader that may meet one gives `whole`, the pool in one call, which is asked
 * when the first page is empty (an empty pool, or such an oned).
 *
 * @module
 */

import { CloudError } from "../util/errors.ts";

/** One row of a page: the object's id, and what the reader made of its document. */
export interface PoolRow<T> {
  /** `ID`. */
  readonly id: number;
  /** What the caller keeps of the row: plain data (it is copied with `structuredClone`). */
  readonly item: T;
}

/** One page as read. */
export interface PoolPage<T> {
  /** Its rows, in the answer's order. */
  readonly rows: readonly PoolRow<T>[];
  /** The length of the answer's document, in characters: sizes the next page. */
  readonly chars: number;
}

/** How to read a pool. */
export interface PoolReader<T> {
  /**
   * Who answers what, to begin messages (`oned at <url> answered one.vmpool.info`).
   */
  readonly label: string;
  /** Reads `size` rows from row `offset` (`start_id = offset`, `end_id = -size`). */
  page(offset: number, size: number): Promise<PoolPage<T>>;
  /** Reads the whole pool in one call (`start_id = end_id = -1`), for oned before 4.6. */
  whole?(): Promise<PoolPage<T>>;
}

/** How pages are sized; the defaults suit VM documents under a 4 MiB cap. */
export interface PageSizes {
  /** Rows of the first page. */
  readonly first?: number;
  /** Most rows of any page. */
  readonly most?: number;
  /** The characters a page should hold, from what rows took so far. */
  readonly chars?: number;
}

/** The fewest rows of a page: a page must take at least one row past the overlap. */
const FEWEST = 4;

/** Pages in a row that may take no new row (read again, or all seen) before the walk gives up. */
const MOST_IDLE_PAGES = 32;

/**
 * The defaults: about half a MiB of document a page (a few hundred full VM documents, a few
 * hundred KB on the wire, far under the 4 MiB cap), 4 to 1000 rows. Larger pages make fewer
 * calls but not faster listings, and a larger heap: measured in `lab/pool_scale.ts`.
 */
const DEFAULT_SIZES: Required<PageSizes> = { first: 100, most: 1000, chars: 512 * 1024 };

/** Rows a page repeats of the last one: 1 in 20, at least 1. */
function overlapOf(size: number): number {
  return Math.max(1, Math.floor(size / 20));
}

/** Whether an error is the client's refusal of an answer over its size cap. */
function isTooLarge(error: unknown): boolean {
  return error instanceof CloudError && error.code === "TooLarge";
}

/**
 * Reads a whole pool, page by page (see the module's documentation).
 *
 * @param reader Reads one page, and the whole pool where oned may have no offsets.
 * @param sizes How pages are sized.
 * @returns The items, once each, in the pool's order (by id, ascending or descending).
 * @throws {CloudError} what a page's read throws; `InvalidResponse` when a page's rows are not
 * in id order; `PoolChanging` when pages kept moving (VMs made or ended faster than they could
 * be read) for so many calls that none took a new row.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPool } from "./pool_pages.ts";
 *
 * // 250 VMs, newest first, as oned 5.8+ lists them.
 * const ids = Array.from({ length: 250 }, (_, i) => 249 - i);
 * const items = await readPool({
 *   label: "oned answered one.vmpool.info",
 *   page: (offset, size) => {
 *     const rows = ids.slice(offset, offset + size).map((id) => ({ id, item: `vm-${id}` }));
 *     return Promise.resolve({ rows, chars: rows.length * 2000 });
 *   },
 * });
 * assert.equal(items.length, 250);
 * assert.deepEqual(items.slice(0, 2), ["vm-249", "vm-248"]);
 * ```
 */
export async function readPool<T>(reader: PoolReader<T>, sizes: PageSizes = {}): Promise<T[]> {
  const { first, most, chars } = { ...DEFAULT_SIZES, ...sizes };
  const items: T[] = [];
  let size = Math.max(FEWEST, Math.min(first, most));
  let offset = 0;
  /** The last id taken, and whether ids go down. */
  let last: number | undefined;
  let descending: boolean | undefined;
  let rowChars = 0;
  let rowsRead = 0;
  let idle = 0;
  const past = (id: number) =>
    last === undefined || (descending === true ? id < last : descending === false && id > last);
  for (;;) {
    let page: PoolPage<T>;
    try {
      page = await reader.page(offset, size);
    } catch (error) {
      if (!isTooLarge(error) || size <= FEWEST) throw error;
      size = Math.max(FEWEST, Math.floor(size / 2));
      continue;
    }
    const ids = page.rows.map((row) => row.id);
    if (offset === 0 && last === undefined && ids.length === 0) {
      // An empty pool, or an oned before 4.6 that read the page as an id range.
      return reader.whole ? (await reader.whole()).rows.map((row) => row.item) : [];
    }
    if (ids.length >= 2) descending ??= ids[0]! > ids[1]!;
    if (ids.some((id, i) => i > 0 && (descending ? id >= ids[i - 1]! : id <= ids[i - 1]!))) {
      throw new CloudError(
        "InvalidResponse",
        `${reader.label} with a page whose rows are not in id order, which cannot be paged`,
      );
    }
    const taken = items.length;
    if (offset > 0 && (ids.length === 0 || past(ids[0]!))) {
      // Rows moved back past the offset since the last page: read from further back.
      offset = Math.max(0, offset - size);
    } else {
      for (const row of page.rows) {
        if (!past(row.id)) continue;
        // A copy: text read from a page may be a slice of its whole document, which the item
        // would keep alive, every page of the pool at once.
        items.push(structuredClone(row.item));
        last = row.id;
      }
      if (ids.length < size) return items;
      offset += ids.length - overlapOf(size);
      rowChars += page.chars;
      rowsRead += ids.length;
      size = Math.max(FEWEST, Math.min(most, Math.floor(chars / Math.max(1, rowChars / rowsRead))));
    }
    idle = items.length > taken ? 0 : idle + 1;
    if (idle > MOST_IDLE_PAGES) {
      throw new CloudError(
        "PoolChanging",
        `${reader.label} with pages that kept moving for ${MOST_IDLE_PAGES} calls (VMs made or ended faster than they could be read); the next run lists again`,
      );
    }
  }
}
