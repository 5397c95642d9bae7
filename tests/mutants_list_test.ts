// The breakage list of `deno task mutants` must keep matching the code: each entry's text must
// occur exactly once in its file, so that a changed line fails here, in the ordinary test run,
// instead of silently leaving a behaviour unchecked the next time someone runs the mutants.
// These checks only read files; no breakage is applied and no mutant is run.

import assert from "node:assert/strict";
import { type Breakage, BREAKAGES, checkList } from "../lab/mutants.ts";

const MUTANTS = new URL("../lab/mutants.ts", import.meta.url).pathname;

Deno.test("every breakage in the mutants list names a text found exactly once in its file, and its test files exist", () => {
  assert.deepEqual(checkList(BREAKAGES), []);
});

Deno.test("the mutants list check reports a text no longer in the code, one found twice, and a missing test file", () => {
  const stale: Breakage = {
    name: "a stale entry",
    file: "lib/runtime/end_vm.ts",
    find: "this text is not in the driver's code",
    replace: "",
    tests: ["tests/lifecycle_test.ts"],
  };
  const twice: Breakage = {
    name: "an ambiguous entry",
    file: "lib/runtime/end_vm.ts",
    find: "provider",
    replace: "p",
    tests: ["tests/no_such_test.ts"],
  };
  const problems = checkList([stale, twice]);
  assert.equal(problems.length, 3, problems.join("\n"));
  assert.match(
    problems[0]!,
    /^a stale entry: .* occurs 0 times in lib\/runtime\/end_vm\.ts, not once$/,
  );
  assert.match(
    problems[1]!,
    /^an ambiguous entry: "provider" occurs \d+ times in lib\/runtime\/end_vm\.ts/,
  );
  assert.equal(problems[2], "an ambiguous entry: no test file tests/no_such_test.ts");
});

Deno.test("deno task mutants --list exits 0 with the list matching the code, and says so", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-run=git", "--allow-env", MUTANTS, "--list"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const lines = stdout.trimEnd().split("\n");
  assert.deepEqual(lines.slice(0, -1), BREAKAGES.map((b) => b.name));
  assert.equal(lines.at(-1), `mutants: the list matches the code (${BREAKAGES.length} breakages)`);
});
