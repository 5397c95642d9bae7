/**
 * Whole VM life-cycles driven the way OpenNebula 3.2 and 3.8–4.14 drive a VMM driver: no data
 * on stdin, so shutdown and cancel (sent alike for terminate, power-off and undeploy) must ask
 * oned for the VM's LCM state over XML-RPC. `tests/one_vmm.ts` plays `one_vmm_sh` and keeps a
 * stand-in oned (`tests/oned_xmlrpc.ts`) informed, as the real oned sets a VM's state before it
 * sends an action; each way of not getting an answer from oned must fail the action with one
 * line and leave the instance alone.
 */

import assert from "node:assert/strict";
import { type Ec2Endpoint, startEc2Endpoint, TEST_CREDENTIALS } from "./ec2_endpoint/mod.ts";
import { FIXTURE_SECTION, instancesOfVm, sharedTest as test, writeLocalConfig } from "./harness.ts";
import { type FakeOned, startFakeOned } from "./oned_xmlrpc.ts";
import { type OneGeneration, SimulatedVm } from "./one_vmm.ts";

const HOST = "aws-test";
const SECTION = FIXTURE_SECTION;
const PASSWORD = "0pen-Nebula-s3cret";

const tmp = await Deno.makeTempDir({ prefix: "hybrid-lifecycle-4x-" });
const ep: Ec2Endpoint = await startEc2Endpoint({
  timing: { pendingMs: 150, stoppingMs: 150, shuttingDownMs: 150 },
});
const oned: FakeOned = await startFakeOned({ user: "oneadmin", password: PASSWORD });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const config = await writeLocalConfig(`${tmp}/hybrid_driver.json`, ep.url, TEST_CREDENTIALS, {
  defaults: {
    statePollSeconds: 0.05,
    stateWaitSeconds: 20,
    actionTimeoutSeconds: 60,
    notFoundRetrySeconds: 1,
  },
});
const AUTH = `${tmp}/one_auth`;
await Deno.writeTextFile(AUTH, `oneadmin:${PASSWORD}\n`);
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config, ONE_XMLRPC: oned.url, ONE_AUTH: AUTH };

function vm(
  generation: OneGeneration,
  id: number,
  env: Record<string, string> = ENV,
  view: FakeOned | null = oned,
): SimulatedVm {
  return new SimulatedVm(generation, id, HOST, SECTION, tmp, env, view ?? undefined);
}

function stateOf(id: string | undefined): string | undefined {
  return ep.instances("us-east-1").find((i) => i.instanceId === id)?.state;
}

/** The one.vm.info calls oned received for a VM. */
function infoCalls(vmId: number): number {
  return oned.calls.filter((c) => c.method === "one.vm.info" && c.params[1] === vmId).length;
}

