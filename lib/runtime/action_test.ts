import assert from "node:assert/strict";

const FIXTURE = new URL("./testdata/secret_action.ts", import.meta.url).pathname;
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";

/** Runs the fixture action one way, as oned would (empty stdin, own environment). */
async function run(how: string, env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-prompt", "--allow-env", FIXTURE, how, SECRET],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

const fence = (line: string) => `ERROR MESSAGE --8<------\n${line}\nERROR MESSAGE ------>8--\n`;

Deno.test("runAction() redacts secrets on every path it prints: success, failures and deadline", async () => {
  assert.deepEqual(await run("success"), { code: 0, stdout: "STATE=a NOTE=***\n", stderr: "" });
  const refused = "Cannot x: key *** refused";
  assert.deepEqual(await run("driver-error"), {
    code: 1,
    stdout: `${refused}\n`,
    stderr: fence(refused),
  });
  const internal = "Internal error: TypeError: key *** refused";
  assert.deepEqual(await run("internal-error"), {
    code: 1,
    stdout: `${internal}\n`,
    stderr: fence(internal),
  });
  const late = "Timed out after 0.1 s while waiting for an answer about ***";
  assert.deepEqual(await run("deadline"), { code: 1, stdout: `${late}\n`, stderr: fence(late) });
});

Deno.test("runAction() aborts the action's signal at the deadline, ending its waits", async () => {
  const late = "Timed out after 0.1 s while waiting for an answer about ***";
  assert.deepEqual(await run("deadline-wait"), {
    code: 1,
    stdout: `${late}\n`,
    stderr: `the wait ended: DeadlineError\n${fence(late)}`,
  });
});

Deno.test("runAction() redacts secrets from the debug stack trace on stderr", async () => {
  for (const how of ["driver-error", "internal-error"]) {
    const result = await run(how, { HYBRID_DRIVER_DEBUG: "1" });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^DEBUG: .*key \*\*\* refused\n(?:DEBUG: {5}at .*\n)+ERROR MESSAGE --8<------\n/,
    );
    assert.ok(!`${result.stdout}${result.stderr}`.includes(SECRET), result.stderr);
  }
});

Deno.test("runAction() prints a report's lines on stdout and its notes on stderr, one line each, redacted", async () => {
  assert.deepEqual(await run("report"), {
    code: 0,
    stdout: "A=1\nB=***\n",
    stderr: "INFO: did something with ***\n",
  });
});
