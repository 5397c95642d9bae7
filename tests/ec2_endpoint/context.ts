/**
 * What an action handler gets, and what it returns.
 *
 * @module
 */

import type { ResolvedOptions } from "./options.ts";
import type { Params } from "./query.ts";
import type { RegionState } from "./region_state.ts";
import type { Xml } from "./xml.ts";

/** The request as a handler sees it. */
export interface ActionContext {
  /** The state of the region the request was signed for (already brought up to `now`). */
  readonly region: RegionState;
  /** The request's parameters. */
  readonly params: Params;
  /** The current time (ms). */
  readonly now: number;
  /** The endpoint's options. */
  readonly options: ResolvedOptions;
}

/** An action: validates, changes state, and returns the response elements after `requestId`. */
export type ActionHandler = (context: ActionContext) => Xml;
