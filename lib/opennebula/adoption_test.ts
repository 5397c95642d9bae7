import assert from "node:assert/strict";
import type { ListedInstance } from "../core/provider.ts";
import { adoptions } from "./adoption.ts";
import type { LocalVm } from "./one_api.ts";

/** An instance OpenNebula's built-in EC2 driver launched for a VM. */
function recorded(id: string, vmId: number, more: Partial<ListedInstance> = {}): ListedInstance {
  return {
    id,
    recordedVmId: vmId,
    state: "running",
    nativeState: "running",
    facts: {},
    launchedByDriver: false,
    sectionAttributes: {},
    ...more,
  };
}

/** A VM oned has on host `aws` with a deploy id, in a state. */
function vm(id: number, deployId: string, state: number, lcmState = 0, host = "aws"): LocalVm {
  return { id, deployId, host, state, lcmState };
}

Deno.test("adoptions() takes the instances whose recorded VM oned has on the host, running, unknown or kept off it, with the instance as its deploy id", () => {
  const settled = [
    vm(1, "i-1", 3, 3), // RUNNING
    vm(2, "i-2", 3, 16), // UNKNOWN
    vm(3, "i-3", 8), // POWEROFF
    vm(4, "i-4", 5), // SUSPENDED
    vm(5, "i-5", 4), // STOPPED
    vm(6, "i-6", 9), // UNDEPLOYED
  ];
  const listed = settled.map((v) =>
    recorded(v.deployId!, v.id, v.state === 3 ? {} : { state: "stopped" })
  );
  assert.deepEqual(
    adoptions(listed, settled, "aws").map((a) => `${a.instance.id} ${a.vmId}`),
    ["i-1 1", "i-2 2", "i-3 3", "i-4 4", "i-5 5", "i-6 6"],
  );
});

Deno.test("adoptions() leaves an instance whose claim oned does not confirm, or whose VM may be moving", () => {
  const known = [
    vm(1, "i-9", 3, 3), // another instance is its deploy id
    vm(2, "i-2", 3, 3, "aws-b"), // on another host
    vm(3, "i-3", 3, 4), // MIGRATE
    vm(4, "i-4", 3, 2), // BOOT
    vm(5, "i-5", 1), // PENDING
    { id: 6, deployId: "i-6", host: "aws" }, // no states read
    vm(7, "i-7", 3, 3),
    vm(8, "i-8", 3, 3),
  ];
  const listed = [
    recorded("i-1", 1),
    recorded("i-2", 2),
    recorded("i-3", 3),
    recorded("i-4", 4),
    recorded("i-5", 5),
    recorded("i-6", 6),
    recorded("i-7", 7, { state: "terminating", nativeState: "shutting-down" }),
    recorded("i-8", 8, { launchedByDriver: true, ownerVmId: 8, ownerHost: "aws" }),
    recorded("i-10", 10), // oned has no VM 10
  ];
  assert.deepEqual(adoptions(listed, known, "aws"), []);
});
