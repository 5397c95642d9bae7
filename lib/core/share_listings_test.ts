import assert from "node:assert/strict";
import { PollState } from "./poll_state.ts";
import type { Instance, ListedInstance, Provider } from "./provider.ts";
import { type EveryMember, type ListingShare, opening, shareListings } from "./share_listings.ts";

const RUNNING: ListedInstance = {
  id: "i-0123456789abcdef0",
  state: "running",
  nativeState: "running",
  memoryKiB: 1048576,
  facts: { STATE: "running" },
  launchedByDriver: true,
  sectionAttributes: {},
};
const STOPPED: Instance = {
  id: "i-0fedcba9876543210",
  state: "stopped",
  nativeState: "stopped",
  facts: { STATE: "stopped" },
};

/** A provider whose every member logs its name, an account quota included. */
function loggingProvider(log: string[]): EveryMember<Provider> {
  const did = <T>(what: string, value: T) => () => {
    log.push(what);
    return Promise.resolve(value);
  };
  return {
    factPrefix: "AWS",
    location: "here",
    locationLabel: "region here",
    prepareLaunch: () => ({ size: "t3.micro", run: did("run", RUNNING) }),
    describe: did("describe", STOPPED),
    findLaunched: did("findLaunched", []),
    list: did("list", [RUNNING]),
    listForHost: did("listForHost", []),
    sizes: did("sizes", new Map()),
    powerOff: did("powerOff", STOPPED),
    resume: did("resume", RUNNING),
    reboot: did("reboot", undefined),
    reset: did("reset", RUNNING),
    terminate: did("terminate", "terminated" as const),
    requestTerminate: did("requestTerminate", undefined),
    snapshot: did("snapshot", "ami-1"),
    rehome: did("rehome", undefined),
    adopt: did("adopt", undefined),
    quotaCapacity: did("quotaCapacity", { vcpus: [], memoryGiB: [], instances: [] }),
  };
}

/** A provider opened on first need, counting how often it is opened. */
function counted(provider: EveryMember<Provider>) {
  let opens = 0;
  const inner = opening(() => {
    opens++;
    return Promise.resolve(provider as Provider);
  });
  return { inner, opens: () => opens };
}

