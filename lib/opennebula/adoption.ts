/**
 * Which instances another OpenNebula driver launched this driver takes over (adopts) on a host:
 * those OpenNebula's built-in EC2 driver (4.x–6.10, removed in 7.0) recorded for a VM (its
 * `ONE_ID` tag, {@link ListedInstance.recordedVmId}) that oned still has on the host with the
 * instance as its `DEPLOY_ID`, as an upgrade leaves them. The record alone is a claim (another
 * OpenNebula sharing the account tags `ONE_ID` too; a VM id may have been another VM's in an
 * earlier database); oned's deploy id is the proof. Deciding is pure; the host probes that
 * offer wild instances tag the chosen ones (`actions/im_probes.ts`).
 *
 * @module
 */

import type { ListedInstance } from "../core/provider.ts";
import { stateLabel } from "../one_xmlrpc/one_states.ts";
import type { LocalVm } from "./one_api.ts";

/** An instance to adopt, and the VM oned has it as. */
export interface Adoption {
  /** The instance. */
  readonly instance: ListedInstance;
  /** The OpenNebula VM whose deploy id it is. */
  readonly vmId: number;
}

/**
 * The states in which oned keeps a VM where it is: running (or lost track of) on its host, or
 * kept off it. In the others an action may move the VM to another host meanwhile (a migration,
 * a deploy), so the host to mark it with is not settled yet.
 */
const SETTLED_STATES = new Set([
  "RUNNING",
  "UNKNOWN",
  "POWEROFF",
  "SUSPENDED",
  "STOPPED",
  "UNDEPLOYED",
]);

/** States of an instance that no longer exists, or is on its way out. */
const ENDED = new Set(["terminated", "terminating"]);

/**
 * The instances of a listing to adopt for a host: unmarked by this driver, recording a VM id,
 * and that VM is one oned has, on this host, in a settled state, with this instance as its
 * deploy id.
 *
 * @param listed Every instance of the host's account and region.
 * @param known The local oned's VMs (`one.vmpool.info`).
 * @param host OpenNebula host name.
 * @returns The instances to adopt, in listing order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adoptions } from "./adoption.ts";
 * const old = (id: string, recordedVmId: number) => ({ id, recordedVmId, state: "running" as const,
 *   nativeState: "running", facts: {}, launchedByDriver: false, sectionAttributes: {} });
 * const known = [
 *   { id: 40, deployId: "i-1", host: "aws", state: 3, lcmState: 3 }, // RUNNING
 *   { id: 41, deployId: "i-9", host: "aws", state: 3, lcmState: 3 }, // another instance
 *   { id: 42, deployId: "i-3", host: "aws", state: 3, lcmState: 4 }, // MIGRATE
 * ];
 * const chosen = adoptions([old("i-1", 40), old("i-2", 41), old("i-3", 42)], known, "aws");
 * assert.deepEqual(chosen.map((a) => [a.instance.id, a.vmId]), [["i-1", 40]]);
 * ```
 */
export function adoptions(
  listed: readonly ListedInstance[],
  known: readonly LocalVm[],
  host: string,
): Adoption[] {
  const byId = new Map(known.map((vm) => [vm.id, vm]));
  const chosen: Adoption[] = [];
  for (const instance of listed) {
    const vmId = instance.recordedVmId;
    if (instance.launchedByDriver || vmId === undefined || ENDED.has(instance.state)) continue;
    const vm = byId.get(vmId);
    if (vm?.deployId !== instance.id || vm.host !== host) continue;
    if (vm.state === undefined || vm.lcmState === undefined) continue;
    if (SETTLED_STATES.has(stateLabel(vm.state, vm.lcmState))) chosen.push({ instance, vmId });
  }
  return chosen;
}
