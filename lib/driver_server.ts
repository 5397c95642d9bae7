/**
 * The warm driver server: one process per user, driver build, working directory and
 * environment that runs actions for thin driver processes (`lib/driver_client.ts`), so that the
 * provider's code (the AWS SDK: about 0.3 s of CPU and 40 MB to load) is loaded once, not once
 * per action. Each request runs exactly as its process would have run it (`performAction`):
 * same deadline, same output and exit code, its own standard input and secrets
 * (`lib/run_context.ts`). A request whose client goes away is aborted, as killing the process
 * would stop it. The server exits after an idle time, removing its socket.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { type Action, performAction } from "./action.ts";
import { ACK, asRequest, asStdinOutcome, FrameReader, writeFrame } from "./driver_wire.ts";
import { checkStateDir } from "./poll_state.ts";
import { findRunsWith, type RunContext, type StdinOutcome } from "./run_context.ts";

/** How long a server waits without a request before it exits, unless configured. */
export const DEFAULT_IDLE_SECONDS = 300;

/** How long a new connection may take to send its request. */
const REQUEST_SECONDS = 10;

/** Finds the loader of an action the server may run. */
export type ServedActions = (name: string) => (() => Promise<Action>) | undefined;

/**
 * The idle time: `HYBRID_DRIVER_SERVER_IDLE_SECONDS` when it is a positive number, else
 * {@link DEFAULT_IDLE_SECONDS}.
 *
 * @param env Where to read it.
 * @returns Seconds.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { idleSeconds } from "./driver_server.ts";
 * assert.equal(idleSeconds(new Map([["HYBRID_DRIVER_SERVER_IDLE_SECONDS", "2"]])), 2);
 * assert.equal(idleSeconds(new Map([["HYBRID_DRIVER_SERVER_IDLE_SECONDS", "soon"]])), 300);
 * ```
 */
export function idleSeconds(env: { get(name: string): string | undefined } = Deno.env): number {
  const value = Number(env.get("HYBRID_DRIVER_SERVER_IDLE_SECONDS"));
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_IDLE_SECONDS;
}

/**
 * Serves actions on a socket until idle, then exits, removing its socket, pid file and lock
 * file. Exactly one process serves a socket: binding happens under the socket's lock, and a
 * process that finds a live server there exits quietly; a dead server's socket is replaced.
 *
 * @param path The socket, in a safe runtime directory.
 * @param actions The actions it may run.
 */
export async function serve(path: string, actions: ServedActions): Promise<never> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  try {
    await checkStateDir(dir);
  } catch {
    Deno.exit(1);
  }
  const listener = await bind(path);
  if (listener === undefined) Deno.exit(0);
  const own = (await Deno.lstat(path)).ino;
  await Deno.writeTextFile(`${path}.pid`, `${Deno.pid}\n`, { mode: 0o600 });

  // A stray rejection of one run must not end the others.
  globalThis.addEventListener("unhandledrejection", (event) => event.preventDefault());
  const storage = new AsyncLocalStorage<RunContext>();
  findRunsWith(() => storage.getStore());

  const idleMs = idleSeconds() * 1000;
  let active = 0;
  let idle: ReturnType<typeof setTimeout> | undefined;
  const state = { closing: false };
  const quit = async () => {
    if (active > 0) return;
    // From here on no request is accepted: its client runs the action itself.
    state.closing = true;
    try {
      await lockSocket(path);
      // Remove the socket only if it is still this server's.
      const current = await Deno.lstat(path).catch(() => undefined);
      if (current?.ino === own) {
        await Deno.remove(path).catch(() => {});
        await Deno.remove(`${path}.pid`).catch(() => {});
      }
      // Removed while held: a process waiting for it finds it gone and takes a new one.
      await Deno.remove(`${path}.lock`).catch(() => {});
    } catch {
      // The directory is gone (or unusable): nothing is left to clean, and the server ends anyway.
    } finally {
      Deno.exit(0);
    }
  };
  idle = setTimeout(quit, idleMs);
  for await (const conn of listener) {
    clearTimeout(idle);
    active++;
    handle(conn, actions, storage, state).finally(() => {
      if (--active === 0) idle = setTimeout(quit, idleMs);
    });
  }
  Deno.exit(0);
}

/**
 * Takes the socket's lock: an exclusive lock of `<socket>.lock`, held until the file is closed
 * (or the process ends). A lock file removed by its holder while this process waited for it is
 * not the lock any more: this process takes the new one.
 */
async function lockSocket(path: string): Promise<Deno.FsFile> {
  for (;;) {
    const file = await Deno.open(`${path}.lock`, { create: true, write: true, mode: 0o600 });
    await file.lock(true);
    const held = await file.stat();
    const current = await Deno.lstat(`${path}.lock`).catch(() => undefined);
    if (current?.ino === held.ino) return file;
    file.close();
  }
}

/** Listens on the socket unless a live server does; under the lock, so one process wins. */
async function bind(path: string): Promise<Deno.Listener | undefined> {
  const lock = await lockSocket(path);
  try {
    const live = await Deno.connect({ transport: "unix", path }).then(
      (conn) => (conn.close(), true),
      () => false,
    );
    if (live) return undefined;
    await Deno.remove(path).catch(() => {});
    const listener = Deno.listen({ transport: "unix", path });
    // Only this user may connect, whatever the directory's mode.
    await Deno.chmod(path, 0o600);
    return listener;
  } finally {
    lock.close();
  }
}

/** Runs one client's request and answers it; aborts the run when the client goes away. */
async function handle(
  conn: Deno.Conn,
  actions: ServedActions,
  storage: AsyncLocalStorage<RunContext>,
  state: { readonly closing: boolean },
): Promise<void> {
  try {
    const reader = new FrameReader(conn);
    const request = asRequest(await Promise.race([reader.next(), timeout(REQUEST_SECONDS)]));
    const load = request && actions(request.action);
    if (request === undefined || load === undefined) return;
    // Loaded before the acknowledgement: an action that cannot load runs in its client.
    const action = await load();
    if (state.closing) return;
    await writeFrame(conn, ACK);

    const gone = new AbortController();
    let received: (outcome: StdinOutcome) => void = () => {};
    const stdin = new Promise<StdinOutcome>((resolve) => received = resolve);
    (async () => {
      try {
        const outcome = asStdinOutcome(await reader.next());
        if (outcome === undefined) throw new Error("no standard input");
        received(outcome);
        // Nothing more comes from a client: its end means it went away.
        await reader.next();
      } catch {
        // A broken connection ends the client as well.
      }
      received({ text: "" });
      gone.abort(new Error("The client of the driver server went away"));
    })();

    const context: RunContext = { secrets: new Set(), stdin: () => stdin };
    const output = await storage.run(
      context,
      () => performAction(action, request.argv, gone.signal),
    );
    if (!gone.signal.aborted) await writeFrame(conn, output);
  } catch {
    // The client sees the connection end: before the acknowledgement it runs the action
    // itself, after it reports the loss.
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** A promise that rejects after some seconds. */
function timeout(seconds: number): Promise<never> {
  return new Promise((_, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out")), seconds * 1000);
    Deno.unrefTimer(timer);
  });
}
