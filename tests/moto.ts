/**
 * moto, the EC2 emulator that LocalStack builds on, for the contract suite: a server the project
 * did not write. `.ci/run` starts one and names it in `MOTO_ENDPOINT`; without that variable the
 * suite starts its own `python3 -m moto.server` on 127.0.0.1 and stops it at the end.
 *
 * @module
 */

/** A moto server the tests may use. */
export interface MotoServer extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Forgets every resource (moto's own reset API). */
  reset(): Promise<void>;
  /** Stops a server this module started, without waiting (for `unload` handlers). */
  kill(): void;
}

/** How long moto may take to start answering. */
const START_TIMEOUT_MS = 60_000;

/**
 * Uses the moto server named by `MOTO_ENDPOINT`, or starts one.
 *
 * @returns The server; disposing it stops a server this function started.
 * @throws {Error} saying so when python3 cannot run moto.
 */
export async function useMoto(): Promise<MotoServer> {
  const given = Deno.env.get("MOTO_ENDPOINT");
  if (given) {
    await waitUntilUp(given, undefined);
    return server(given.replace(/\/$/, ""), () => {}, async () => {});
  }
  const port = freePort();
  const child = new Deno.Command("python3", {
    args: ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)],
    stdout: "null",
    stderr: "piped",
    env: { PYTHONUNBUFFERED: "1" },
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  const stderr = collect(child.stderr);
  try {
    await waitUntilUp(url, child);
  } catch (error) {
    try {
      child.kill();
    } catch { /* already gone */ }
    await child.status;
    const said = (await stderr).trim().split("\n").pop() ?? "";
    throw new Error(
      `Cannot start moto (python3 -m moto.server): ${said || (error as Error).message}. ` +
        "Install it with: python3 -m pip install 'moto[server]'",
    );
  }
  const kill = () => {
    try {
      child.kill();
    } catch { /* already gone */ }
  };
  return server(url, kill, async () => {
    kill();
    await child.status;
    await stderr;
  });
}

function server(url: string, kill: () => void, stop: () => Promise<void>): MotoServer {
  return {
    url,
    kill,
    reset: async () => {
      const response = await fetch(`${url}/moto-api/reset`, { method: "POST" });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`moto reset answered HTTP ${response.status}`);
    },
    [Symbol.asyncDispose]: stop,
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) text = (text + decoder.decode(chunk)).slice(-4096);
  return text;
}

async function waitUntilUp(url: string, child: Deno.ChildProcess | undefined): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = false;
  child?.status.then(() => exited = true);
  for (;;) {
    try {
      const response = await fetch(`${url}/moto-api/data.json`);
      await response.body?.cancel();
      if (response.ok) return;
    } catch { /* not listening yet */ }
    if (exited) throw new Error("it exited");
    if (Date.now() > deadline) throw new Error(`no answer from ${url} in ${START_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
