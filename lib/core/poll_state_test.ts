import assert from "node:assert/strict";
import { CloudError, DeadlineError, InvalidInputError } from "../util/errors.ts";
import { checkStateDir, type Listed, PollState, type PollStateOptions } from "./poll_state.ts";
import type { Instance } from "./provider.ts";

const RUNNING: Instance = {
  id: "i-0123456789abcdef0",
  state: "running",
  nativeState: "running",
  memoryKiB: 1048576,
  facts: { STATE: "running", KEY_NAME: "one key", PUBLIC_IP_ADDRESS: "198.51.100.7" },
};
const STOPPED: Instance = {
  id: "i-0fedcba9876543210",
  state: "stopped",
  nativeState: "stopped",
  facts: { STATE: "stopped" },
};
const LISTED: Listed = { factPrefix: "AWS", instances: [RUNNING, STOPPED] };

/** A state in a fresh private directory, with a clock the test moves. */
async function setUp(options: Partial<PollStateOptions> = {}) {
  const dir = await Deno.makeTempDir();
  const clock = { now: 1_700_000_000_000 };
  const open = (more: Partial<PollStateOptions> = {}) =>
    PollState.open({
      dir,
      kind: "ec2",
      scope: '["us-east-1","AKIAEXAMPLE"]',
      windowSeconds: 20,
      clock: () => clock.now,
      uid: Deno.statSync(dir).uid,
      ...options,
      ...more,
    });
  const state = await open();
  let calls = 0;
  const list = async () => {
    calls++;
    await Promise.resolve();
    return LISTED;
  };
  return {
    dir,
    clock,
    open,
    state,
    list,
    calls: () => calls,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

const never = new AbortController().signal;

Deno.test("PollState.listing() lists once, then serves every poll from the listing until the window ends", async () => {
  await using t = await setUp();
  const first = await t.state.listing(t.list, never);
  assert.deepEqual(first.find(RUNNING.id), RUNNING);
  assert.deepEqual(first.find(STOPPED.id), STOPPED);
  assert.equal(first.factPrefix, "AWS");
  t.clock.now += 19_999;
  const other = await t.open();
  assert.deepEqual((await other.listing(t.list, never)).find(RUNNING.id), RUNNING);
  assert.equal(t.calls(), 1);
  t.clock.now += 1;
  assert.equal(await other.fresh(), undefined);
  await other.listing(t.list, never);
  assert.equal(t.calls(), 2);
});

Deno.test("PollState.fresh() never serves a listing taken later than now (a clock set back)", async () => {
  await using t = await setUp();
  await t.state.listing(t.list, never);
  t.clock.now -= 1;
  assert.equal(await t.state.fresh(), undefined);
});

Deno.test("SharedListing.find() says nothing of an instance the listing does not have", async () => {
  await using t = await setUp();
  const listing = await t.state.listing(t.list, never);
  assert.equal(listing.find("i-00000000000000000"), undefined);
  assert.equal(listing.find("i-0123456789abcdef"), undefined);
  assert.equal(listing.find(""), undefined);
  assert.equal(listing.find(`${RUNNING.id}\tx`), undefined);
});

Deno.test("PollState.listing() makes concurrent stale polls wait for one listing and read it", async () => {
  await using t = await setUp();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const slowList = async () => {
    await gate;
    return await t.list();
  };
  const states = await Promise.all(Array.from({ length: 8 }, () => t.open()));
  const polls = states.map((s) => s.listing(slowList, never));
  await new Promise((resolve) => setTimeout(resolve, 100));
  release();
  const listings = await Promise.all(polls);
  assert.equal(t.calls(), 1);
  for (const listing of listings) assert.deepEqual(listing.find(STOPPED.id), STOPPED);
});

Deno.test("PollState.listing() fails the polls that waited for a failed listing with its message, and the next poll lists again", async () => {
  await using t = await setUp();
  await t.state.listing(t.list, never);
  t.clock.now += 60_000;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  let failed = 0;
  const failing = async () => {
    failed++;
    await gate;
    throw new CloudError("RequestLimitExceeded", "Cannot list the instances: RequestLimitExceeded");
  };
  const states = await Promise.all(Array.from({ length: 4 }, () => t.open()));
  const polls = states.map((s) => s.listing(failing, never));
  await new Promise((resolve) => setTimeout(resolve, 100));
  release();
  const results = await Promise.allSettled(polls);
  assert.equal(failed, 1);
  for (const result of results) {
    assert.equal(result.status, "rejected");
    assert.deepEqual(
      result.reason,
      new CloudError("RequestLimitExceeded", "Cannot list the instances: RequestLimitExceeded"),
    );
    assert.equal(result.reason.code, "RequestLimitExceeded");
  }
  assert.equal(await t.state.fresh(), undefined);
  t.clock.now += 1;
  assert.deepEqual((await t.state.listing(t.list, never)).find(RUNNING.id), RUNNING);
  assert.equal(t.calls(), 2);
});

Deno.test("PollState.markChanged() stops a listing taken before it from serving", async () => {
  await using t = await setUp();
  await t.state.listing(t.list, never);
  t.clock.now += 5;
  await (await t.open()).markChanged();
  assert.equal(await t.state.fresh(), undefined);
  t.clock.now += 5;
  await t.state.listing(t.list, never);
  assert.equal(t.calls(), 2);
  assert.ok(await t.state.fresh());
});

Deno.test("PollState lists afresh when the change mark cannot be read, instead of serving the cached listing", async () => {
  await using t = await setUp();
  await t.state.listing(t.list, never);
  t.clock.now += 5;
  assert.ok(await t.state.fresh(), "served while there is no change mark");
  // A mark that exists but cannot be read may hide a change (a directory in its place fails
  // the read for every user, root included).
  await Deno.mkdir(`${t.state.file.replace(/\.listing$/, "")}.changed`);
  assert.equal(await t.state.fresh(), undefined);
  await t.state.listing(t.list, never);
  assert.equal(t.calls(), 2);
});

Deno.test("PollState.record() keeps a listing taken elsewhere for the polls that follow", async () => {
  await using t = await setUp();
  await t.state.record(t.clock.now - 1_000, LISTED);
  const listing = await (await t.open()).listing(t.list, never);
  assert.equal(t.calls(), 0);
  assert.equal(listing.takenAt, t.clock.now - 1_000);
  assert.deepEqual(listing.find(RUNNING.id), RUNNING);
});

Deno.test("PollState treats a corrupt, truncated or foreign file as a miss", async () => {
  await using t = await setUp();
  await t.state.listing(t.list, never);
  const good = await Deno.readTextFile(t.state.file);
  const corrupt = [
    "not json\nEND\n",
    good.slice(0, -4),
    good.replace('"v":1', '"v":2'),
    good.replace('"factPrefix":"AWS"', '"factPrefix":"a b"'),
    good.replace("AKIAEXAMPLE", "AKIAOTHER"),
    "",
  ];
  for (const text of corrupt) {
    await Deno.writeTextFile(t.state.file, text);
    assert.equal(await t.state.fresh(), undefined, JSON.stringify(text));
  }
  await Deno.writeTextFile(t.state.file, good.replace('"state":"stopped"', '"state":"asleep"'));
  const listing = await t.state.fresh();
  assert.equal(listing?.find(STOPPED.id), undefined);
  assert.deepEqual(listing?.find(RUNNING.id), RUNNING);
  await Deno.writeTextFile(`${t.state.file.replace(/\.listing$/, "")}.changed`, "soon\n");
  assert.equal(await t.state.fresh(), undefined);
});

Deno.test("PollState.listing() stops waiting for another process's listing when the action's time is up", async () => {
  await using t = await setUp();
  const lock = await Deno.open(`${t.state.file.replace(/\.listing$/, "")}.lock`, {
    create: true,
    write: true,
  });
  await lock.lock(true);
  try {
    const controller = new AbortController();
    const waiting = t.state.listing(t.list, controller.signal);
    setTimeout(() => controller.abort(new DeadlineError("Timed out")), 50);
    await assert.rejects(waiting, new DeadlineError("Timed out"));
    assert.equal(t.calls(), 0);
  } finally {
    lock.close();
  }
});

Deno.test("checkStateDir() creates a missing directory private to its owner", async () => {
  const parent = await Deno.makeTempDir();
  try {
    await checkStateDir(`${parent}/one-hybrid`, Deno.statSync(parent).uid);
    assert.equal((await Deno.stat(`${parent}/one-hybrid`)).mode! & 0o777, 0o700);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("checkStateDir() refuses a directory others may write to, another user's, a link or a file", async () => {
  const parent = await Deno.makeTempDir();
  const uid = Deno.statSync(parent).uid!;
  const advice =
    'fix it, set "pollStateDir" to a directory of this user, or "pollWindowSeconds" to 0';
  try {
    await Deno.mkdir(`${parent}/open`);
    await Deno.chmod(`${parent}/open`, 0o777);
    await assert.rejects(
      checkStateDir(`${parent}/open`, uid),
      new InvalidInputError(
        `Cannot share polls through ${parent}/open: group or others may write to it (mode 777); ${advice}`,
      ),
    );
    await assert.rejects(
      checkStateDir(`${parent}/open`, uid + 1),
      new InvalidInputError(
        `Cannot share polls through ${parent}/open: it belongs to user ${uid}, not to this user (${
          uid + 1
        }); ${advice}`,
      ),
    );
    await Deno.symlink(`${parent}/open`, `${parent}/link`);
    await assert.rejects(checkStateDir(`${parent}/link`, uid), /it is not a directory/);
    await Deno.writeTextFile(`${parent}/file`, "");
    await assert.rejects(checkStateDir(`${parent}/file`, uid), /Cannot share polls through/);
    await assert.rejects(checkStateDir(`${parent}/x`, null), /this user's id is unknown/);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
