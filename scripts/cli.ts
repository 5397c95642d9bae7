/**
 * Command-line handling shared by the scripts: `--help` prints the usage and exits 0; an unknown
 * option, a missing value or a stray argument is one line on stderr and exit 2, no stack trace.
 *
 * @module
 */

/** Exit status of a command line the script does not accept. */
const USAGE_EXIT = 2;

/**
 * Runs `parse` (a `parseArgs` call) after answering `--help` with `usage`; turns its errors into
 * one line `<script>: <problem> (see --help)` and exit 2.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArgs } from "node:util";
 * import { parseCli } from "./cli.ts";
 * const { values } = parseCli("x", "Usage: x", () =>
 *   parseArgs({ args: ["--n", "2"], options: { n: { type: "string" } } }), []);
 * assert.equal(values.n, "2");
 * ```
 */
export function parseCli<T>(
  script: string,
  usage: string,
  parse: () => T,
  args: readonly string[] = Deno.args,
): T {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    Deno.exit(0);
  }
  try {
    return parse();
  } catch (error) {
    console.error(`${script}: ${problem(error)} (see --help)`);
    Deno.exit(USAGE_EXIT);
  }
}

/** The one-line problem a `parseArgs` error stands for. */
function problem(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? "";
  const option = quoted.split(" ")[0];
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option "${option}"`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument "${quoted}"`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return message.includes("argument missing")
        ? `option ${option} needs a value`
        : `option ${option} takes no value`;
    default:
      return message.split("\n")[0]!;
  }
}