test("OpenNebula 4.x: power-off keeps the instance and resume starts it, undeploy likewise, terminate ends it, with no stdin", async () => {
  const v = vm("4.x", 301);
  assert.match(await v.deploy(), /^DEPLOY SUCCESS 301 i-[0-9a-f]{17}$/);
  assert.match(
    v.log[0]!.command,
    new RegExp(`/deploy ${tmp}/vms/301/deployment\\.0 ${HOST} 301 ${HOST}$`),
  );
  const id = v.deployId!;
  assert.equal(stateOf(id), "running");
  assert.match(await v.poll(), /^POLL SUCCESS 301 STATE=a USEDMEMORY=1048576 AWS_STATE=running /);

  assert.equal(await v.save(), "SAVE SUCCESS 301 -");
  assert.equal(stateOf(id), "stopped");
  assert.equal(await v.restore(), "RESTORE SUCCESS 301 -");
  assert.match(
    v.log.at(-1)!.command,
    new RegExp(`/restore ${v.checkpointFile} ${HOST} ${id} 301 ${HOST}$`),
    "4.x passes the host, then the deploy id",
  );
  assert.equal(stateOf(id), "running");
  assert.equal(await v.reboot(), "REBOOT SUCCESS 301 -");
  assert.equal(await v.reset(), "RESET SUCCESS 301 -");
  assert.equal(infoCalls(301), 0, "only shutdown and cancel ask oned");

  assert.equal(await v.poweroff(), "SHUTDOWN SUCCESS 301 -");
  assert.equal(stateOf(id), "stopped", "power-off keeps the instance");
  assert.deepEqual(oned.calls.at(-1), { method: "one.vm.info", params: [oned.session, 301] });
  assert.equal(await v.resumeFromPoweroff(), `DEPLOY SUCCESS 301 ${id}`);
  assert.equal(stateOf(id), "running");

  const stops = ep.countCalls("StopInstances");
  assert.equal(await v.poweroff(true), "CANCEL SUCCESS 301 -");
  assert.equal(stateOf(id), "stopped", "power-off --hard keeps the instance");
  assert.equal(ep.countCalls("StopInstances") - stops, 1);
  assert.equal(ep.calls.filter((c) => c.action === "StopInstances").at(-1)?.params.Force, "true");
  assert.equal(await v.resumeFromPoweroff(), `DEPLOY SUCCESS 301 ${id}`);

  assert.equal(await v.undeploy(), "SHUTDOWN SUCCESS 301 -");
  assert.equal(stateOf(id), "stopped", "undeploy keeps the instance");
  assert.equal(await v.resumeFromUndeploy(), `DEPLOY SUCCESS 301 ${id}`);
  assert.equal(stateOf(id), "running");
  assert.equal(await v.undeploy(true), "CANCEL SUCCESS 301 -");
  assert.equal(stateOf(id), "stopped", "undeploy --hard keeps the instance");
  assert.equal(await v.resumeFromUndeploy(), `DEPLOY SUCCESS 301 ${id}`);

  assert.equal(await v.terminate(), "SHUTDOWN SUCCESS 301 -");
  assert.equal(stateOf(id), "terminated", "shutdown in SHUTDOWN terminates");
  assert.equal(infoCalls(301), 5, "each shutdown and cancel asked oned once");
  assert.equal(ep.countCalls("TerminateInstances"), 1);
  assert.equal(instancesOfVm(ep, 301).length, 1, "one instance for the whole life-cycle");
  for (const exchange of v.log) {
    assert.doesNotMatch(exchange.command, /'/, "4.x does not quote arguments");
  }
});

test("OpenNebula 4.x: cancel in CANCEL (3.8–4.12) and in SHUTDOWN (4.14 shutdown --hard) terminates", async () => {
  const a = vm("4.x", 302);
  await a.deploy();
  assert.equal(await a.terminate(true), "CANCEL SUCCESS 302 -");
  assert.equal(stateOf(a.deployId), "terminated");

  const b = vm("4.x", 303);
  await b.deploy();
  b.lcmState = 12;
  assert.equal(await b.other("cancel", []), "CANCEL SUCCESS 303 -");
  assert.equal(stateOf(b.deployId), "terminated");
});

test("OpenNebula 4.x: onevm delete terminates, whether the VM runs (CLEANUP_DELETE) or is powered off (DONE)", async () => {
  const running = vm("4.x", 304);
  await running.deploy();
  assert.equal(await running.delete(), "CANCEL SUCCESS 304 -");
  assert.equal(stateOf(running.deployId), "terminated");

  const off = vm("4.x", 305);
  await off.deploy();
  assert.equal(await off.poweroff(), "SHUTDOWN SUCCESS 305 -");
  assert.equal(stateOf(off.deployId), "stopped");
  assert.equal(await off.delete(), "CANCEL SUCCESS 305 -");
  assert.equal(stateOf(off.deployId), "terminated");
});

test("OpenNebula 4.x: when oned cannot say why, shutdown and cancel fail with one line and leave the instance running", async () => {
  const v = vm("4.x", 306);
  await v.deploy();
  const id = v.deployId!;
  const prefix = (action: string) =>
    `Cannot tell whether ${action} of VM 306 is a terminate, power-off or undeploy; ${id} left untouched: `;
  const wrongAuth = `${tmp}/one_auth.wrong`;
  await Deno.writeTextFile(wrongAuth, "oneadmin:not-the-password\n");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedUrl = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/RPC2`;
  listener.close();
  const emptyHome = await Deno.makeTempDir({ dir: tmp });

  const cases: [string, Record<string, string>, (() => void) | undefined, string][] = [
    [
      "wrong session",
      { ...ENV, ONE_AUTH: wrongAuth },
      undefined,
      `oned at ${oned.url} answered one.vm.info with error 256: [VirtualMachineInfo] User couldn't be authenticated, aborting call.`,
    ],
    [
      "HTTP 500",
      ENV,
      () => oned.misbehave("http-500"),
      `oned at ${oned.url} answered one.vm.info with HTTP 500 Internal Server Error`,
    ],
    [
      "no answer",
      { ...ENV, ONE_XMLRPC_TIMEOUT: "1" },
      () => oned.misbehave("no-answer"),
      `oned at ${oned.url} did not answer one.vm.info within 1 s`,
    ],
    [
      "not XML-RPC",
      ENV,
      () => oned.misbehave("not-xmlrpc"),
      `oned at ${oned.url} answered one.vm.info with something that is not an XML-RPC response: the root element is <html>, not <methodResponse>`,
    ],
    [
      "VM document without LCM_STATE",
      ENV,
      () => oned.misbehave("no-lcm-state"),
      `oned at ${oned.url} answered one.vm.info for VM 306 with a VM document without a numeric LCM_STATE`,
    ],
    [
      "oned down",
      { ...ENV, ONE_XMLRPC: closedUrl },
      undefined,
      `oned at ${closedUrl} cannot be reached: Connection refused (os error 111)`,
    ],
    [
      "no credentials file",
      { HOME: emptyHome, HYBRID_DRIVER_CONFIG: config, ONE_XMLRPC: oned.url },
      undefined,
      `Cannot read the OpenNebula credentials file ${emptyHome}/.one/one_auth (the default, as ONE_AUTH is not set): it does not exist`,
    ],
  ];
  const stops = ep.countCalls("StopInstances");
  const terminations = ep.countCalls("TerminateInstances");
  for (const [what, env, breakOned, reason] of cases) {
    for (
      const [action, run] of [["shutdown", (s: SimulatedVm) => s.poweroff()], [
        "cancel",
        (s: SimulatedVm) => s.terminate(true),
      ]] as const
    ) {
      const s = new SimulatedVm("4.x", 306, HOST, SECTION, tmp, env, oned);
      s.deployId = id;
      breakOned?.();
      const started = performance.now();
      const reply = await run(s);
      oned.misbehave(undefined);
      assert.equal(reply, `${action.toUpperCase()} FAILURE 306 ${prefix(action)}${reason}`, what);
      assert.ok(performance.now() - started < 15_000, `${what}: fails well within 15 s`);
      const { stdout, stderr } = s.log.at(-1)!;
      assert.equal(stdout, `${prefix(action)}${reason}\n`, what);
      assert.ok(!`${stdout}${stderr}`.includes(PASSWORD), `${what}: the password is never printed`);
      assert.equal(stateOf(id), "running", `${what}: the instance is left running`);
    }
  }
  assert.equal(ep.countCalls("StopInstances"), stops, "nothing was stopped");
  assert.equal(ep.countCalls("TerminateInstances"), terminations, "nothing was terminated");

  const unknown = vm("4.x", 307, ENV, null); // oned has never heard of VM 307
  unknown.deployId = id;
  assert.equal(
    await unknown.poweroff(),
    `SHUTDOWN FAILURE 307 Cannot tell whether shutdown of VM 307 is a terminate, power-off or undeploy; ${id} left untouched: oned at ${oned.url} answered one.vm.info with error 1024: [VirtualMachineInfo] Error getting virtual machine [307].`,
  );
  assert.equal(stateOf(id), "running");

  oned.setVm(306, { state: 3, lcmState: 3, deployId: id });
  const running = vm("4.x", 306, ENV, null);
  running.deployId = id;
  assert.equal(
    await running.other("shutdown", []),
    `SHUTDOWN FAILURE 306 ${
      prefix("shutdown")
    }oned reports VM 306 in state 3, LCM state RUNNING (3)`,
    "a state in which oned never sends shutdown is not a reason to end the VM",
  );
  assert.equal(stateOf(id), "running");

  assert.equal(await v.poweroff(), "SHUTDOWN SUCCESS 306 -", "works once oned answers");
  assert.equal(stateOf(id), "stopped");
});

