/**
 * Extracts the VM state numbers of every OpenNebula release from a clone of its source
 * (github.com/OpenNebula/one) into `tests/testdata/one_states_by_release.json`, the numbers
 * `lib/one_xmlrpc/one_states_test.ts` checks the driver's table against: for each final
 * release tag from 3.2 on, `enum VmState` and `enum LcmState` of `include/VirtualMachine.h`
 * (`git show <tag>:include/VirtualMachine.h`), the enumerators defined and those left as
 * comments (retired: their number stays reserved). Releases with the same numbering share an
 * entry.
 *
 * Usage (from the repository's root):
 *
 *     deno run --allow-run=git --allow-write=tests/testdata/one_states_by_release.json \
 *       lab/one_states_by_release.ts <git dir of an OpenNebula/one clone>
 *
 * @module
 */

/** Where the numbers go, relative to the repository. */
const OUTPUT = "tests/testdata/one_states_by_release.json";

/** The file that defines the enums, in OpenNebula's source. */
const HEADER = "include/VirtualMachine.h";

/** One enum as a release's header has it. */
export interface ParsedEnum {
  /** Its enumerators, by name. */
  readonly defined: Record<string, number>;
  /** Enumerators present only as `//` comments, by name. */
  readonly retired: Record<string, number>;
  /** The line of the header where the enum starts. */
  readonly line: number;
}

/**
 * Reads one enum of a C++ header: each enumerator's number (given, or the one after the last),
 * and the commented-out ones apart.
 *
 * @param source The header's text.
 * @param name The enum's name (`VmState`).
 * @returns The enum; undefined when the header has none of that name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEnum } from "./one_states_by_release.ts";
 * const header = "class VM {\n    enum VmState\n    {\n        INIT = 0,\n        PENDING,\n" +
 *   "        //FAILED = 7,\n        POWEROFF = 8\n    };\n};\n";
 * assert.deepEqual(parseEnum(header, "VmState"), {
 *   defined: { INIT: 0, PENDING: 1, POWEROFF: 8 },
 *   retired: { FAILED: 7 },
 *   line: 2,
 * });
 * ```
 */
export function parseEnum(source: string, name: string): ParsedEnum | undefined {
  const found = new RegExp(`enum\\s+(?:class\\s+)?${name}\\s*(?::\\s*\\w+)?\\s*\\{([^}]*)\\}`)
    .exec(source);
  if (!found) return undefined;
  const defined: Record<string, number> = {};
  const retired: Record<string, number> = {};
  let next = 0;
  for (const text of found[1]!.split("\n")) {
    const entry = /^\s*(\/\/\s*)?([A-Z_][A-Z0-9_]*)\s*(?:=\s*(\d+))?\s*,?/.exec(text);
    if (!entry) continue;
    const number = entry[3] === undefined ? next : Number(entry[3]);
    if (entry[1] === undefined) {
      defined[entry[2]!] = number;
      next = number + 1;
    } else retired[entry[2]!] = number;
  }
  return { defined, retired, line: source.slice(0, found.index).split("\n").length };
}

/**
 * Whether a tag is a final release from 3.2 on: `release-X.Y[.Z[.W]]` of an even minor
 * version (odd ones, and 6.99, are development versions), no beta or release candidate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isFinalRelease } from "./one_states_by_release.ts";
 * assert.equal(isFinalRelease("release-6.10.0.1"), true);
 * assert.equal(isFinalRelease("release-3.0"), false);
 * assert.equal(isFinalRelease("release-6.5.80"), false);
 * assert.equal(isFinalRelease("release-6.99.90"), false);
 * assert.equal(isFinalRelease("release-5.4-beta1"), false);
 * ```
 */
export function isFinalRelease(tag: string): boolean {
  const match = /^release-(\d+)\.(\d+)(\.\d+){0,2}$/.exec(tag);
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return minor % 2 === 0 && (major > 3 || (major === 3 && minor >= 2));
}

/** The release of a tag (`release-6.10.5`: `6.10.5`), as a list of numbers for sorting. */
function versionOf(tag: string): number[] {
  return tag.replace("release-", "").split(".").map(Number);
}

function byVersion(a: string, b: string): number {
  const [x, y] = [versionOf(a), versionOf(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return 0;
}

async function git(gitDir: string, ...args: string[]): Promise<string> {
  const output = await new Deno.Command("git", { args: [`--git-dir=${gitDir}`, ...args] })
    .output();
  if (!output.success) {
    throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(output.stderr).trim()}`);
  }
  return new TextDecoder().decode(output.stdout);
}

/** One numbering and the releases that have it. */
interface Numbering {
  /** Tag: the lines where `enum VmState` and `enum LcmState` start in its header. */
  tags: Record<string, [number, number]>;
  STATE: Record<string, number>;
  LCM_STATE: Record<string, number>;
  retired: { STATE: Record<string, number>; LCM_STATE: Record<string, number> };
}

async function main(gitDir: string | undefined): Promise<void> {
  if (gitDir === undefined) {
    throw new Error("Usage: lab/one_states_by_release.ts <git dir of an OpenNebula/one clone>");
  }
  const tags = (await git(gitDir, "tag")).split("\n").filter(isFinalRelease).sort(byVersion);
  const numberings: Numbering[] = [];
  let lastKey = "";
  for (const tag of tags) {
    const source = await git(gitDir, "show", `${tag}:${HEADER}`);
    const state = parseEnum(source, "VmState");
    const lcm = parseEnum(source, "LcmState");
    if (!state || !lcm) throw new Error(`${tag}:${HEADER} has no enum VmState or LcmState`);
    const numbering = {
      STATE: state.defined,
      LCM_STATE: lcm.defined,
      retired: { STATE: state.retired, LCM_STATE: lcm.retired },
    };
    const key = JSON.stringify(numbering);
    const last = numberings.at(-1);
    if (last !== undefined && key === lastKey) last.tags[tag] = [state.line, lcm.line];
    else numberings.push({ tags: { [tag]: [state.line, lcm.line] }, ...numbering });
    lastKey = key;
  }
  const about = [
    "The VM STATE and LCM_STATE numbers of every final OpenNebula release from 3.2 on,",
    `as ${HEADER} of github.com/OpenNebula/one defines them at each release tag`,
    "(enum VmState, enum LcmState); each tag maps to the lines where the two enums start",
    `(the citation <tag>:${HEADER}:<line>).`,
    "Releases with the same numbering share an entry; 'retired' holds the enumerators left as",
    "comments, whose numbers stay reserved. Tags: release-X.Y[.Z[.W]] of even minor versions",
    "(betas, release candidates and the x.y.80/85/90 development tags left out).",
    "Extracted by lab/one_states_by_release.ts from a clone (see its usage).",
  ];
  // Each tag's two lines on one line, as deno fmt keeps them.
  const text = JSON.stringify({ about, numberings }, null, 2)
    .replace(/\[\s+(\d+),\s+(\d+)\s+\]/g, "[$1, $2]");
  await Deno.writeTextFile(OUTPUT, `${text}\n`);
  console.log(`${OUTPUT}: ${tags.length} releases, ${numberings.length} numberings`);
}

if (import.meta.main) await main(Deno.args[0]);
