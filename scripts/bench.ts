/**
 * Start-up and per-call cost of the built actions, measured in one run so that the ratios mean
 * something on a noisy machine: the bare runtime, an action that fails on its input (never
 * loads the SDK), and full polls and deploys against the local endpoint, with the EC2 calls
 * each makes.
 *
 * Usage: deno task bench [--runs 15]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { AMAZON_LINUX_AMI, startEc2Endpoint, TEST_CREDENTIALS } from "../tests/ec2_endpoint/mod.ts";
import { actionData, vmDeployment } from "../tests/deployments.ts";
import { DIST_VMM, oneBase64, runAction, writeLocalConfig } from "../tests/harness.ts";
import { parseCli } from "./cli.ts";

const USAGE = `Usage: deno task bench [--runs 15]

Measures the start-up and per-call cost of the built actions (dist/) against the local endpoint.

  --runs N  how many runs of each measurement (15)

Exit status: 0 measured, 1 failed, 2 bad command line.`;
const { values } = parseCli("bench", USAGE, () =>
  parseArgs({
    args: Deno.args,
    options: { runs: { type: "string", default: "15" } },
  }));
const runs = Number(values.runs);
const ep = await startEc2Endpoint({ timing: { pendingMs: 0 } });
const tmp = await Deno.makeTempDir({ prefix: "hybrid-bench-" });
try {
  const config = `${tmp}/config.json`;
  await writeLocalConfig(config, ep.url, TEST_CREDENTIALS);

  const env = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };
  const xml = vmDeployment(7, { AMI: AMAZON_LINUX_AMI, INSTANCETYPE: "t3.micro" });
  const file = `${tmp}/deployment.0`;
  await Deno.writeTextFile(file, xml);
  const id = (await runAction("deploy", [file, "aws", "7", "aws"], { env })).stdout.trim();
  const data = oneBase64(actionData(7, "aws", id));

  const bare = `${tmp}/empty.js`;
  await Deno.writeTextFile(bare, "");
  const runtime = await Deno.stat(`${DIST_VMM}.driver/deno`).then(
    () => `${DIST_VMM}.driver/deno`,
    () => undefined,
  );

  const cases: [string, () => Promise<unknown>][] = [
    ["poll, bad input (no SDK load)", () => runAction("poll", ["bad", "aws", "7"], { env })],
    ["poll, 5.x stdin", () => runAction("poll", [id, "aws", "7", "aws"], { stdin: data, env })],
    [
      "deploy, retried",
      () => runAction("deploy", [file, "aws", "7", "aws"], { stdin: oneBase64(xml), env }),
    ],
  ];
  if (runtime) {
    cases.unshift([
      "bare runtime (empty script)",
      () =>
        new Deno.Command(runtime, {
          args: ["run", "--quiet", "--no-config", bare],
          env: { HOME: tmp },
        }).output(),
    ]);
  }
  console.log(`${runs} runs each, median wall time; ${Deno.build.target}`);
  let base: number | undefined;
  for (const [name, run] of cases) {
    await run(); // warm the code cache
    const callsBefore = ep.countCalls();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await run();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    base ??= median;
    const calls = (ep.countCalls() - callsBefore) / runs;
    console.log(
      `${name.padEnd(32)} ${median.toFixed(0).padStart(5)} ms  x${
        (median / base).toFixed(2)
      }  EC2 calls/run ${calls.toFixed(1)}`,
    );
  }
} finally {
  await ep.close();
  await Deno.remove(tmp, { recursive: true });
}
