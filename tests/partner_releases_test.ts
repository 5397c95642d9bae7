/**
 * A partner OpenNebula of each release the driver supports (4.14, 5.12, 6.10, 7.4) as a host,
 * end to end: the built `dist/` actions, run as oned 5.x+ runs them (`one_vmm.ts`), against
 * stand-in partners (`partner_oned.ts`) that take only their release's action names, in the
 * states that release accepts each in, and whose VMs spend real time in PROLOG, BOOT and
 * MIGRATE. A terminate arriving there, a deploy failing mid-boot, and a hard power-off after a
 * soft one the guest ignores each leave the partner as they should, with nothing sent that the
 * partner refuses.
 */

import assert from "node:assert/strict";
import { sharedTest as test } from "./harness.ts";
import { KeptFact } from "../lib/core/kept_fact.ts";
import { SimulatedVm } from "./one_vmm.ts";
import { type PartnerOned, type PartnerVm, startPartnerOned } from "./partner_oned.ts";

const PASSWORD = "Partner-s3cret";
const RELEASES = ["4.14.2", "5.12.13", "6.10.5", "7.4.0"] as const;
type Release = typeof RELEASES[number];
/** How long a partner VM is in PROLOG, in BOOT and migrating. */
const DWELL_MS = 1500;
/** As long, for a VM that must still be there once an action's process has started and asks. */
const LONG_DWELL_MS = 4000;
const BUSY = ["PROLOG", "BOOT", "MIGRATE"];

