/**
 * Runs the local EC2-compatible endpoint until killed:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 tests/ec2_endpoint/main.ts [--port N]
 * ```
 *
 * @module
 */

import { startEc2Endpoint, TEST_CREDENTIALS } from "./mod.ts";

function parsePort(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = arg === "--port" ? args[i + 1] : arg.startsWith("--port=") ? arg.slice(7) : null;
    if (value === null) {
      console.error(`Unknown argument: ${arg}\nUsage: main.ts [--port N]`);
      Deno.exit(2);
    }
    const port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      console.error(`Invalid port: ${value ?? ""}`);
      Deno.exit(2);
    }
    return port;
  }
  return 0;
}

const endpoint = await startEc2Endpoint({ port: parsePort(Deno.args) });
console.log(`EC2 endpoint listening on ${endpoint.url}`);
console.log(
  `Access key id ${TEST_CREDENTIALS.accessKeyId}, secret access key ${TEST_CREDENTIALS.secretAccessKey}, any region (e.g. us-east-1)`,
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    endpoint.close().finally(() => Deno.exit(0));
  });
}
