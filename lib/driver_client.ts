/**
 * The thin side of the warm driver server (`lib/driver_server.ts`): an action that may ask the
 * cloud is sent to a server of this user that already has the provider's code (the AWS SDK)
 * loaded, instead of loading it in this process. The server is found by a Unix socket in the
 * user's runtime directory, named by a digest of everything that could change what an action
 * does: the user, the driver program and its build, the working directory and the whole
 * environment. With no server yet, this process starts one and runs its action itself.
 *
 * Turned off by `HYBRID_DRIVER_SERVER=off` (checked in `lib/driver_main.ts`).
 *
 * @module
 */

import { type ActionOutput, STDIN_GRACE_MS, within, writeOutput } from "./action.ts";
import { asOutput, FrameReader, isAck, writeFrame } from "./driver_wire.ts";
import { processStdin } from "./opennebula/stdin.ts";
import { formatFailure } from "./output.ts";
import { checkStateDir, currentUid, pollStateDir } from "./poll_state.ts";
import { PORTABLE_RUN_FLAGS } from "./runtime_flags.ts";

/** The longest path a Unix socket may have (108 bytes on Linux, with its final NUL). */
const MAX_SOCKET_PATH = 100;

/**
 * The most servers one user runs: one per environment, and oned's does not change between
 * actions, so more than a few means something varies per action (each new environment would
 * start a server that then idles for minutes); beyond this, actions run in their own processes.
 */
export const MAX_SERVERS = 4;

/** What a client prints when the server took its action and then went away. */
export const LOST_SERVER =
  "The driver server stopped before finishing the action (it may be partly done; the next action will run without it)";

/**
 * Runs an action through the warm server when there is one: writes its output and exits.
 * Returns, having done nothing the action does, when this process must run it itself: no
 * server yet (one is started), the runtime directory is unsafe, or the server did not accept
 * the request.
 *
 * @param action The action's name.
 * @param argv Its arguments.
 */
export async function runServed(action: string, argv: readonly string[]): Promise<void> {
  // Read stdin from the start, as a process running the action would.
  const stdin = processStdin();
  const path = await socketPath();
  if (path === undefined) return;
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch {
    if (serverCount(path) < MAX_SERVERS) startServer(path);
    return;
  }
  const reader = new FrameReader(conn);
  try {
    await writeFrame(conn, { action, argv });
    if (!isAck(await reader.next())) throw new Error("not accepted");
  } catch {
    conn.close();
    return;
  }
  // Accepted: from here on the action is the server's, and never runs here too.
  stdin.then((outcome) => writeFrame(conn, outcome)).catch(() => {});
  let output: ActionOutput;
  try {
    output = asOutput(await reader.next()) ?? lost();
  } catch {
    output = lost();
  }
  await within(stdin, STDIN_GRACE_MS);
  writeOutput(output);
}

/** The failure of an action whose server went away after accepting it. */
function lost(): ActionOutput {
  return { code: 1, ...formatFailure(LOST_SERVER) };
}

/**
 * The socket of the server for this user, program, directory and environment, its directory
 * checked (created 0700, this user's, writable by no one else).
 *
 * @returns The path, or `undefined` when no server may be used: the driver does not run from
 *   its build, or the directory is unsafe.
 */
async function socketPath(): Promise<string | undefined> {
  const program = builtProgram();
  if (program === undefined) return undefined;
  const dir = pollStateDir(undefined);
  try {
    await checkStateDir(dir);
  } catch {
    return undefined;
  }
  const path = `${dir}/driver-${await identity(program)}.sock`;
  return path.length <= MAX_SOCKET_PATH ? path : undefined;
}

/**
 * The file of the built program that runs: the compiled executable, or the portable form's
 * bundle. Sources run by `deno run lib/driver_main.ts` have none (and no server).
 */
function builtProgram(): string | undefined {
  if (Deno.build.standalone) return Deno.execPath();
  const main = Deno.mainModule;
  if (!main.startsWith("file:") || !main.endsWith("/js/driver_main.js")) return undefined;
  return decodeURIComponent(new URL(main).pathname);
}

/** A digest of everything that could change what an action does, in hex. */
async function identity(program: string): Promise<string> {
  const build = await Deno.stat(program).then(
    (info) => `${info.ino}:${info.size}:${info.mtime?.getTime()}`,
    () => "",
  );
  const env = Object.entries(Deno.env.toObject()).map(([k, v]) => `${k}=${v}`).sort();
  const text = [
    `uid=${currentUid()}`,
    `runtime=${Deno.execPath()}`,
    `program=${program}`,
    `build=${build}`,
    `cwd=${Deno.cwd()}`,
    ...env,
  ].join("\0");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest).subarray(0, 12), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** How many server sockets the directory of `path` holds. */
function serverCount(path: string): number {
  let count = 0;
  try {
    for (const entry of Deno.readDirSync(path.slice(0, path.lastIndexOf("/")))) {
      if (/^driver-[0-9a-f]+\.sock$/.test(entry.name)) count++;
    }
  } catch {
    return MAX_SERVERS;
  }
  return count;
}

/**
 * Starts a server on a socket, detached from this process (which does not wait for it), with
 * this runtime and the same flags; its output goes nowhere. Failing to start one is no failure.
 */
function startServer(path: string): void {
  const args = Deno.build.standalone
    ? ["--serve", path]
    : ["run", ...PORTABLE_RUN_FLAGS, builtProgram()!, "--serve", path];
  try {
    new Deno.Command("/proc/self/exe", {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      detached: true,
    }).spawn().unref();
  } catch {
    // Not allowed or not possible here: actions keep running in their own processes.
  }
}
