/**
 * Instance states, their codes, and the reasons EC2 gives for a state.
 *
 * @module
 */

/** The six instance states. */
export type InstanceStateName =
  | "pending"
  | "running"
  | "shutting-down"
  | "terminated"
  | "stopping"
  | "stopped";

/** The low byte of `instanceState.code` for each state. */
export const STATE_CODES: Readonly<Record<InstanceStateName, number>> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

/** `stateReason` of an instance. */
export interface StateReason {
  /** Reason code (`Client.UserInitiatedShutdown`, `pending`, ...). */
  readonly code: string;
  /** Message. */
  readonly message: string;
}

/** The state reason of a launch or start in progress. */
export const PENDING_REASON: StateReason = { code: "pending", message: "pending" };

/** The state reason of a stop or termination made through the API. */
export const USER_SHUTDOWN_REASON: StateReason = {
  code: "Client.UserInitiatedShutdown",
  message: "Client.UserInitiatedShutdown: User initiated shutdown",
};

/**
 * `StateTransitionReason` text: `User initiated (2024-01-02 03:04:05 GMT)`.
 *
 * @param who `User` or `Server`.
 * @param at When, in ms since the epoch.
 * @returns The text.
 */
export function transitionReason(who: "User" | "Server", at: number): string {
  const stamp = new Date(at).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "");
  return `${who} initiated (${stamp} GMT)`;
}

/** What the state that follows another after a delay is, if any. */
export const FOLLOWS: Readonly<Partial<Record<InstanceStateName, InstanceStateName>>> = {
  pending: "running",
  stopping: "stopped",
  "shutting-down": "terminated",
};
