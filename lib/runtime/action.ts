/**
 * The frame every action runs in: the only place that catches errors, sets the exit code and
 * writes the final output, so each action is just "arguments in, one line out".
 *
 * @module
 */

import { DeadlineError, DriverError } from "../util/errors.ts";
import { formatFailure, oneLine } from "../util/output.ts";
import { stdinSettled } from "../opennebula/stdin.ts";
import { redact } from "../util/redact.ts";
import type { ActionTime } from "../core/provider.ts";

/**
 * What the frame gives an action besides its arguments: the one cancellation path. When the
 * action's time is up, `signal` aborts, with a {@link DeadlineError} as its reason; every API
 * call and every wait the action starts is given the signal and stops.
 */
export interface ActionRun extends ActionTime {
  /**
   * Moves the deadline (e.g. to the host's `actionTimeoutSeconds`, once its settings are
   * known), counted from now.
   *
   * @param seconds Time from now.
   * @param what What the action is doing, for the message (`shutdown of VM 42`).
   */
  limit(seconds: number, what: string): void;
}

/**
 * Several lines to print as they are (an information probe's report), instead of the one line
 * a VMM action prints. Secrets are still removed.
 */
export interface Report {
  /** The lines, without line ends. */
  readonly lines: readonly string[];
  /** Exit 1 after printing them (a check tool's report of a failure); exit 0 when absent. */
  readonly failed?: boolean;
  /**
   * Lines for standard error (what a probe did besides reporting, e.g. `INFO: ...`), which
   * leaves the report on standard output as the information driver parses it.
   */
  readonly notes?: readonly string[];
}

/**
 * An action: takes its arguments, returns the one line to print on success ("" for none), or
 * a {@link Report} of several lines.
 */
export type Action = (argv: readonly string[], run: ActionRun) => Promise<string | Report>;

/** Default time an action may take, well inside oned's `-w` action timeout (600 s in 5.10). */
const DEFAULT_ACTION_TIMEOUT_SECONDS = 300;

/** How long to wait for oned to finish writing stdin once the action is done. */
const STDIN_GRACE_MS = 2_000;

/**
 * How long an action may take to unwind once its signal aborted, before the frame reports the
 * deadline anyway (a call that ignores the signal must not keep oned waiting).
 */
const ABORT_GRACE_MS = 1_000;

/**
 * The deadline of one action run: an `AbortController` whose timer can be moved.
 *
 * @param seconds The first deadline, from now.
 * @returns The run handed to the action, and `stop()` to clear the timer when it is done.
 */
function actionDeadline(seconds: number): ActionRun & { stop(): void } {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let at = Date.now() + seconds * 1000;
  const limit = (after: number, what: string) => {
    if (controller.signal.aborted) return;
    clearTimeout(timer);
    at = Date.now() + after * 1000;
    timer = setTimeout(() => {
      controller.abort(new DeadlineError(`Timed out after ${after} s while waiting for ${what}`));
    }, after * 1000);
  };
  limit(seconds, "the action");
  return {
    signal: controller.signal,
    limit,
    deadline: () => at,
    stop: () => clearTimeout(timer),
  };
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

/** What a finished action writes: exit code, standard output and standard error. */
interface ActionOutput {
  /** Exit code. */
  readonly code: number;
  /** Standard output, secrets removed. */
  readonly stdout: string;
  /** Standard error, secrets removed. */
  readonly stderr: string;
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
  writeOutput(await performAction(action, argv));
}

/**
 * Runs an action as {@link runAction} does, but returns what it would write and exit with
 * instead of writing it.
 *
 * @param action The action to run.
 * @param argv Its arguments.
 * @returns The exit code and output.
 */
async function performAction(
  action: Action,
  argv: readonly string[],
): Promise<ActionOutput> {
  const stdinDone = stdinSettled();
  const run = actionDeadline(DEFAULT_ACTION_TIMEOUT_SECONDS);
  let code = 0;
  let output: { stdout: string; stderr: string };
  try {
    const result = await settleOrAbort(action(argv, run), run.signal);
    output = {
      stdout: printed(result),
      stderr: typeof result === "string"
        ? ""
        : (result.notes ?? []).map((l) => `${oneLine(l)}\n`).join(""),
    };
    if (typeof result !== "string" && result.failed) code = 1;
  } catch (thrown) {
    // Whatever an aborted call threw, the reason oned needs is the deadline.
    const error = run.signal.aborted ? run.signal.reason : thrown;
    code = 1;
    output = formatFailure(describeError(error));
    if (Deno.env.get("HYBRID_DRIVER_DEBUG") && thrown instanceof Error && thrown.stack) {
      output.stderr = `DEBUG: ${
        redact(thrown.stack).replace(/\n/g, "\nDEBUG: ")
      }\n${output.stderr}`;
    }
  }
  run.stop();
  await within(stdinDone, STDIN_GRACE_MS);
  return { code, stdout: redact(output.stdout), stderr: redact(output.stderr) };
}

/** What an action's result prints: its one line, or a report's lines, each ended. */
function printed(result: string | Report): string {
  if (typeof result !== "string") return result.lines.map((l) => `${redact(l)}\n`).join("");
  return result === "" ? "" : `${redact(oneLine(result))}\n`;
}

/** The action's result; once the signal aborts, its reason after a short grace at most. */
async function settleOrAbort<T>(result: Promise<T>, signal: AbortSignal): Promise<T> {
  const aborted = new Promise<never>((_, reject) => {
    const give = () =>
      within(result.catch(() => {}), ABORT_GRACE_MS).then(() => reject(signal.reason));
    if (signal.aborted) give();
    else signal.addEventListener("abort", give, { once: true });
  });
  return await Promise.race([result, aborted]);
}

/**
 * Waits for a promise, for at most `ms`.
 *
 * @param promise What to wait for.
 * @param ms The longest wait.
 */
export async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise((resolve) => timer = setTimeout(resolve, ms))]);
  clearTimeout(timer);
}

/**
 * Writes an action's output and exits with its code: the only place a process writes it, and
 * (through {@link performAction}) the one place where secrets are removed from it, whatever
 * path the text took.
 *
 * @param output What the action wrote.
 */
function writeOutput(output: ActionOutput): never {
  const encoder = new TextEncoder();
  if (output.stdout) writeAll(Deno.stdout, encoder.encode(output.stdout));
  if (output.stderr) writeAll(Deno.stderr, encoder.encode(output.stderr));
  Deno.exit(output.code);
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) offset += stream.writeSync(data.subarray(offset));
}
