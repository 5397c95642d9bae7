/**
 * A partner cloud host driven the way OpenNebula 3.2 and 3.8–4.14 drive a VMM driver: no data on
 * stdin, so shutdown and cancel ask the local oned (`tests/oned_xmlrpc.ts`) for the VM's LCM
 * state, and the partner (`tests/partner_oned.ts`) gets the action that state means, as with
 * EC2. When the local oned cannot say, the partner VM is left alone.
 */

import assert from "node:assert/strict";
import { sharedTest as test } from "./harness.ts";
import { type FakeOned, startFakeOned } from "./oned_xmlrpc.ts";
import { type OneGeneration, SimulatedVm } from "./one_vmm.ts";
import { type PartnerOned, startPartnerOned } from "./partner_oned.ts";

const HOST = "partner-4x";
const PASSWORD = "0pen-Nebula-s3cret";
const tmp = await Deno.makeTempDir({ prefix: "hybrid-partner-4x-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const partner: PartnerOned = await startPartnerOned({ password: "Partner-s3cret", stepMs: 100 });
partner.templates.set(7, { name: "small", context: {} });
const oned: FakeOned = await startFakeOned({ user: "oneadmin", password: PASSWORD });

const config = `${tmp}/hybrid_driver.json`;
await Deno.writeTextFile(
  config,
  JSON.stringify({
    hosts: {
      [HOST]: {
        provider: "opennebula",
        endpoint: partner.url,
        user: "partner",
        password: "Partner-s3cret",
        stateWaitSeconds: 20,
        statePollSeconds: 0.05,
        capacity: { vcpus: 8, memoryGiB: 16 },
      },
    },
  }),
  { mode: 0o600 },
);
await Deno.chmod(config, 0o600);
const AUTH = `${tmp}/one_auth`;
await Deno.writeTextFile(AUTH, `oneadmin:${PASSWORD}\n`);
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config, ONE_XMLRPC: oned.url, ONE_AUTH: AUTH };

function vm(generation: OneGeneration, id: number, env: Record<string, string> = ENV) {
  return new SimulatedVm(generation, id, HOST, { TEMPLATE_ID: "7" }, tmp, env, oned, "opennebula");
}

/** The partner VM behind a deploy id, and its state name now. */
function partnerVm(deployId: string | undefined) {
  const vm = partner.vms.get(Number(deployId?.replace("opennebula-hybrid-", "")))!;
  const [state, lcm] = partner.stateOf(vm.id);
  const name = state === 3 ? (lcm === 3 ? "RUNNING" : `ACTIVE/${lcm}`) : {
    5: "SUSPENDED",
    6: "DONE",
    8: "POWEROFF",
    9: "UNDEPLOYED",
  }[state];
  return { vm, state: name };
}

function infoCalls(vmId: number): number {
  return oned.calls.filter((c) => c.method === "one.vm.info" && c.params[1] === vmId).length;
}

test("OpenNebula 4.x on a partner host: save/restore suspend and resume, power-off and undeploy (soft and hard) keep the partner VM, terminate ends it; shutdown and cancel ask the local oned why", async () => {
  const v = vm("4.x", 401);
  assert.match(await v.deploy(), /^DEPLOY SUCCESS 401 opennebula-hybrid-\d+$/);
  assert.equal(v.log[0]!.stdinCarried.kind, "nothing");
  const id = v.deployId!;
  assert.match(await v.poll(), /^POLL SUCCESS 401 STATE=a USEDMEMORY=524288 ONE_VM_ID=\d+ /);
  assert.equal(await v.save(), "SAVE SUCCESS 401 -");
  assert.equal(partnerVm(id).state, "SUSPENDED");
  assert.equal(await v.restore(), "RESTORE SUCCESS 401 -");
  assert.equal(partnerVm(id).state, "RUNNING");
  assert.equal(await v.reboot(), "REBOOT SUCCESS 401 -");
  assert.equal(await v.reset(), "RESET SUCCESS 401 -");
  assert.equal(infoCalls(401), 0, "only shutdown and cancel ask oned");

  assert.equal(await v.poweroff(), "SHUTDOWN SUCCESS 401 -");
  assert.equal(partnerVm(id).state, "POWEROFF");
  assert.equal(await v.resumeFromPoweroff(), `DEPLOY SUCCESS 401 ${id}`);
  assert.equal(await v.poweroff(true), "CANCEL SUCCESS 401 -");
  assert.equal(partnerVm(id).state, "POWEROFF");
  assert.equal(await v.resumeFromPoweroff(), `DEPLOY SUCCESS 401 ${id}`);
  assert.equal(await v.undeploy(), "SHUTDOWN SUCCESS 401 -");
  assert.equal(partnerVm(id).state, "UNDEPLOYED");
  assert.equal(await v.resumeFromUndeploy(), `DEPLOY SUCCESS 401 ${id}`);
  assert.equal(await v.undeploy(true), "CANCEL SUCCESS 401 -");
  assert.equal(partnerVm(id).state, "UNDEPLOYED");
  assert.equal(await v.resumeFromUndeploy(), `DEPLOY SUCCESS 401 ${id}`);
  assert.equal(partnerVm(id).state, "RUNNING");
  assert.equal(await v.terminate(), "SHUTDOWN SUCCESS 401 -");
  assert.equal(partnerVm(id).state, "DONE");
  assert.equal(infoCalls(401), 5, "each shutdown and cancel asked oned once");
  assert.deepEqual(partnerVm(id).vm.actions, [
    "suspend",
    "resume",
    "reboot",
    "reboot-hard",
    "poweroff",
    "resume",
    "poweroff-hard",
    "resume",
    "undeploy",
    "resume",
    "undeploy-hard",
    "resume",
    "terminate-hard",
  ]);
  assert.ok(v.log.every((e) => e.stdinCarried.kind === "nothing"), "4.x sends no stdin");
});

test("OpenNebula 4.x on a partner host: cancel in CANCEL terminates; when the local oned cannot say why, shutdown fails with one line and the partner VM keeps running", async () => {
  const v = vm("4.x", 402);
  assert.match(await v.deploy(), /^DEPLOY SUCCESS 402 /);
  const id = v.deployId!;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedUrl = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/RPC2`;
  listener.close();
  const down = vm("4.x", 402, { ...ENV, ONE_XMLRPC: closedUrl });
  down.deployId = id;
  const calls = partner.count("one.vm.action");
  assert.equal(
    await down.poweroff(),
    `SHUTDOWN FAILURE 402 Cannot tell whether shutdown of VM 402 is a terminate, power-off or undeploy; ${id} left untouched: oned at ${closedUrl} cannot be reached: Connection refused (os error 111)`,
  );
  assert.equal(partner.count("one.vm.action"), calls, "no action sent to the partner");
  assert.equal(partnerVm(id).state, "RUNNING");
  assert.equal(await v.terminate(true), "CANCEL SUCCESS 402 -");
  assert.equal(partnerVm(id).state, "DONE");
});

test("OpenNebula 3.2 on a partner host: deploy from a PUBLIC_CLOUD section, save and restore in the 3.2 form, shutdown in SHUTDOWN terminates, onevm delete too", async () => {
  const v = vm("3.2", 301);
  assert.match(await v.deploy(), /^DEPLOY SUCCESS 301 opennebula-hybrid-\d+$/);
  const id = v.deployId!;
  assert.equal(partnerVm(id).vm.name, `one-301-${HOST}`);
  assert.equal(await v.save(), "SAVE SUCCESS 301 -");
  assert.equal(partnerVm(id).state, "SUSPENDED");
  assert.equal(await v.restore(), "RESTORE SUCCESS 301 -");
  assert.equal(partnerVm(id).state, "RUNNING");
  assert.equal(await v.terminate(), "SHUTDOWN SUCCESS 301 -");
  assert.equal(partnerVm(id).state, "DONE");
  assert.equal(infoCalls(301), 1);

  const w = vm("3.2", 302);
  await w.deploy();
  assert.equal(await w.delete(), "CANCEL SUCCESS 302 -");
  assert.equal(partnerVm(w.deployId).state, "DONE");
});

globalThis.addEventListener("unload", () => {
  void partner.close();
  void oned.close();
});
