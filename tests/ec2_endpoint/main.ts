/**
 * Runs the local EC2-compatible endpoint until killed:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 tests/ec2_endpoint/main.ts [--port N] [--realistic]
 * ```
 *
 * `--realistic` uses {@link REALISTIC_TIMING} (seconds-long transitions) instead of the fast
 * defaults.
 *
 * @module
 */

import { REALISTIC_TIMING, startEc2Endpoint, TEST_CREDENTIALS } from "./mod.ts";

const USAGE = "Usage: main.ts [--port N] [--realistic]";

function parseArgs(args: readonly string[]): { port: number; realistic: boolean } {
  let port = 0;
  let realistic = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--realistic") {
      realistic = true;
      continue;
    }
    const value = arg === "--port" ? args[++i] : arg.startsWith("--port=") ? arg.slice(7) : null;
    if (value === null) {
      console.error(`Unknown argument: ${arg}\n${USAGE}`);
      Deno.exit(2);
    }
    port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      console.error(`Invalid port: ${value ?? ""}`);
      Deno.exit(2);
    }
  }
  return { port, realistic };
}

const { port, realistic } = parseArgs(Deno.args);
const endpoint = await startEc2Endpoint({
  port,
  ...(realistic ? { timing: REALISTIC_TIMING } : {}),
});
console.log(`EC2 endpoint listening on ${endpoint.url}${realistic ? " (realistic timing)" : ""}`);
console.log(
  `Access key id ${TEST_CREDENTIALS.accessKeyId}, secret access key ${TEST_CREDENTIALS.secretAccessKey}, any region (e.g. us-east-1)`,
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    endpoint.close().finally(() => Deno.exit(0));
  });
}
