/**
 * The demo: runs the built driver against the local EC2-compatible endpoint exactly as oned
 * would (OpenNebula 5.x argument lists, base64 stdin, an environment of its own), showing each
 * call, its exit code and its output. No cloud account needed. `deno task demo` builds first.
 *
 * @module
 */

import { startEc2Endpoint, TEST_CREDENTIALS } from "../tests/ec2_endpoint/mod.ts";
import { actionData, vmDeployment } from "../tests/deployments.ts";
import {
  type ActionResult,
  DIST_VMM,
  oneBase64,
  runAction,
  writeLocalConfig,
} from "../tests/harness.ts";

const HOST = "aws-demo";
const VM_ID = 42;

const ep = await startEc2Endpoint({ timing: { pendingMs: 1_500, shuttingDownMs: 1_500 } });
const tmp = await Deno.makeTempDir({ prefix: "hybrid-demo-" });
try {
  const config = `${tmp}/hybrid_driver.json`;
  await writeLocalConfig(config, ep.url, TEST_CREDENTIALS, { hosts: { [HOST]: {} } });

  await Deno.mkdir(`${tmp}/vms/${VM_ID}`, { recursive: true });
  const deployment = `${tmp}/vms/${VM_ID}/deployment.0`;
  const xml = vmDeployment(VM_ID, {
    AMI: "ami-0abcdef1234567890",
    INSTANCETYPE: "t3.micro",
    KEYPAIR: "one-key",
    TAGS: "team=demo",
  }, { name: "web" });
  await Deno.writeTextFile(deployment, xml);
  const env = { HOME: `${tmp}`, HYBRID_DRIVER_CONFIG: config };

  console.log(`Local EC2 endpoint: ${ep.url} (region us-east-1)`);
  console.log(`Driver: ${DIST_VMM}`);
  console.log(`Driver configuration (HYBRID_DRIVER_CONFIG): ${config}\n`);

  const deployed = await show(
    "deploy",
    [deployment, HOST, String(VM_ID), HOST],
    oneBase64(xml),
    env,
  );
  if (deployed.code !== 0) throw new Error("deploy failed");
  const id = deployed.stdout.trim();
  const data = oneBase64(actionData(VM_ID, HOST, id));
  await show("poll", [id, HOST, String(VM_ID), HOST], data, env);
  console.log("(waiting for the instance to boot)\n");
  await new Promise((resolve) => setTimeout(resolve, 1_800));
  await show("poll", [id, HOST, String(VM_ID), HOST], data, env);
  console.log("(oned retries the same deployment: same instance, nothing new launched)\n");
  await show("deploy", [deployment, HOST, String(VM_ID), HOST], oneBase64(xml), env);
  await show(
    "shutdown",
    [id, HOST, String(VM_ID), HOST],
    oneBase64(actionData(VM_ID, HOST, id, { lcmState: 12 })),
    env,
  );
  await new Promise((resolve) => setTimeout(resolve, 1_800));
  await show("poll", [id, HOST, String(VM_ID), HOST], data, env);
  await show("poll", ["i-0000000000000000f", HOST, "43", HOST], "", env);

  const calls = ep.calls.map((c) => c.action);
  console.log(
    `EC2 API calls made: ${calls.length} (${
      [...new Set(calls)].map((a) => `${a} ${calls.filter((c) => c === a).length}`).join(", ")
    })`,
  );
  console.log(`Instances launched: ${ep.instances("us-east-1").length}`);
} finally {
  await ep.close();
  await Deno.remove(tmp, { recursive: true });
}

/** Runs one action as oned would and prints the call and what oned gets back. */
async function show(
  action: string,
  args: string[],
  stdin: string,
  env: Record<string, string>,
): Promise<ActionResult> {
  const quoted = args.map((a) => `'${a}'`).join(" ");
  console.log(`$ ${action} ${quoted}${stdin ? "   <<< base64 on stdin" : ""}`);
  const result = await runAction(action, args, { stdin, env });
  console.log(`exit ${result.code}`);
  if (result.stdout) console.log(`stdout: ${result.stdout.trimEnd()}`);
  if (result.stderr) console.log(`stderr: ${result.stderr.trimEnd().replace(/\n/g, "\n        ")}`);
  console.log("");
  return result;
}
