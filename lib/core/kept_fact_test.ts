import assert from "node:assert/strict";
import { KeptFact, type KeptFactOptions } from "./kept_fact.ts";
import { scopeFileName } from "./poll_state.ts";

const SCOPE = "https://one.partner.example:2633/RPC2";

/** A fact in a fresh private directory, with a clock the test moves. */
async function setUp(options: Partial<KeptFactOptions> = {}) {
  const dir = await Deno.makeTempDir();
  const clock = { now: 1_700_000_000_000 };
  const open = (more: Partial<KeptFactOptions> = {}) =>
    new KeptFact({
      dir,
      kind: "opennebula",
      scope: SCOPE,
      name: "release",
      maxAgeSeconds: 3600,
      clock: () => clock.now,
      uid: Deno.statSync(dir).uid,
      ...options,
      ...more,
    });
  const file = `${dir}/${await scopeFileName("opennebula", SCOPE)}.release`;
  return {
    dir,
    clock,
    open,
    file,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("a kept fact is read back by another process until it is older than its maximum age", async () => {
  await using t = await setUp();
  await t.open().write("6.10.5");
  assert.equal(await t.open().read(), "6.10.5");
  t.clock.now += 3599_000;
  assert.equal(await t.open().read(), "6.10.5");
  t.clock.now += 1000;
  assert.equal(await t.open().read(), undefined);
});

Deno.test("a kept fact is a private file beside the listings, named by a digest of its scope", async () => {
  await using t = await setUp();
  await t.open().write("5.12.13");
  const info = await Deno.stat(t.file);
  assert.equal(info.mode! & 0o777, 0o600);
  assert.ok(!t.file.includes("partner"), "the name says nothing of the scope");
  assert.equal(
    await Deno.readTextFile(t.file),
    `{"v":1,"scope":"${SCOPE}","value":"5.12.13","at":1700000000000}\n`,
  );
});

Deno.test("a missing, corrupt, foreign-scope or future-dated fact is a miss, never an error", async () => {
  await using t = await setUp();
  assert.equal(await t.open().read(), undefined);
  for (
    const text of [
      "not json",
      `{"v":1,"scope":"${SCOPE}","value":"6.10.5"}`,
      `{"v":2,"scope":"${SCOPE}","value":"6.10.5","at":1700000000000}`,
      `{"v":1,"scope":"http://other:2633/RPC2","value":"6.10.5","at":1700000000000}`,
      `{"v":1,"scope":"${SCOPE}","value":6,"at":1700000000000}`,
      `{"v":1,"scope":"${SCOPE}","value":"6.10.5","at":1700000001000}`,
    ]
  ) {
    await Deno.writeTextFile(t.file, text);
    assert.equal(await t.open().read(), undefined, text);
  }
});

Deno.test("a fact in a directory others may write to is neither read nor written", async () => {
  await using t = await setUp();
  await t.open().write("6.10.5");
  await Deno.chmod(t.dir, 0o777);
  assert.equal(await t.open().read(), undefined);
  await t.open().write("7.0.2");
  await Deno.chmod(t.dir, 0o700);
  assert.equal(await t.open().read(), "6.10.5");
});

Deno.test("a fact that cannot be written is not kept, and the write does not fail", async () => {
  await using t = await setUp();
  const fact = t.open({ dir: `${t.dir}/file/below` });
  await Deno.writeTextFile(`${t.dir}/file`, "");
  await fact.write("6.10.5");
  assert.equal(await fact.read(), undefined);
});
