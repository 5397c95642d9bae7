/**
 * Hosts whose settings are in their OpenNebula template, as the built-in EC2 driver kept them
 * (`REGION_NAME`, `EC2_ACCESS`, `EC2_SECRET`, encrypted by oned): the built actions and probes,
 * run as oned runs them, against the local EC2 endpoint and a stand-in oned that keeps the keys
 * encrypted. What each run asks oned is counted: one call when oned names the host's id, none
 * for a host whose configuration file decides everything.
 */

import assert from "node:assert/strict";
import { type Ec2Endpoint, startEc2Endpoint, TEST_CREDENTIALS } from "./ec2_endpoint/mod.ts";
import { actionData, vmDeployment, writeDeployment } from "./deployments.ts";
import {
  type ActionResult,
  deployedId,
  failureLine,
  FIXTURE_SECTION,
  instanceOf,
  oneBase64,
  runAction,
  runProcess,
  sharedTest as test,
  writeLocalConfig,
} from "./harness.ts";
import { type FakeOned, type OnedCall, startFakeOned } from "./oned_xmlrpc.ts";

const DIST = new URL("../dist", import.meta.url).pathname;
const TEMPLATE_HOST = "aws-tmpl";
const TEMPLATE_HOST_ID = 7;
const FILE_HOST = "aws-file";
const SECRET = TEST_CREDENTIALS.secretAccessKey;

