/**
 * Pagination of Describe calls: `MaxResults` within the action's range and an opaque
 * `NextToken` that resumes after the last item returned (so items that appear or vanish
 * between pages never make another item repeat or go missing).
 *
 * @module
 */

import { Ec2Error, errors } from "./errors.ts";
import { intParam, type Params } from "./query.ts";

/** Where a page starts and how long it is. */
export interface PageRequest {
  /** Items with a key greater than this come next (0 from the start). */
  readonly after: number;
  /** Page size; undefined for everything. */
  readonly size: number | undefined;
}

/** One page of items. */
export interface Page<T> {
  /** The page's items. */
  readonly items: T[];
  /** The token for the next page, when more items follow. */
  readonly nextToken: string | undefined;
}

/**
 * Reads `MaxResults` and `NextToken`.
 *
 * @param params The request's parameters.
 * @param range Allowed `MaxResults` (inclusive) and the page size when only a token is given.
 * @param scope What the token must have been issued for (action, region, filters).
 * @returns The page request.
 * @throws {Ec2Error} `InvalidParameterValue` for `MaxResults` out of range,
 *   `InvalidPaginationToken` for a token not issued for this query.
 */
export function readPageRequest(
  params: Params,
  range: { readonly min: number; readonly max: number },
  scope: string,
): PageRequest {
  const max = intParam(params, "MaxResults");
  if (max !== undefined && max < range.min) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `Value ( ${max} ) for parameter maxResults is invalid. Expecting a value greater than ${range.min}.`,
    );
  }
  if (max !== undefined && max > range.max) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `Value ( ${max} ) for parameter maxResults is invalid. Expecting a value less than or equal to ${range.max}.`,
    );
  }
  const token = params["NextToken"];
  const after = token === undefined || token === "" ? 0 : decodeToken(token, scope);
  const size = max ?? (after > 0 ? range.max : undefined);
  return { after, size };
}

/**
 * Cuts one page out of items ordered by key.
 *
 * @param items Every matching item, ordered by ascending key.
 * @param key An item's key (unique, ascending).
 * @param request Where to start and how many.
 * @param scope The query the token is bound to.
 * @returns The page and the token for the rest.
 */
export function paginate<T>(
  items: readonly T[],
  key: (item: T) => number,
  request: PageRequest,
  scope: string,
): Page<T> {
  const rest = items.filter((item) => key(item) > request.after);
  if (request.size === undefined || rest.length <= request.size) {
    return { items: rest, nextToken: undefined };
  }
  const page = rest.slice(0, request.size);
  return { items: page, nextToken: encodeToken(key(page[page.length - 1]!), scope) };
}

function encodeToken(after: number, scope: string): string {
  return btoa(JSON.stringify({ v: 1, after, scope })).replace(/=+$/, "");
}

function decodeToken(token: string, scope: string): number {
  try {
    const padded = token + "=".repeat((4 - (token.length % 4)) % 4);
    const data = JSON.parse(atob(padded)) as { v?: unknown; after?: unknown; scope?: unknown };
    if (
      data.v === 1 && typeof data.after === "number" && Number.isInteger(data.after) &&
      data.after >= 0 && data.scope === scope
    ) {
      return data.after;
    }
  } catch {
    // falls through to the error
  }
  throw errors.invalidToken();
}
