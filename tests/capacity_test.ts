/**
 * A deploy that would go past its host's capacity, run as oned runs it: the built `deploy`
 * against the local endpoint, refused with one line before anything is launched, with exactly
 * one DescribeInstances for the check; sizes read from DescribeInstanceTypes and cached.
 */

import assert from "node:assert/strict";
import { startEc2Endpoint, TEST_CREDENTIALS } from "./ec2_endpoint/mod.ts";
import { vmDeployment, writeDeployment } from "./deployments.ts";
import {
  deployedId,
  failureLine,
  FIXTURE_SECTION,
  instancesOfVm,
  oneBase64,
  runAction,
  sharedTest as test,
  writeLocalConfig,
} from "./harness.ts";

const tmp = await Deno.makeTempDir({ prefix: "hybrid-capacity-" });
const home = `${tmp}/home`;
await Deno.mkdir(home);
const ep = await startEc2Endpoint({ timing: { pendingMs: 100, shuttingDownMs: 0 } });
const config = await writeLocalConfig(`${tmp}/config.json`, ep.url, TEST_CREDENTIALS, {
  defaults: { statePollSeconds: 0.1 },
  hosts: {
    "aws-counts": { capacity: { "m5.large": 1, "t3.micro": 2 } },
    // i4i.large (2 vCPUs, 16 GiB) is not in the driver's table: only EC2 can size it.
    "aws-totals": { capacity: { vcpus: 3, memoryGiB: 20 } },
  },
});
const ENV = { HOME: home, HYBRID_DRIVER_CONFIG: config };
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

async function deploy(vmId: number, host: string, type: string) {
  const xml = vmDeployment(vmId, { ...FIXTURE_SECTION, INSTANCETYPE: type });
  const path = await writeDeployment(tmp, vmId, xml);
  return runAction("deploy", [path, host, String(vmId), host], { stdin: oneBase64(xml), env: ENV });
}

/** What a deploy sent: calls made while it ran, by action. */
async function callsOf<T>(run: () => Promise<T>): Promise<[T, Record<string, number>]> {
  const before = ep.calls.length;
  const result = await run();
  const counts: Record<string, number> = {};
  for (const call of ep.calls.slice(before)) counts[call.action] = (counts[call.action] ?? 0) + 1;
  return [result, counts];
}

test("a deploy past its type's count is refused before any launch, with one DescribeInstances", async () => {
  const first = deployedId(await deploy(901, "aws-counts", "m5.large"));
  const [refused, calls] = await callsOf(() => deploy(902, "aws-counts", "m5.large"));
  assert.deepEqual(refused, {
    code: 1,
    stdout:
      "Cannot deploy VM 902 to host aws-counts: its capacity allows 1 m5.large and 1 is pending or running\n",
    stderr: "ERROR MESSAGE --8<------\n" +
      "Cannot deploy VM 902 to host aws-counts: its capacity allows 1 m5.large and 1 is pending or running\n" +
      "ERROR MESSAGE ------>8--\n",
  });
  assert.deepEqual(calls, { DescribeInstances: 1 });
  const check = ep.calls.at(-1)!.params;
  assert.equal(check["Filter.1.Name"], "tag:opennebula:host");
  assert.equal(check["Filter.1.Value.1"], "aws-counts");
  assert.deepEqual(instancesOfVm(ep, 902), []);
  // The first VM's retried deploy is not refused by its own instance, and launches nothing.
  const [retry, retryCalls] = await callsOf(() => deploy(901, "aws-counts", "m5.large"));
  assert.equal(deployedId(retry), first);
  assert.equal(retryCalls.RunInstances, undefined);
  // Other types have their own counts; a type the capacity does not list is refused.
  deployedId(await deploy(903, "aws-counts", "t3.micro"));
  assert.equal(
    failureLine(await deploy(904, "aws-counts", "t3.small")),
    "Cannot deploy VM 904 to host aws-counts: its capacity allows no t3.small (it lists m5.large, t3.micro)",
  );
  assert.deepEqual(instancesOfVm(ep, 904), []);
});

test("a deploy past the host's vCPUs is refused, sizing a type the table does not know from DescribeInstanceTypes, cached", async () => {
  const [, firstCalls] = await callsOf(async () =>
    deployedId(await deploy(911, "aws-totals", "i4i.large"))
  );
  assert.equal(firstCalls.DescribeInstanceTypes, 1);
  const [refused, calls] = await callsOf(() => deploy(912, "aws-totals", "t3.micro"));
  assert.equal(
    failureLine(refused),
    "Cannot deploy VM 912 to host aws-totals: its capacity allows 3 vCPUs, pending and running instances hold 2 and t3.micro needs 2",
  );
  assert.deepEqual(calls, { DescribeInstances: 1, DescribeInstanceTypes: 1 });
  assert.deepEqual(instancesOfVm(ep, 912), []);
  const [again, cachedCalls] = await callsOf(() => deploy(912, "aws-totals", "t3.micro"));
  failureLine(again);
  assert.deepEqual(cachedCalls, { DescribeInstances: 1 }, "both sizes come from the cache now");
  const cacheFiles = [...Deno.readDirSync(`${home}/.cache/one-hybrid`)].map((e) => e.name);
  assert.equal(cacheFiles.length, 1);
  assert.match(cacheFiles[0]!, /^instance-types-[0-9a-f]{16}\.json$/);
});

test("a deploy to a host whose capacity the configuration does not give sends no extra request", async () => {
  const open = await writeLocalConfig(`${tmp}/open.json`, ep.url, TEST_CREDENTIALS, {
    defaults: { statePollSeconds: 0.1 },
  });
  const xml = vmDeployment(921, FIXTURE_SECTION);
  const path = await writeDeployment(tmp, 921, xml);
  const before = ep.calls.length;
  const [result, calls] = await callsOf(() =>
    runAction("deploy", [path, "aws-open", "921", "aws-open"], {
      stdin: oneBase64(xml),
      env: { ...ENV, HYBRID_DRIVER_CONFIG: open },
    })
  );
  deployedId(result);
  assert.equal(calls.DescribeInstanceTypes, undefined);
  // The earlier attempt's lookup and the waits for running; never a lookup by host.
  const byHost = ep.calls.slice(before).filter((c) =>
    c.action === "DescribeInstances" && c.params["Filter.1.Name"] === "tag:opennebula:host"
  );
  assert.deepEqual(byHost, []);
  assert.ok(calls.DescribeInstances! >= 1);
});