const tmp = await Deno.makeTempDir({ prefix: "hybrid-partner-releases-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const partners = new Map<Release, PartnerOned>();
for (const release of RELEASES) {
  const partner = await startPartnerOned({
    password: PASSWORD,
    release,
    stepMs: 100,
    dwellMs: Object.fromEntries(BUSY.map((state) => [state, DWELL_MS])),
  });
  partner.templates.set(7, { name: "small", context: {} });
  partners.set(release, partner);
}
globalThis.addEventListener("unload", () => {
  for (const partner of partners.values()) void partner.close();
});

/** Hosts per release: `r<release>` waits 10 s for a state, `r<release>-quick` 2.5 s. */
const hostOf = (release: Release, quick = false) => `r${release}${quick ? "-quick" : ""}`;
/** A host's partner: its release's stand-in, as the partner user. */
const partnerOf = (release: Release) => ({
  provider: "opennebula",
  endpoint: partners.get(release)!.url,
  user: "partner",
  password: PASSWORD,
});
const hosts = Object.fromEntries(RELEASES.flatMap((release) => [
  [hostOf(release), partnerOf(release)],
  [hostOf(release, true), { ...partnerOf(release), stateWaitSeconds: 2.5 }],
]));
const config = `${tmp}/hybrid_driver.json`;
const timing = { statePollSeconds: 0.05, stateWaitSeconds: 10 };
const shared = { pollStateDir: `${tmp}/state`, capacity: { vcpus: 64, memoryGiB: 64 } };
await Deno.writeTextFile(config, JSON.stringify({ defaults: { ...timing, ...shared }, hosts }), {
  mode: 0o600,
});
await Deno.chmod(config, 0o600);
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };

let nextVmId = 200;
let nextPartnerId = 700;

/** A local VM on a release's host, as oned 5.x+ drives it. */
function localVm(release: Release, quick = false): SimulatedVm {
  const host = hostOf(release, quick);
  return new SimulatedVm(
    "5.x",
    nextVmId++,
    host,
    { TEMPLATE_ID: "7" },
    tmp,
    ENV,
    undefined,
    "opennebula",
  );
}

/**
 * A partner VM the driver launched for a local VM, on its way up from a state (`[3, 1]`
 * PROLOG, `[3, 2]` BOOT, `[3, 3]` RUNNING), as a deploy that oned gave up on leaves it.
 */
function launched(release: Release, vm: SimulatedVm, from: [number, number]): PartnerVm {
  const partner = partners.get(release)!;
  const path: [number, number][] = [[3, 1], [3, 2], [3, 3]];
  const id = nextPartnerId++;
  const partnerVm: PartnerVm = {
    id,
    name: `one-${vm.id}-${vm.host}`,
    templateId: 7,
    state: from[0],
    lcm: from[1],
    next: path.slice(path.findIndex(([, lcm]) => lcm === from[1]) + 1),
    since: Date.now(),
    user: {
      REMOTE_OPENNEBULA: "YES",
      REMOTE_OPENNEBULA_VM_ID: String(vm.id),
      ONE_HYBRID_HOST: vm.host,
      ONE_HYBRID_DRIVER: "one-hybrid",
    },
    context: {},
    actions: [],
  };
  partner.vms.set(id, partnerVm);
  vm.deployId = `opennebula-hybrid-${id}`;
  return partnerVm;
}

/** The `one.vm.action` names a partner was sent for one of its VMs, accepted or refused. */
function actionsSent(release: Release, id: number): string[] {
  return partners.get(release)!.calls
    .filter((c) => c.method === "one.vm.action" && c.params[2] === id)
    .map((c) => String(c.params[1]));
}

/** The name that ends a VM on each release. */
const TERMINATE: Record<Release, string> = {
  "4.14.2": "delete",
  "5.12.13": "terminate-hard",
  "6.10.5": "terminate-hard",
  "7.4.0": "terminate-hard",
};

/** Waits (a few seconds at most) until a partner VM is DONE, and says whether it is. */
async function ends(release: Release, id: number): Promise<boolean> {
  const partner = partners.get(release)!;
  for (let i = 0; i < 80 && partner.stateOf(id)[0] !== 6; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return partner.stateOf(id)[0] === 6;
}

test("on every release, a terminate arriving while the partner VM is in PROLOG, BOOT or migrating ends it, sending only a name the partner accepts then (4.14: delete at once; 5.x+: terminate-hard once it runs)", async () => {
  for (const partner of partners.values()) {
    for (const state of BUSY) partner.dwellMs[state] = LONG_DWELL_MS;
  }
  try {
    await Promise.all(RELEASES.map(async (release) => {
      const partner = partners.get(release)!;
      const inProlog = localVm(release);
      const inBoot = localVm(release);
      const migrating = localVm(release);
      const prolog = launched(release, inProlog, [3, 1]);
      const boot = launched(release, inBoot, [3, 2]);
      const moving = launched(release, migrating, [3, 3]);
      partner.migrate(moving.id);
      const replies = await Promise.all([
        inProlog.terminate(true),
        inBoot.terminate(true),
        migrating.terminate(true),
      ]);
      assert.deepEqual(replies, [
        `CANCEL SUCCESS ${inProlog.id} -`,
        `CANCEL SUCCESS ${inBoot.id} -`,
        `CANCEL SUCCESS ${migrating.id} -`,
      ], release);
      for (const vm of [prolog, boot, moving]) {
        assert.deepEqual(partner.stateOf(vm.id), [6, 0], `${release}: ${vm.name} is DONE`);
        assert.deepEqual(actionsSent(release, vm.id), [TERMINATE[release]], release);
      }
    }));
  } finally {
    for (const partner of partners.values()) {
      for (const state of BUSY) partner.dwellMs[state] = DWELL_MS;
    }
  }
});

test("on every release, a deploy that times out while its partner VM boots leaves no partner VM: it is terminated once the partner accepts it, and the failure says so", async () => {
  await Promise.all(RELEASES.map(async (release) => {
    const partner = partners.get(release)!;
    const before = new Set(partner.vms.keys());
    const vm = localVm(release, true);
    const reply = await vm.deploy();
    const created = [...partner.vms.values()].filter((v) => !before.has(v.id));
    assert.equal(created.length, 1, release);
    const id = created[0]!.id;
    assert.match(
      reply,
      new RegExp(
        `^DEPLOY FAILURE ${vm.id} Timed out after [\\d.]+ s waiting for opennebula-hybrid-${id} to be running; it is (PROLOG|BOOT); partner VM opennebula-hybrid-${id} was terminated$`,
      ),
      release,
    );
    assert.ok(await ends(release, id), `${release}: partner VM ${id} is DONE`);
    assert.deepEqual(actionsSent(release, id), [TERMINATE[release]], release);
  }));
});

test("a hard power-off or undeploy after a soft one the guest ignores takes over on 6.10 and 7.4 (poweroff-hard, undeploy-hard); 4.14 and 5.12 cannot, and the driver waits, sending nothing they refuse", async () => {
  for (const partner of partners.values()) partner.guestIgnoresAcpi = true;
  try {
    await Promise.all(RELEASES.map(async (release) => {
      const escalates = release.startsWith("6.") || release.startsWith("7.");
      for (const how of ["poweroff", "undeploy"] as const) {
        const vm = localVm(release, true);
        const running = launched(release, vm, [3, 3]);
        const soft = await (how === "poweroff" ? vm.poweroff() : vm.undeploy());
        const waiting = how === "poweroff" ? "SHUTDOWN_POWEROFF" : "SHUTDOWN_UNDEPLOY";
        assert.match(
          soft,
          new RegExp(
            `^SHUTDOWN FAILURE ${vm.id} Timed out after [\\d.]+ s waiting for .* to be stopped; it is ${waiting}$`,
          ),
          release,
        );
        const hard = await (how === "poweroff" ? vm.poweroff(true) : vm.undeploy(true));
        const what = `${release} ${how}`;
        if (escalates) {
          assert.equal(hard, `CANCEL SUCCESS ${vm.id} -`, what);
          assert.deepEqual(
            partners.get(release)!.stateOf(running.id),
            how === "poweroff" ? [8, 0] : [9, 0],
            what,
          );
          assert.deepEqual(actionsSent(release, running.id), [how, `${how}-hard`], what);
        } else {
          assert.match(hard, new RegExp(`^CANCEL FAILURE ${vm.id} Timed out after `), what);
          assert.deepEqual(actionsSent(release, running.id), [how], what);
        }
      }
    }));
  } finally {
    for (const partner of partners.values()) partner.guestIgnoresAcpi = false;
  }
});

test("the partner's release is asked once per endpoint and kept beside the shared listing, not once per action", async () => {
  const asked = RELEASES.map((release) => partners.get(release)!.count("one.system.version"));
  await Promise.all(RELEASES.map(async (release) => {
    const vm = localVm(release);
    launched(release, vm, [3, 3]);
    assert.equal(await vm.terminate(true), `CANCEL SUCCESS ${vm.id} -`);
  }));
  assert.deepEqual(
    RELEASES.map((release) => partners.get(release)!.count("one.system.version")),
    asked.map((n) => Math.max(n, 1)),
    "at most the first action of each endpoint asks",
  );
  const kept = [...Deno.readDirSync(`${tmp}/state`)].filter((e) => e.name.endsWith(".release"));
  assert.equal(kept.length, RELEASES.length);
  const values = kept.map((e) => JSON.parse(Deno.readTextFileSync(`${tmp}/state/${e.name}`)).value);
  assert.deepEqual(values.sort(), [...RELEASES].sort());
  for (const entry of kept) {
    assert.equal(Deno.statSync(`${tmp}/state/${entry.name}`).mode! & 0o777, 0o600);
  }
});

test("a kept release that is out of date (the partner was upgraded or replaced) is asked again when the partner refuses the name it chose", async () => {
  const release: Release = "4.14.2";
  const partner = partners.get(release)!;
  const kept = new KeptFact({
    dir: `${tmp}/state`,
    uid: Deno.statSync(tmp).uid, // this process may not ask its own (no --allow-sys)
    kind: "opennebula",
    scope: partner.url,
    name: "release",
    maxAgeSeconds: 3600,
  });
  await kept.write("6.10.5");
  const asked = partner.count("one.system.version");
  const vm = localVm(release);
  const running = launched(release, vm, [3, 3]);
  assert.equal(await vm.terminate(true), `CANCEL SUCCESS ${vm.id} -`);
  assert.deepEqual(actionsSent(release, running.id), ["terminate-hard", "shutdown-hard"]);
  assert.equal(partner.count("one.system.version"), asked + 1);
  assert.equal(await kept.read(), release);
});
