/**
 * The frame every action runs in: the only place that catches errors, sets the exit code and
 * writes the final output, so each action is just "arguments in, one line out".
 *
 * @module
 */

import { DeadlineError, DriverError } from "./errors.ts";
import { formatFailure, oneLine } from "./output.ts";
import { stdinSettled } from "./opennebula/stdin.ts";
import { redact } from "./redact.ts";

/** An action: takes its arguments, returns the one line to print on success ("" for none). */
export type Action = (argv: readonly string[]) => Promise<string>;

/** Default time an action may take, well inside oned's `-w` action timeout (600 s in 5.10). */
export const DEFAULT_ACTION_TIMEOUT_SECONDS = 300;

/** How long to wait for oned to finish writing stdin once the action is done. */
const STDIN_GRACE_MS = 2_000;

let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
let deadlineReason = "";

/**
 * Sets (or moves) the point at which the running action gives up: it then fails with a
 * message instead of being killed by oned without one.
 *
 * @param seconds Time from now.
 * @param what What the action was doing, for the message.
 */
export function setDeadline(seconds: number, what = "the action"): void {
  if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
  deadlineReason = what;
  deadlineTimer = setTimeout(() => {
    const error = new DeadlineError(
      `Timed out after ${seconds} s while waiting for ${deadlineReason}`,
    );
    finish(1, formatFailure(describeError(error)));
  }, seconds * 1000);
}

/**
 * Turns any thrown value into the one-line message oned shows: the driver's own errors keep
 * their message; anything else is reported as an internal error without a stack trace.
 *
 * @param error What was thrown.
 * @returns One line, with registered secrets removed.
 */
export function describeError(error: unknown): string {
  let message: string;
  if (error instanceof DriverError) message = error.message;
  else if (error instanceof Error) message = `Internal error: ${error.name}: ${error.message}`;
  else message = `Internal error: ${String(error)}`;
  return redact(oneLine(message));
}

/**
 * Runs an action to completion and exits the process: exit 0 with its line on stdout, or
 * exit 1 with the failure on stdout and fenced on stderr. Standard input is always read to
 * the end (briefly waited for) so that oned's writer never sees a broken pipe; input beyond
 * its size or time limit is not waited for.
 *
 * @param action The action to run.
 * @param argv Its arguments (defaults to the process arguments).
 */
export async function runAction(
  action: Action,
  argv: readonly string[] = Deno.args,
): Promise<void> {
  const stdinDone = stdinSettled();
  setDeadline(DEFAULT_ACTION_TIMEOUT_SECONDS);
  let code = 0;
  let output: { stdout: string; stderr: string };
  try {
    const line = await action(argv);
    output = { stdout: line === "" ? "" : `${redact(oneLine(line))}\n`, stderr: "" };
  } catch (error) {
    code = 1;
    output = formatFailure(describeError(error));
    if (Deno.env.get("HYBRID_DRIVER_DEBUG") && error instanceof Error && error.stack) {
      output.stderr = `DEBUG: ${redact(error.stack).replace(/\n/g, "\nDEBUG: ")}\n${output.stderr}`;
    }
  }
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    stdinDone,
    new Promise((resolve) => graceTimer = setTimeout(resolve, STDIN_GRACE_MS)),
  ]);
  clearTimeout(graceTimer);
  finish(code, output);
}

/**
 * The only place that writes an action's output, and so the one place where secrets are
 * removed from it, whatever path the text took.
 */
function finish(code: number, output: { stdout: string; stderr: string }): never {
  const encoder = new TextEncoder();
  if (output.stdout) writeAll(Deno.stdout, encoder.encode(redact(output.stdout)));
  if (output.stderr) writeAll(Deno.stderr, encoder.encode(redact(output.stderr)));
  Deno.exit(code);
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) offset += stream.writeSync(data.subarray(offset));
}