test("OpenNebula 3.2: deploy, poll, save, restore in the 3.2 form, reboot, shutdown, with no stdin", async () => {
  const v = vm("3.2", 202);
  assert.match(await v.deploy(), /^DEPLOY SUCCESS 202 i-[0-9a-f]{17}$/);
  assert.match(
    v.log[0]!.command,
    new RegExp(`/deploy ${tmp}/vms/202/deployment.0 ${HOST} 202 ${HOST}$`),
  );
  const id = v.deployId!;
  assert.match(await v.poll(), /^POLL SUCCESS 202 STATE=a USEDMEMORY=1048576 AWS_STATE=running /);
  assert.equal(await v.save(), "SAVE SUCCESS 202 -");
  assert.equal(stateOf(id), "stopped");
  assert.equal(await v.restore(), "RESTORE SUCCESS 202 -");
  assert.match(
    v.log.at(-1)!.command,
    new RegExp(`/restore ${v.checkpointFile} ${HOST} 202 ${HOST}$`),
  );
  assert.equal(stateOf(id), "running");
  assert.equal(await v.reboot(), "REBOOT SUCCESS 202 -");
  assert.equal(await v.terminate(), "SHUTDOWN SUCCESS 202 -");
  assert.equal(stateOf(id), "terminated", "oned says SHUTDOWN: terminate");
  assert.equal(infoCalls(202), 1);
});

test("OpenNebula 3.2: onevm delete (cancel in CLEANUP) terminates; oned down fails it, read from stdout", async () => {
  const v = vm("3.2", 203);
  await v.deploy();
  const down = new SimulatedVm(
    "3.2",
    203,
    HOST,
    SECTION,
    tmp,
    { ...ENV, ONE_XMLRPC: "http://" },
    oned,
  );
  down.deployId = v.deployId;
  assert.equal(
    await down.delete(),
    "CANCEL FAILURE 203 Cannot tell whether cancel of VM 203 is a terminate, power-off or undeploy; " +
      `${v.deployId} left untouched: The endpoint of oned is not an http:// or https:// URL: "http://"`,
  );
  assert.equal(stateOf(v.deployId), "running");
  assert.equal(await v.delete(), "CANCEL SUCCESS 203 -");
  assert.equal(stateOf(v.deployId), "terminated");
});