/** A scope's shared state in a fresh private directory, and a share serving reads from it. */
async function sharedState() {
  const dir = await Deno.makeTempDir();
  const state = () =>
    PollState.open({
      dir,
      kind: "ec2",
      scope: '["us-east-1"]',
      windowSeconds: 60,
      uid: Deno.statSync(dir).uid,
    });
  const share: ListingShare = {
    markChanged: async () => (await state()).markChanged(),
    reads: { state, signal: new AbortController().signal },
  };
  return { state, share, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("shareListings() marks the listing stale before and after each change of an instance, and not around reads", async () => {
  const log: string[] = [];
  const { inner } = counted(loggingProvider(log));
  await inner.open();
  let failMark = false;
  const provider = shareListings(inner, {
    markChanged: () => {
      log.push("mark");
      return failMark ? Promise.reject(new Error("disk full")) : Promise.resolve();
    },
  });
  const launch = provider.prepareLaunch({} as never);
  assert.equal(launch.size, "t3.micro");
  await launch.run();
  await provider.powerOff("i-1", { hard: false, reason: "poweroff" });
  await provider.resume("i-1");
  await provider.reboot("i-1");
  await provider.reset("i-1");
  await provider.terminate("i-1");
  await provider.requestTerminate("i-1");
  const changes = ["run", "powerOff", "resume", "reboot", "reset", "terminate", "requestTerminate"];
  assert.deepEqual(log, changes.flatMap((c) => ["mark", c, "mark"]));
  log.length = 0;
  await provider.describe("i-1");
  await provider.list();
  await provider.listForHost("h");
  await provider.findLaunched(1, "h");
  await provider.sizes([]);
  await provider.snapshot("i-1", "n", 1);
  await provider.rehome("i-1", "h2", 1);
  await provider.adopt!("i-1", "h", 1);
  await provider.quotaCapacity!();
  assert.deepEqual(log, [
    "describe",
    "list",
    "listForHost",
    "findLaunched",
    "sizes",
    "snapshot",
    "rehome",
    "adopt",
    "quotaCapacity",
  ]);
  log.length = 0;
  failMark = true;
  await assert.rejects(provider.terminate("i-1"), /disk full/);
  assert.deepEqual(log, ["mark"], "nothing is done when the first mark fails");
  assert.equal(provider.factPrefix, "AWS");
  assert.equal(provider.location, "here");
  assert.equal(provider.locationLabel, "region here");
});

Deno.test("shareListings() keeps a provider's account quota and adoption, and adds neither to one without", async () => {
  const { quotaCapacity: _, adopt: _adopt, ...plain } = loggingProvider([]);
  const without = counted({ ...plain, quotaCapacity: undefined, adopt: undefined });
  await without.inner.open();
  const never = () => Promise.reject(new Error("never marked for a read or a new mark"));
  const bare = shareListings(without.inner, { markChanged: never });
  assert.equal(bare.quotaCapacity, undefined);
  assert.equal(bare.adopt, undefined);
  const log: string[] = [];
  const withQuota = counted(loggingProvider(log));
  await withQuota.inner.open();
  const provider = shareListings(withQuota.inner, { markChanged: never });
  assert.deepEqual(await provider.quotaCapacity!(), { vcpus: [], memoryGiB: [], instances: [] });
  await provider.adopt!("i-1", "h", 7);
  assert.deepEqual(log, ["quotaCapacity", "adopt"]);
});

Deno.test("shareListings() answers a describe from a fresh shared listing without opening the provider", async () => {
  await using t = await sharedState();
  await (await t.state()).record(Date.now(), { factPrefix: "AWS", instances: [RUNNING] });
  const log: string[] = [];
  const { inner, opens } = counted(loggingProvider(log));
  const provider = shareListings(inner, t.share);
  assert.deepEqual(await provider.describe(RUNNING.id), {
    id: RUNNING.id,
    state: "running",
    nativeState: "running",
    memoryKiB: 1048576,
    facts: { STATE: "running" },
  });
  assert.equal(provider.factPrefix, "AWS", "the fact prefix is the listing's");
  assert.equal(opens(), 0, "the provider is never opened");
  assert.deepEqual(log, []);
  assert.throws(() => provider.location, /location is asked for before the provider is opened/);
});

Deno.test("shareListings() lists the account for a stale listing, and describes alone an instance the listing misses", async () => {
  await using t = await sharedState();
  const log: string[] = [];
  const { inner, opens } = counted(loggingProvider(log));
  const provider = shareListings(inner, t.share);
  assert.equal((await provider.describe(RUNNING.id)).state, "running");
  assert.deepEqual(log, ["list"], "one listing, kept for the polls that follow");
  assert.equal((await (await t.state()).fresh())?.find(RUNNING.id)?.state, "running");
  assert.deepEqual(await provider.describe(STOPPED.id), STOPPED);
  assert.deepEqual(log, ["list", "describe"], "served from the fresh listing, then asked alone");
  assert.equal(opens(), 1);
});

Deno.test("shareListings() serves no describe from a listing that a change marked stale", async () => {
  await using t = await sharedState();
  await (await t.state()).record(Date.now() - 1, { factPrefix: "AWS", instances: [RUNNING] });
  const log: string[] = [];
  const { inner } = counted(loggingProvider(log));
  await inner.open();
  const provider = shareListings(inner, t.share);
  await provider.reboot(RUNNING.id);
  await provider.describe(RUNNING.id);
  assert.deepEqual(log, ["reboot", "list"], "the listing after the change is a new one");
});

Deno.test("shareListings() keeps its own listing for the polls that follow, and then asks the cloud to describe", async () => {
  await using t = await sharedState();
  const log: string[] = [];
  const { inner } = counted(loggingProvider(log));
  const provider = shareListings(inner, t.share);
  assert.deepEqual(await provider.list(), [RUNNING]);
  assert.equal((await (await t.state()).fresh())?.find(RUNNING.id)?.state, "running");
  assert.deepEqual(await provider.describe(RUNNING.id), STOPPED, "the cloud's answer");
  assert.deepEqual(log, ["list", "describe"]);
});

Deno.test("shareListings() lists even when the listing cannot be kept (sharing is only a saving), while a describe that cannot share fails", async () => {
  const log: string[] = [];
  const { inner } = counted(loggingProvider(log));
  const share: ListingShare = {
    markChanged: () => Promise.resolve(),
    reads: {
      state: () => Promise.reject(new Error("Cannot share polls through /x")),
      signal: new AbortController().signal,
    },
  };
  assert.deepEqual(await shareListings(inner, share).list(), [RUNNING]);
  await assert.rejects(
    shareListings(inner, share).describe(RUNNING.id),
    /Cannot share polls through \/x/,
  );
  assert.deepEqual(log, ["list"], "the describe asked nothing");
});

Deno.test("shareListings() without reads asks the cloud for every read and keeps no listing", async () => {
  await using t = await sharedState();
  await (await t.state()).record(Date.now(), { factPrefix: "AWS", instances: [RUNNING] });
  const log: string[] = [];
  const { inner } = counted(loggingProvider(log));
  const provider = shareListings(inner, { markChanged: t.share.markChanged });
  assert.deepEqual(await provider.describe(RUNNING.id), STOPPED);
  await (await t.state()).markChanged();
  await provider.list();
  assert.deepEqual(log, ["describe", "list"]);
  assert.equal(await (await t.state()).fresh(), undefined, "the listing was not kept");
});

Deno.test("shareListings() handles every member of Provider: leaving one out is a compile error", async () => {
  const full = loggingProvider([]);
  const { quotaCapacity: _quota, ...withoutQuota } = full;
  // @ts-expect-error an optional member left out
  const _noQuota: EveryMember<Provider> = withoutQuota;
  const { rehome: _rehome, ...withoutRehome } = full;
  // @ts-expect-error a member left out
  const _noRehome: EveryMember<Provider> = withoutRehome;
  // @ts-expect-error a member added to Provider and not handled
  const _newer: EveryMember<Provider & { quiesce(id: string): Promise<void> }> = full;
  const { inner } = counted(full);
  await inner.open();
  const shared = shareListings(inner, { markChanged: () => Promise.resolve() });
  assert.deepEqual(Object.keys(shared).sort(), Object.keys(full).sort());
});
