/**
 * What belongs to one action run rather than to the process: the secrets to keep out of its
 * output and, when a caller runs several actions in one process (tests), its standard input. A
 * process that runs one action uses the process context: nothing here changes what it does.
 *
 * @module
 */

/** How reading standard input ended: its text, or why it was refused. */
export type StdinOutcome = { readonly text: string } | { readonly error: string };

/** One run's own state. */
export interface RunContext {
  /** Secrets registered during the run, removed from everything it prints. */
  readonly secrets: Set<string>;
  /** The run's standard input, when it is not this process's. */
  readonly stdin?: () => Promise<StdinOutcome>;
}

const processContext: RunContext = { secrets: new Set() };
let lookup: () => RunContext | undefined = () => undefined;

/**
 * The context of the run this code belongs to: the one the server set for it, else the
 * process's.
 *
 * @returns The context.
 */
export function currentRun(): RunContext {
  return lookup() ?? processContext;
}

/**
 * Lets a server that runs several actions at once say which run is current (e.g. from an
 * `AsyncLocalStorage`). Called once, before any run.
 *
 * @param find Returns the current run's context, or `undefined` outside any run.
 */
export function findRunsWith(find: () => RunContext | undefined): void {
  lookup = find;
}
