/**
 * How deploy finds the instance of an earlier attempt on endpoints that differ from EC2: one
 * that rejects the tag filters, one that answers a spent token with an error. moto's side of
 * this (no `client-token` filter, no token deduplication) is in `moto_contract_test.ts`.
 */

import assert from "node:assert/strict";
import { AMAZON_LINUX_AMI, startEc2Endpoint, TEST_CREDENTIALS } from "./ec2_endpoint/mod.ts";
import { vmDeployment, writeDeployment } from "./deployments.ts";
import {
  deployedId,
  failureLine,
  instancesOfVm,
  oneBase64,
  runAction,
  sharedTest as test,
  writeLocalConfig,
} from "./harness.ts";

const HOST = "aws-lookup";
const SECTION = { AMI: AMAZON_LINUX_AMI, INSTANCETYPE: "t3.micro" };
const tmp = await Deno.makeTempDir({ prefix: "hybrid-lookup-" });
const ep = await startEc2Endpoint({ timing: { pendingMs: 100, shuttingDownMs: 0 } });
const config = await writeLocalConfig(`${tmp}/config.json`, ep.url, TEST_CREDENTIALS, {
  defaults: { statePollSeconds: 0.1 },
});
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

async function deploy(vmId: number, section: Record<string, string> = SECTION) {
  const xml = vmDeployment(vmId, section);
  const path = await writeDeployment(tmp, vmId, xml);
  return runAction("deploy", [path, HOST, String(vmId), HOST], { stdin: oneBase64(xml), env: ENV });
}

const describeCalls = () => ep.calls.filter((c) => c.action === "DescribeInstances");

test("deploy looks for an earlier attempt by its tags and live states, with no client-token filter", async () => {
  ep.reset();
  deployedId(await deploy(801));
  const lookup = describeCalls()[0]!.params;
  assert.equal(lookup["Filter.1.Name"], "tag:opennebula:vm-id");
  assert.equal(lookup["Filter.1.Value.1"], "801");
  assert.equal(lookup["Filter.3.Name"], "instance-state-name");
  assert.ok(!Object.values(lookup).includes("client-token"));
});

test("an endpoint that rejects the filters gets a plain DescribeInstances, and a retry still launches nothing", async () => {
  ep.reset();
  deployedId(await deploy(802)); // another VM's instance in the account
  const rejected = {
    code: "InvalidParameterValue",
    status: 400,
    message: "The filter 'tag:opennebula:vm-id' is invalid",
  };
  ep.fail("DescribeInstances", rejected);
  const id = deployedId(await deploy(803));
  ep.fail("DescribeInstances", rejected);
  assert.equal(deployedId(await deploy(803)), id);
  assert.equal(instancesOfVm(ep, 803).length, 1);
  assert.equal(instancesOfVm(ep, 802).length, 1, "the other VM's instance was not taken");
  const plain = describeCalls().filter((c) =>
    !("Filter.1.Name" in c.params) && !c.params["InstanceId.1"]
  );
  assert.equal(plain.length, 2, "one plain lookup per rejected filter");
});

test("a lookup that fails for another reason fails the deploy and launches nothing", async () => {
  ep.reset();
  ep.fail("DescribeInstances", { code: "UnauthorizedOperation", status: 403 });
  const line = failureLine(await deploy(804));
  assert.match(line, /^Cannot launch instance: UnauthorizedOperation: /);
  assert.equal(ep.countCalls("RunInstances"), 0);
});

test("a token EC2 answers IdempotentInstanceTerminated for moves deploy to the next derived token", async () => {
  ep.reset();
  const first = deployedId(await deploy(805));
  ep.setInstanceState(first, "terminated");
  const second = deployedId(await deploy(805));
  assert.notEqual(second, first);
  const runs = ep.calls.filter((c) => c.action === "RunInstances");
  assert.deepEqual(runs.map((c) => c.errorCode), [
    undefined,
    "IdempotentInstanceTerminated",
    undefined,
  ]);
  assert.equal(runs[2]!.params.ClientToken, `${runs[0]!.params.ClientToken}-r1`);
});

test("a retry after deploy moved to a derived token finds that token's instance and launches nothing", async () => {
  ep.reset();
  const first = deployedId(await deploy(808));
  ep.setInstanceState(first, "terminated");
  const second = deployedId(await deploy(808));
  const runs = ep.countCalls("RunInstances");
  assert.equal(deployedId(await deploy(808)), second);
  assert.equal(ep.countCalls("RunInstances"), runs, "found by its launch tags, not asked again");
});

test("a token EC2 saw with other parameters moves deploy to the next derived token", async () => {
  ep.reset();
  ep.fail("RunInstances", { code: "IdempotentParameterMismatch", status: 400 });
  const id = deployedId(await deploy(806));
  const runs = ep.calls.filter((c) => c.action === "RunInstances");
  assert.equal(runs.length, 2);
  assert.match(runs[1]!.params.ClientToken ?? "", /^one-806-[0-9a-f]{40}-r1$/);
  assert.equal(instancesOfVm(ep, 806)[0]?.instanceId, id);
});

test("a template's own CLIENTTOKEN that EC2 refuses as spent fails the deploy, naming it", async () => {
  ep.reset();
  ep.fail("RunInstances", { code: "IdempotentInstanceTerminated", status: 400 });
  const line = failureLine(await deploy(807, { ...SECTION, CLIENTTOKEN: "my-token-1" }));
  assert.equal(
    line,
    "Cannot launch instance: CLIENTTOKEN my-token-1 already launched an instance that is now terminated, or was used with other parameters; remove or change CLIENTTOKEN",
  );
  assert.equal(instancesOfVm(ep, 807).length, 0);
});
