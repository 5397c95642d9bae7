/**
 * The demo: a VM's whole life on the local EC2-compatible endpoint, driven the way OpenNebula
 * 5.x drives a VMM driver (`tests/one_vmm.ts` plays `one_vmm_sh`: argument lists, quoting,
 * base64 stdin, an environment of its own). Each step prints the command oned runs and the
 * reply it records. The endpoint uses seconds-long transitions (`REALISTIC_TIMING`), so every
 * step that waits for EC2 visibly does. Each step shows the command, what oned wrote to its stdin
 * (the LCM state, which tells a power-off from a terminate), its exit code, its output (a
 * failure once, as oned reads it from the stderr fence), what the step created in the cloud, and
 * the reply oned records. No cloud account needed. `deno task demo` builds first.
 *
 * Usage: deno task demo [--help]
 *
 * @module
 */

import {
  AMAZON_LINUX_AMI,
  REALISTIC_TIMING,
  startEc2Endpoint,
  TEST_CREDENTIALS,
} from "../tests/ec2_endpoint/mod.ts";
import { DIST_VMM, writeLocalConfig } from "../tests/harness.ts";
import { type Exchange, SimulatedVm } from "../tests/one_vmm.ts";
import { lcmStateName } from "../lib/opennebula/lcm.ts";
import { parseArgs } from "node:util";
import { parseCli } from "../scripts/cli.ts";

const USAGE = `Usage: deno task demo

Builds dist/, starts a local EC2-compatible endpoint and drives one VM's whole life-cycle through
the built actions as oned 5.x does, printing for each step the command, what oned wrote to its
stdin (the LCM state), its outcome, what it created and the reply oned records. Takes no options.

Exit status: 0 done, 2 bad command line.`;
parseCli("demo", USAGE, () => parseArgs({ args: Deno.args, options: {} }));

/** What oned wrote to the action's stdin, in words. */
function carried(exchange: Exchange): string {
  const { kind, lcmState } = exchange.stdinCarried;
  if (kind !== "action data" || lcmState === undefined) return kind;
  return `action data, LCM_STATE ${lcmStateName(lcmState)}`;
}

const HOST = "aws-demo";
const VM_ID = 42;
const SECTION = {
  AMI: AMAZON_LINUX_AMI,
  INSTANCETYPE: "t3.micro",
  KEYPAIR: "one-key",
  TAGS: "team=demo",
};

const ep = await startEc2Endpoint({ timing: REALISTIC_TIMING });
const tmp = await Deno.makeTempDir({ prefix: "hybrid-demo-" });
try {
  const config = `${tmp}/hybrid_driver.json`;
  await writeLocalConfig(config, ep.url, TEST_CREDENTIALS, {
    defaults: { statePollSeconds: 0.5 },
    hosts: { [HOST]: {} },
  });
  const env = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };
  console.log(`Local EC2 endpoint: ${ep.url} (region us-east-1, transitions take ~3 s)`);
  console.log(`Driver: ${DIST_VMM}`);
  console.log(`Driver configuration (HYBRID_DRIVER_CONFIG): ${config}\n`);

  const vm = new SimulatedVm("5.x", VM_ID, HOST, SECTION, tmp, env);
  const steps: [string, () => Promise<string>][] = [
    ["onevm deploy: launch, tagged, wait for running", () => vm.deploy()],
    ["monitoring", () => vm.poll()],
    ["oned retries the same deploy: same instance, nothing launched", () => vm.retryDeploy()],
    ["onevm suspend: stop the instance, write the checkpoint file", () => vm.save()],
    ["monitoring", () => vm.poll()],
    ["onevm resume: start it again", () => vm.restore()],
    ["onevm reboot", () => vm.reboot()],
    [
      "a checkpoint: an AMI of the running VM, no reboot",
      () => vm.other("checkpoint", [vm.checkpointFile]),
    ],
    ["onevm poweroff: stop, keep the instance", () => vm.poweroff()],
    ["onevm resume after poweroff: start the same instance", () => vm.resumeFromPoweroff()],
    [
      "onevm disk-attach: EC2 cannot, so it fails",
      () => vm.other("attach_disk", ["/tmp/x", "sdb", "1", "-"]),
    ],
    ["onevm terminate: terminate, wait for terminated", () => vm.terminate()],
    ["monitoring", () => vm.poll()],
  ];
  const instanceIds = () => new Set(ep.instances("us-east-1").map((i) => i.instanceId));
  const imageIds = () =>
    new Set(ep.images("us-east-1").filter((i) => i.sourceInstanceId).map((i) => i.imageId));
  for (const [what, step] of steps) {
    const [instancesBefore, imagesBefore] = [instanceIds(), imageIds()];
    const started = performance.now();
    await step();
    const last = vm.log.at(-1)!;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`# ${what} (${seconds} s)`);
    console.log(`$ ${last.command.replace(DIST_VMM, "")}`);
    console.log(`  stdin: ${carried(last)}`);
    console.log(`  exit ${last.code}`);
    if (last.code === 0) {
      if (last.stdout) console.log(`  stdout: ${last.stdout.trimEnd()}`);
    } else {
      // The message is written twice (stdout for 3.2, the stderr fence for 4.x+): shown once.
      const fenced = /ERROR MESSAGE --8<------\n([^\n]*)\n/.exec(last.stderr)?.[1];
      console.log(`  error: ${fenced ?? last.stderr.trimEnd()}`);
    }
    const created = [
      ...[...instanceIds()].filter((id) => !instancesBefore.has(id)).map((id) => `instance ${id}`),
      ...[...imageIds()].filter((id) => !imagesBefore.has(id)).map((id) => `image ${id}`),
    ];
    if (created.length > 0) console.log(`  created: ${created.join(", ")}`);
    console.log(`  oned records: ${last.reply}\n`);
  }

  const calls = ep.calls.map((c) => c.action);
  const counts = [...new Set(calls)].map((a) => `${a} ${calls.filter((c) => c === a).length}`);
  console.log(`EC2 API calls made: ${calls.length} (${counts.join(", ")})`);
  console.log(`Instances launched: ${ep.instances("us-east-1").length}`);
  console.log(`Images created: ${ep.images("us-east-1").filter((i) => i.sourceInstanceId).length}`);
} finally {
  await ep.close();
  await Deno.remove(tmp, { recursive: true });
}
