import assert from "node:assert/strict";
import type { ListedInstance } from "../core/provider.ts";
import {
  adoptImported,
  importTemplate,
  resolveShared,
  sharedVmIds,
  sortInstances,
} from "./im_probes.ts";

function listed(id: string, extra: Partial<ListedInstance>): ListedInstance {
  return {
    id,
    state: "running",
    nativeState: "running",
    facts: {},
    launchedByDriver: false,
    sectionAttributes: {},
    ...extra,
  };
}

Deno.test("sortInstances() keeps this host's live VMs, live wild instances, and names orphans only when oned was asked", () => {
  const mine = listed("i-1", { launchedByDriver: true, ownerHost: "a", ownerVmId: 1 });
  const stopped = listed("i-2", {
    launchedByDriver: true,
    ownerHost: "a",
    ownerVmId: 2,
    state: "stopped",
  });
  const old = listed("i-3", {
    launchedByDriver: true,
    ownerHost: "a",
    ownerVmId: 1,
    state: "terminated",
  });
  const other = listed("i-4", { launchedByDriver: true, ownerHost: "b", ownerVmId: 4 });
  const wild = listed("i-5", {});
  const wildStopped = listed("i-6", { state: "stopped" });
  const all = [mine, stopped, old, other, wild, wildStopped];
  assert.deepEqual(sortInstances(all, "a", undefined), {
    own: [mine, stopped],
    wild: [wild],
    orphans: [],
  });
  assert.deepEqual(sortInstances(all, "a", new Set([1])), {
    own: [mine],
    wild: [wild],
    orphans: [stopped],
  });
});

Deno.test("adoptImported() gives an instance OpenNebula imported to its VM and host, so it is no longer wild there nor anywhere else", () => {
  const imported = listed("i-7", {});
  const stillWild = listed("i-8", {});
  const mine = listed("i-1", { launchedByDriver: true, ownerHost: "a", ownerVmId: 1 });
  const known = [{ id: 1, deployId: "i-1", host: "a" }, { id: 40, deployId: "i-7", host: "a" }];
  const all = adoptImported([mine, imported, stillWild], known);
  const adopted = { ...imported, launchedByDriver: true, ownerVmId: 40, ownerHost: "a" };
  assert.deepEqual(all, [mine, adopted, stillWild]);
  assert.deepEqual(sortInstances(all, "a", new Set([1, 40])), {
    own: [mine, adopted],
    wild: [stillWild],
    orphans: [],
  });
  assert.deepEqual(sortInstances(all, "b", new Set([1, 40])), {
    own: [],
    wild: [stillWild],
    orphans: [],
  });
  // oned's VM without a host: no host reports it, and it is not offered again.
  const hostless = adoptImported([imported], [{ id: 40, deployId: "i-7" }]);
  assert.deepEqual(sortInstances(hostless, "a", undefined), { own: [], wild: [], orphans: [] });
});

Deno.test("sortInstances() never offers for import an instance OpenNebula's built-in driver launched for a VM, adopted or not", () => {
  const claimed = listed("i-1", { recordedVmId: 40 });
  const wild = listed("i-2", {});
  for (const known of [undefined, new Set<number>(), new Set([40])]) {
    assert.deepEqual(sortInstances([claimed, wild], "a", known), {
      own: [],
      wild: [wild],
      orphans: [],
    });
  }
  const [taken] = adoptImported([claimed], [{ id: 40, deployId: "i-1", host: "a" }]);
  assert.deepEqual(sortInstances([taken!], "a", new Set([40])).own, [taken]);
});

Deno.test("importTemplate() escapes quotes and backslashes in names and values, and falls back to the listed memory", () => {
  const text = importTemplate(
    listed("i-7", {
      name: 'say "hi" \\o/',
      memoryKiB: 524288,
      sectionAttributes: { AMI: "ami-1" },
    }),
    "h",
    "ec2",
    undefined,
    "4.14",
  );
  assert.equal(
    text,
    [
      'NAME = "Instance from say \\"hi\\" \\\\o/ (i-7)"',
      'CPU = "1"',
      'VCPU = "1"',
      'MEMORY = "512"',
      'HYPERVISOR = "ec2"',
      "PUBLIC_CLOUD = [",
      '  TYPE = "ec2",',
      '  AMI = "ami-1" ]',
      'IMPORT_VM_ID = "i-7"',
      'SCHED_REQUIREMENTS = "NAME=\\"h\\""',
      'DESCRIPTION = "Instance imported from ec2: i-7"',
      "",
    ].join("\n"),
  );
});

Deno.test("resolveShared() keeps the instance oned knows of a VM several instances claim, makes the others orphans, and reports none when oned cannot tell", () => {
  const i = (id: string, ownerVmId: number, state: "running" | "stopped" = "running") => ({
    id,
    ownerVmId,
    state,
    nativeState: state,
    facts: {},
    launchedByDriver: true,
    ownerHost: "aws",
    sectionAttributes: {},
  });
  const own = [i("i-1", 4), i("i-2", 4, "stopped"), i("i-3", 5), i("i-4", 6), i("i-5", 6)];
  assert.deepEqual(sharedVmIds(own), [4, 6]);
  // VM 4: DEPLOY_ID names the stopped one; VM 6: oned's deploy id matches neither.
  const r = resolveShared(own, new Map([[4, "i-2"], [6, "i-9"]]));
  assert.deepEqual(r.own.map((x) => x.id), ["i-2", "i-3"]);
  assert.deepEqual(r.orphans.map((x) => x.id), ["i-1"]);
  assert.deepEqual(r.unresolved, [6]);
  // oned not asked: neither shared VM is reported, no instance is called an orphan.
  const blind = resolveShared(own, new Map());
  assert.deepEqual(blind.own.map((x) => x.id), ["i-3"]);
  assert.deepEqual(blind.orphans, []);
  assert.deepEqual(blind.unresolved, [4, 6]);
});
