/**
 * Every action the driver ships, by the file name oned runs. Loaded lazily, so an action
 * pays only for the modules it imports. `scripts/build.ts` builds one executable per entry.
 *
 * @module
 */

import type { Action } from "./action.ts";

/** Loads one action module. */
export type ActionLoader = () => Promise<{ default: Action }>;

/** VMM actions, under `remotes/vmm/<name>/`. */
export const VMM_ACTIONS: Readonly<Record<string, ActionLoader>> = {
  deploy: () => import("../actions/deploy.ts"),
  poll: () => import("../actions/poll.ts"),
  shutdown: () => import("../actions/shutdown.ts"),
  cancel: () => import("../actions/cancel.ts"),
};