const tmp = await Deno.makeTempDir({ prefix: "hybrid-host-template-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const ep: Ec2Endpoint = await startEc2Endpoint({ timing: { pendingMs: 0, shuttingDownMs: 0 } });
const oned: FakeOned = await startFakeOned({ user: "oneadmin", password: "tmpl-pass" });
const AUTH = `${tmp}/one_auth`;
await Deno.writeTextFile(AUTH, "oneadmin:tmpl-pass\n");
oned.setHost(3, FILE_HOST);
oned.setHost(TEMPLATE_HOST_ID, TEMPLATE_HOST);
oned.setHostCapacity(TEMPLATE_HOST_ID, { T3_MICRO: "4" });
await oned.setHostAttributes(TEMPLATE_HOST_ID, {
  REGION_NAME: "us-east-1",
  EC2_ACCESS: TEST_CREDENTIALS.accessKeyId,
  EC2_SECRET: SECRET,
});
// The template host's entry names its endpoint only; the file host's decides everything.
const config = await writeLocalConfig(`${tmp}/hybrid_driver.json`, ep.url, TEST_CREDENTIALS, {
  hosts: { [FILE_HOST]: {}, [TEMPLATE_HOST]: {} },
});
const configText = JSON.parse(await Deno.readTextFile(config));
const { accessKeyId: _a, secretAccessKey: _s, region: _r, ...shared } = configText.defaults;
await Deno.writeTextFile(
  config,
  JSON.stringify({
    defaults: { ...shared, statePollSeconds: 0.05, notFoundRetrySeconds: 1 },
    hosts: {
      [FILE_HOST]: { region: "us-east-1", ...TEST_CREDENTIALS },
      [TEMPLATE_HOST]: {},
    },
  }),
  { mode: 0o600 },
);
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config, ONE_XMLRPC: oned.url, ONE_AUTH: AUTH };

/** What the runs of `fn` asked oned. */
async function asked<T>(fn: () => Promise<T>): Promise<{ result: T; calls: OnedCall[] }> {
  const before = oned.calls.length;
  const result = await fn();
  return { result, calls: oned.calls.slice(before) };
}

/** Deploys a VM as oned 5.x+ does: the deployment (the VM, its history naming the host) on stdin. */
async function deploy(vmId: number, host: string, hostId: number): Promise<ActionResult> {
  const xml = vmDeployment(vmId, FIXTURE_SECTION, { history: { host, hostId } });
  const path = await writeDeployment(tmp, vmId, xml);
  return await runAction("deploy", [path, host, String(vmId), host], {
    stdin: oneBase64(xml),
    env: ENV,
  });
}

/** One `one.host.info(session, id, true)`: the host's template, decrypted by oned. */
const HOST_INFO = { method: "one.host.info", params: [oned.session, TEMPLATE_HOST_ID, true] };

/** Asserts that a run printed nothing of the template's secret, nor of what oned keeps of it. */
function assertNoSecret(result: ActionResult): void {
  const stored = oned.storedHostAttributes(TEMPLATE_HOST_ID).EC2_SECRET!;
  for (const text of [result.stdout, result.stderr]) {
    assert.ok(!text.includes(SECRET) && !text.includes(stored), text);
  }
}

test("a VM on a host whose region and keys are in its template deploys, polls and terminates, each action asking oned once for the host oned names", async () => {
  ep.reset();
  const deployed = await asked(() => deploy(301, TEMPLATE_HOST, TEMPLATE_HOST_ID));
  const id = deployedId(deployed.result);
  assert.deepEqual(deployed.calls, [HOST_INFO]);
  assert.equal(instanceOf(ep, id).state, "running");
  const data = (lcmState: number) =>
    oneBase64(actionData(301, TEMPLATE_HOST, id, { lcmState, hostId: TEMPLATE_HOST_ID }));
  const polled = await asked(() =>
    runAction("poll", [id, TEMPLATE_HOST, "301", TEMPLATE_HOST], { stdin: data(3), env: ENV })
  );
  assert.equal(polled.result.code, 0, polled.result.stdout);
  assert.match(polled.result.stdout, /^STATE=a /);
  assert.deepEqual(polled.calls, [HOST_INFO]);
  const ended = await asked(() =>
    runAction("shutdown", [id, TEMPLATE_HOST, "301", TEMPLATE_HOST], { stdin: data(12), env: ENV })
  );
  assert.equal(ended.result.code, 0, ended.result.stdout);
  assert.deepEqual(ended.calls, [HOST_INFO]);
  assert.equal(instanceOf(ep, id).state, "terminated");
  for (const run of [deployed, polled, ended]) assertNoSecret(run.result);
});

test("an action without the host's id on stdin (3.2–4.x) finds the host by name first", async () => {
  ep.reset();
  const id = deployedId(await deploy(302, TEMPLATE_HOST, TEMPLATE_HOST_ID));
  const polled = await asked(() =>
    runAction("poll", [id, TEMPLATE_HOST, "302", TEMPLATE_HOST], { env: ENV })
  );
  assert.equal(polled.result.code, 0, polled.result.stdout);
  assert.deepEqual(polled.calls.map((c) => c.method), ["one.hostpool.info", "one.host.info"]);
});

test("a host whose configuration file sets its region and credentials asks oned nothing", async () => {
  ep.reset();
  const deployed = await asked(() => deploy(303, FILE_HOST, 3));
  const id = deployedId(deployed.result);
  const polled = await asked(() =>
    runAction("poll", [id, FILE_HOST, "303", FILE_HOST], {
      stdin: oneBase64(actionData(303, FILE_HOST, id, { hostId: 3 })),
      env: ENV,
    })
  );
  assert.equal(polled.result.code, 0, polled.result.stdout);
  assert.deepEqual([...deployed.calls, ...polled.calls], []);
});

test("5.4–5.8 answer the keys encrypted: the action decrypts them with oned's ONE_KEY", async () => {
  ep.reset();
  oned.setVersion("5.8.5");
  try {
    const deployed = await asked(() => deploy(304, TEMPLATE_HOST, TEMPLATE_HOST_ID));
    deployedId(deployed.result);
    assert.deepEqual(deployed.calls.map((c) => c.method), ["one.host.info", "one.system.config"]);
    assertNoSecret(deployed.result);
    assert.ok(!deployed.result.stdout.includes(oned.oneKey));
  } finally {
    oned.setVersion(undefined);
  }
});

test("the template's secret is never printed, not even when the cloud's refusal quotes it", async () => {
  ep.reset();
  ep.fail("RunInstances", {
    code: "SignatureDoesNotMatch",
    message: `Check your AWS Secret Access Key ${SECRET} and signing method.`,
    status: 403,
  });
  const result = await deploy(305, TEMPLATE_HOST, TEMPLATE_HOST_ID);
  assert.match(
    failureLine(result),
    /SignatureDoesNotMatch: Check your AWS Secret Access Key \*\*\* /,
  );
  assertNoSecret(result);
});

test("a template oned cannot give fails the action in one line, touching nothing", async () => {
  ep.reset();
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const unreachable = `http://127.0.0.1:${(closed.addr as Deno.NetAddr).port}/RPC2`;
  closed.close();
  const xml = vmDeployment(306, FIXTURE_SECTION, {
    history: { host: TEMPLATE_HOST, hostId: TEMPLATE_HOST_ID },
  });
  const path = await writeDeployment(tmp, 306, xml);
  const result = await runAction("deploy", [path, TEMPLATE_HOST, "306", TEMPLATE_HOST], {
    stdin: oneBase64(xml),
    env: { ...ENV, ONE_XMLRPC: unreachable },
  });
  assert.equal(
    failureLine(result),
    `Cannot read host ${TEMPLATE_HOST}'s template from oned: oned at ${unreachable} cannot be reached: Connection refused (os error 111)`,
  );
  assert.equal(ep.countCalls(), 0);
});

test("the host probes take the keys and CAPACITY from one read of the template", async () => {
  ep.reset();
  const dir = `${DIST}/im/provider-probes.d/host/system`;
  const probe = [...Deno.readDirSync(dir)].map((e) => e.name).sort()[0]!;
  const system = await asked(() =>
    runProcess(`./${probe}`, [
      "provider",
      "/var/lib/one//datastores",
      "4124",
      "20",
      String(TEMPLATE_HOST_ID),
      TEMPLATE_HOST,
    ], { cwd: dir, env: ENV })
  );
  assert.equal(system.result.code, 0, system.result.stdout + system.result.stderr);
  assert.match(system.result.stdout, /^TOTALCPU=800$/m);
  // Besides oned's VMs (asked when the listing holds instances no mark ties to a VM).
  assert.deepEqual(system.calls.filter((c) => c.method !== "one.vmpool.info"), [HOST_INFO]);
  assertNoSecret(system.result);
});
