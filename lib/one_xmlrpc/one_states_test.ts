import assert from "node:assert/strict";
import {
  LCM_STATE_NAMES,
  oneStateName,
  oneStateNumber,
  type StateKind,
  stateLabel,
  stateMeaning,
  VM_STATE_NAMES,
} from "./one_states.ts";

/** The numbers as each release's `include/VirtualMachine.h` defines them (see its `about`). */
interface Numbering {
  readonly tags: Readonly<Record<string, readonly [number, number]>>;
  readonly STATE: Readonly<Record<string, number>>;
  readonly LCM_STATE: Readonly<Record<string, number>>;
  readonly retired: Readonly<Record<StateKind, Readonly<Record<string, number>>>>;
}

const { numberings }: { numberings: readonly Numbering[] } = JSON.parse(
  await Deno.readTextFile(
    new URL("../../tests/testdata/one_states_by_release.json", import.meta.url),
  ),
);

/** Every release of the test data, by tag (`release-6.10.5`), with its numbering. */
const RELEASES = numberings.flatMap((n) => Object.keys(n.tags).map((tag) => ({ tag, n })));

const KINDS: readonly StateKind[] = ["STATE", "LCM_STATE"];

Deno.test("the test data holds every final release from 3.2 to 7.4.0", () => {
  const tags = RELEASES.map((r) => r.tag);
  for (
    const tag of [
      "release-3.2",
      "release-3.8.5",
      "release-4.12.3",
      "release-4.14.2",
      "release-5.10.5",
      "release-6.6.2",
      "release-6.6.3",
      "release-6.10.5",
      "release-7.4.0",
    ]
  ) assert.ok(tags.includes(tag), tag);
  assert.equal(new Set(tags).size, tags.length);
  assert.ok(tags.length >= 130, `${tags.length} releases`);
});

Deno.test("the table names every STATE and LCM_STATE number exactly as each release from 3.2 to 7.4 defines it, and no number a release does not define", () => {
  for (const { tag, n } of RELEASES) {
    const release = tag.replace(/^release-/, "");
    for (const kind of KINDS) {
      const defined = new Map(Object.entries(n[kind]).map(([name, number]) => [number, name]));
      for (let number = 0; number <= 100; number++) {
        assert.equal(
          oneStateName(kind, number, release),
          defined.get(number),
          `${tag} ${kind} ${number}`,
        );
      }
    }
  }
});

Deno.test("numbers retired or renamed keep the name the releases that used them gave it", () => {
  for (const { tag, n } of RELEASES) {
    for (const kind of KINDS) {
      for (const [name, number] of Object.entries(n.retired[kind])) {
        assert.equal(oneStateName(kind, number, tag.replace(/^release-/, "")), undefined, tag);
        assert.equal(oneStateName(kind, number), name, `${tag}: retired ${kind} ${number}`);
        assert.equal(oneStateNumber(kind, name), number);
      }
    }
  }
  // 15 was CLEANUP until 3.8; without a release, a number has its newest name.
  assert.equal(oneStateName("LCM_STATE", 15, "3.8.5"), "CLEANUP");
  assert.equal(oneStateName("LCM_STATE", 15, "4.0"), "CLEANUP_RESUBMIT");
  assert.equal(oneStateName("LCM_STATE", 15), "CLEANUP_RESUBMIT");
  assert.equal(oneStateNumber("LCM_STATE", "CLEANUP"), 15);
  assert.equal(oneStateNumber("LCM_STATE", "NO_SUCH_STATE"), undefined);
  // 55 is defined up to 6.6.2, and gone from 6.6.3.
  assert.equal(oneStateName("LCM_STATE", 55, "6.6.2"), "DISK_SNAPSHOT_REVERT_SUSPENDED");
  assert.equal(oneStateName("LCM_STATE", 55, "6.6.3"), undefined);
});

Deno.test("the name lists hold each number's newest name, with no gap from 0 to the highest", () => {
  assert.equal(VM_STATE_NAMES.length, 12);
  assert.equal(LCM_STATE_NAMES.length, 72);
  for (
    const [kind, names] of [["STATE", VM_STATE_NAMES], ["LCM_STATE", LCM_STATE_NAMES]] as const
  ) {
    names.forEach((name, number) => assert.equal(name, oneStateName(kind, number)));
    assert.equal(Object.keys(names).length, names.length, `${kind} has a gap`);
  }
});

Deno.test("every state of every release has a meaning; an ACTIVE VM's is its LCM_STATE's", () => {
  for (const { tag, n } of RELEASES) {
    const release = tag.replace(/^release-/, "");
    for (const [name, state] of Object.entries(n.STATE)) {
      if (name === "ACTIVE") continue;
      assert.notEqual(stateMeaning(state, 0, release), undefined, `${tag} ${name}`);
    }
    for (const [name, lcm] of Object.entries(n.LCM_STATE)) {
      assert.notEqual(stateMeaning(3, lcm, release), undefined, `${tag} ${name}`);
    }
  }
});

Deno.test("the states issue 20 names mean what oned does with them", () => {
  const meaning = (lcm: number) => stateMeaning(3, lcm);
  // A running VM backed up runs on; a powered-off one backed up or restored stays off (6.6+).
  assert.deepEqual([meaning(69), meaning(70), meaning(71)], ["running", "off", "off"]);
  assert.equal(stateMeaning(3, 69, "6.4.7"), undefined);
  assert.equal(stateMeaning(3, 71, "6.8.3"), undefined);
  // A powered-off or suspended VM being moved ends POWEROFF or SUSPENDED, not running.
  assert.deepEqual([meaning(43), meaning(45)], ["off", "off"]);
  // A running VM saved for a cold migration runs again on the other host.
  assert.equal(meaning(7), "pending");
  assert.deepEqual([stateMeaning(2, 0), meaning(16)], ["held", "lost"]);
  assert.deepEqual([meaning(39), meaning(36), stateMeaning(7, 0)], ["failed", "failed", "failed"]);
});

Deno.test("stateLabel() names an ACTIVE VM by its LCM_STATE and others by their STATE, numbers when it has no name", () => {
  assert.equal(stateLabel(3, 3), "RUNNING");
  assert.equal(stateLabel(3, 69), "BACKUP");
  assert.equal(stateLabel(8, 0), "POWEROFF");
  assert.equal(stateLabel(3, 99), "ACTIVE/99");
  assert.equal(stateLabel(12, 0), "STATE 12");
  assert.equal(stateLabel(3, 69, "6.4.7"), "ACTIVE/69");
});
