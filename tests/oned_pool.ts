/**
 * What oned answers to a VM pool listing (`one.vmpool.info` and `one.vmpool.infoextended`:
 * session, filter_flag, start_id, end_id, state), for the stand-ins (`oned_xmlrpc.ts`,
 * `partner_oned.ts`, `fakes/partner_api.ts`), as OpenNebula's own code reads the parameters
 * (RequestManagerPoolInfoFilter.cc, PoolSQL.cc; research in the issue's `paging.md`):
 *
 * - `end_id >= -1`: an id range, `oid >= start_id [AND oid <= end_id]`, only when
 *   `start_id != -1` (4.6+; before 4.6 whatever `end_id`).
 * - `end_id < -1` (4.6+): `LIMIT start_id, -end_id`: `start_id` is a row offset, `-end_id` the
 *   page size, no id filter. Before 4.6 it is an id range `oid <= end_id`: nothing.
 * - Rows are ordered by id: ascending up to 5.6, descending by default from 5.8
 *   (`API_LIST_ORDER`, which an administrator may set either way).
 * - `filter_flag` below -3 (4.x, 5.0) or -4 (5.2+) is refused: `Incorrect filter_flag`; a state
 *   outside -2..9 (4.x) or -2..11 (5.0+) too: `Incorrect filter_flag, state` (both 0x1000).
 *   -2 lists every state, -1 every state but DONE (6), another number that state only.
 *
 * @module
 */

/** A VM as a pool listing filters it. */
export interface PoolVm {
  readonly id: number;
  /** `STATE`. */
  readonly state: number;
  /** The owner's user id. */
  readonly uid: number;
}

/** oned's `XML_RPC_API` error code: the parameters make no sense. */
export const XML_RPC_API = 0x1000;

/** What a pool listing answers: the VMs' ids in order, a refusal, or a type fault. */
export type PoolAnswer =
  | { readonly ids: readonly number[] }
  | { readonly refusal: string; readonly code: number }
  | { readonly fault: string };

/** How rows are ordered (`API_LIST_ORDER`). */
export type ListOrder = "ASC" | "DESC";

/** Whether the release answering is this one (`5.8`) or later. */
export type AtLeast = (release: string) => boolean;

/**
 * Lists a VM pool as oned does.
 *
 * @param params The parameters after the session, as received.
 * @param vms Every VM oned has (DONE ones included).
 * @param atLeast Whether the release answering is a given one or later.
 * @param order How rows are ordered (`API_LIST_ORDER`); the release's default when not given:
 *   descending from 5.8.
 * @returns The ids listed, in order, or oned's refusal, or a type fault.
 */
export function listPool(
  params: readonly unknown[],
  vms: Iterable<PoolVm>,
  atLeast: AtLeast,
  order: ListOrder = atLeast("5.8") ? "DESC" : "ASC",
): PoolAnswer {
  const [flag, start, end, state] = params;
  if (
    params.length < 4 || ![flag, start, end, state].every((p) => Number.isInteger(p))
  ) {
    return { fault: "Type mismatch: one.vmpool.info takes four ints after the session" };
  }
  const [filter, startId, endId, stateFilter] = [flag, start, end, state] as number[];
  if (filter! < (atLeast("5.2") ? -4 : -3)) {
    return { refusal: "Incorrect filter_flag", code: XML_RPC_API };
  }
  const lastState = atLeast("5.0") ? 11 : 9;
  if (stateFilter! < -2 || stateFilter! > lastState) {
    return { refusal: "Incorrect filter_flag, state", code: XML_RPC_API };
  }
  const paging = atLeast("4.6") && endId! < -1;
  const byId = !paging && startId !== -1;
  const rows = [...vms].filter((vm) =>
    (filter! < 0 || vm.uid === filter) &&
    (stateFilter === -2 || (stateFilter === -1 ? vm.state !== 6 : vm.state === stateFilter)) &&
    (!byId || (vm.id >= startId! && (endId === -1 || vm.id <= endId!)))
  ).map((vm) => vm.id).sort((a, b) => order === "DESC" ? b - a : a - b);
  if (!paging) return { ids: rows };
  if (startId! < 0) return { refusal: "Internal error", code: 0x2000 };
  return { ids: rows.slice(startId, startId! - endId!) };
}
