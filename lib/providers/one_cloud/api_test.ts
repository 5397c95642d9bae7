import assert from "node:assert/strict";
import { type PartnerOned, startPartnerOned } from "../../../tests/partner_oned.ts";
import { PartnerApi } from "./api.ts";
import { CloudError, NotFoundError } from "../../util/errors.ts";
import { childText } from "../../util/xml.ts";

/** A partner API on the stand-in, with 20 s of an action's time for a read's retries. */
function apiOf(partner: PartnerOned): PartnerApi {
  const [user, password] = partner.session.split(":") as [string, string];
  const deadline = Date.now() + 20_000;
  return new PartnerApi({ endpoint: partner.url, user, password }, { deadline: () => deadline });
}

/** Instantiates template 7 on the stand-in and returns the partner VM's id once it runs. */
async function runningVm(partner: PartnerOned, api: PartnerApi): Promise<number> {
  partner.templates.set(7, { name: "small", context: {} });
  const id = await api.call("Cannot deploy", "one.template.instantiate", 7, "vm", false, "");
  assert.equal(typeof id, "number");
  while (partner.stateOf(id as number)[1] !== 3) await new Promise((r) => setTimeout(r, 10));
  return id as number;
}

/** The failure of a call, for its class, code and message. */
async function failureOf(call: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail("the call succeeded");
}

Deno.test("refusals of 3, 4 and 5 elements, as 4.14–5.2, 5.4–5.8 and 5.10+ send them, read alike", async () => {
  for (
    const [release, label] of [
      ["4.14.2", "VirtualMachineInfo"],
      ["5.8.5", "one.vm.info"],
      ["6.10.0", "one.vm.info"],
    ]
  ) {
    await using partner = await startPartnerOned({ release: release! });
    const failure = await failureOf(apiOf(partner).call("Cannot describe", "one.vm.info", 999));
    assert.ok(failure instanceof NotFoundError, release);
    assert.equal(
      failure.message,
      `Cannot describe: the partner cloud at ${partner.url} answered one.vm.info with error 1024: [${label}] Error getting virtual machine [999].`,
    );
  }
});

Deno.test("xmlrpc-c's timeout fault (-505) to a pool listing is asked again, not taken for an unknown method: one.vmpool.info, without the marks, is never asked", async () => {
  await using partner = await startPartnerOned({ stepMs: 20 });
  const api = apiOf(partner);
  const id = await runningVm(partner, api);
  partner.fail("one.vmpool.infoextended", "timeout-fault");
  const ids = await api.vmPool("Cannot list", (vm) => childText(vm, "ID"));
  assert.deepEqual(ids, [String(id)]);
  assert.equal(partner.count("one.vmpool.infoextended"), 2);
  assert.equal(partner.count("one.vmpool.info"), 0);
});

Deno.test("a partner without one.vmpool.infoextended (fault -506, before 5.8.1) is listed with one.vmpool.info", async () => {
  await using partner = await startPartnerOned({ release: "5.8.0" });
  const api = apiOf(partner);
  const id = await runningVm(partner, api);
  assert.deepEqual(await api.vmPool("Cannot list", (vm) => childText(vm, "ID")), [String(id)]);
  assert.equal(partner.count("one.vmpool.infoextended"), 1);
  assert.equal(partner.count("one.vmpool.info"), 1);
});

Deno.test("xmlrpc-c's timeout fault (-505) to a write fails at once, saying it is a timeout and that the write is not sent again", async () => {
  await using partner = await startPartnerOned({ stepMs: 20 });
  const api = apiOf(partner);
  const id = await runningVm(partner, api);
  partner.fail("one.vm.action", "timeout-fault");
  const failure = await failureOf(
    api.call("Cannot poweroff it", "one.vm.action", "poweroff", id),
  );
  assert.ok(failure instanceof CloudError && failure.code === "Fault");
  assert.equal(
    failure.message,
    `Cannot poweroff it: the partner cloud at ${partner.url} answered one.vm.action with fault -505: Timed out waiting for client to send its POST data: a timeout of the partner's XML-RPC server, not an unknown method; a write is not sent again`,
  );
  assert.equal(partner.count("one.vm.action"), 1);
  assert.deepEqual(partner.vms.get(id)!.actions, []);
});

Deno.test("a read answered REPLICATION (an HA log entry that did not replicate) is asked again within the deadline", async () => {
  await using partner = await startPartnerOned({ stepMs: 20 });
  const api = apiOf(partner);
  const id = await runningVm(partner, api);
  partner.fail("one.vm.info", "replication", 2);
  const vm = await api.document("Cannot describe", "VM", "one.vm.info", id);
  assert.equal(vm.name, "VM");
  assert.equal(partner.count("one.vm.info"), 3);
});

Deno.test("an instantiate answered REPLICATION is not sent again, and the failure says its VM may still appear and that a retried deploy finds it by its marks", async () => {
  await using partner = await startPartnerOned();
  partner.templates.set(7, { name: "small", context: {} });
  partner.fail("one.template.instantiate", "replication");
  const failure = await failureOf(
    apiOf(partner).call(
      "Cannot deploy VM 5 from partner template 7",
      "one.template.instantiate",
      7,
      "one-5-h",
      false,
      "",
    ),
  );
  assert.ok(failure instanceof CloudError && failure.code === "65536");
  assert.match(
    failure.message,
    new RegExp(
      `^Cannot deploy VM 5 from partner template 7: the partner cloud at ${partner.url} answered one\\.template\\.instantiate with error 65536: \\[one\\.template\\.instantiate\\] Error replicating log entry \\d+: Cannot replicate log record on followers\\.: the partner's HA cluster did not replicate the change, which may still take effect; a write is not sent again: a retried deploy finds the partner VM by its marks if the partner made it$`,
    ),
  );
  assert.equal(partner.count("one.template.instantiate"), 1);
  assert.deepEqual([...partner.vms.values()].map((vm) => vm.name), ["one-5-h"]);
});

Deno.test("an action on a locked partner VM fails saying so, with the lock's level, owner and time; the VM is still described, and an ADMIN lock leaves it managed", async () => {
  await using partner = await startPartnerOned({ stepMs: 20 });
  const api = apiOf(partner);
  const id = await runningVm(partner, api);
  const vm = partner.vms.get(id)!;
  vm.lock = { level: 2, owner: 0, time: 1_765_148_400 };
  const failure = await failureOf(
    api.call(`Cannot poweroff opennebula-hybrid-${id}`, "one.vm.action", "poweroff", id),
  );
  assert.ok(failure instanceof CloudError && failure.code === "Locked");
  assert.equal(
    failure.message,
    `Cannot poweroff opennebula-hybrid-${id}: partner VM ${id} is locked (level MANAGE, by user 0 since 2025-12-07T23:00:00Z); unlock it on the partner (onevm unlock ${id}) to act on it: the partner cloud at ${partner.url} answered one.vm.action with error 512: [one.vm.action] User [2] : Not authorized to perform MANAGE VM [${id}].`,
  );
  assert.deepEqual(vm.actions, []);
  assert.equal((await api.document("Cannot describe", "VM", "one.vm.info", id)).name, "VM");
  vm.lock = { level: 3, owner: 0, time: 1_765_148_400 };
  await api.call("Cannot poweroff", "one.vm.action", "poweroff", id);
  assert.deepEqual(vm.actions, ["poweroff"]);
});

Deno.test("a template the user may not use is refused in the partner's words, with no lock looked for", async () => {
  await using partner = await startPartnerOned({ stepMs: 20 });
  const api = apiOf(partner);
  const id = await runningVm(partner, api);
  partner.templates.set(8, { name: "theirs", context: {}, forbidden: true });
  const failure = await failureOf(api.call("Cannot read", "one.template.info", 8));
  assert.ok(failure instanceof CloudError && failure.code === "512");
  assert.equal(partner.count("one.vm.info"), 0, "a template is not a VM: no lock is looked for");
  assert.equal(partner.stateOf(id)[1], 3);
});

Deno.test("an answer LOCKED (0x8000) fails saying the partner VM is locked", async () => {
  await using partner = await startPartnerOned({ stepMs: 20 });
  const api = apiOf(partner);
  const id = await runningVm(partner, api);
  partner.fail("one.vm.action", "locked");
  const failure = await failureOf(api.call("Cannot reboot it", "one.vm.action", "reboot", id));
  assert.ok(failure instanceof CloudError && failure.code === "Locked");
  assert.equal(
    failure.message,
    `Cannot reboot it: partner VM ${id} is locked; unlock it on the partner (onevm unlock ${id}) to act on it: the partner cloud at ${partner.url} answered one.vm.action with error 32768: [one.vm.action] The resource virtual machine is locked. [${id}].`,
  );
});

Deno.test("a resume the partner refuses for its RUNNING_VMS quota (error ACTION, as for a wrong state) says it is the quota, not the VM's state", async () => {
  await using partner = await startPartnerOned({ stepMs: 20 });
  const api = apiOf(partner);
  const id = await runningVm(partner, api);
  await api.call("Cannot poweroff", "one.vm.action", "poweroff", id);
  while (partner.stateOf(id)[0] !== 8) await new Promise((r) => setTimeout(r, 10));
  partner.userQuota.RUNNING_VMS = 0;
  const failure = await failureOf(
    api.call(`Cannot resume opennebula-hybrid-${id}`, "one.vm.action", "resume", id),
  );
  assert.ok(failure instanceof CloudError && failure.code === "2048");
  assert.equal(
    failure.message,
    `Cannot resume opennebula-hybrid-${id}: refused by the partner's quota (RUNNING_VMS), not by the VM's state: the partner cloud at ${partner.url} answered one.vm.action with error 2048: [one.vm.action] user [2] limit of 0 reached for RUNNING_VMS quota in VM`,
  );
  // A wrong state keeps the partner's words.
  partner.userQuota.RUNNING_VMS = -2;
  const state = await failureOf(api.call("Cannot reboot it", "one.vm.action", "reboot", id));
  assert.equal(
    state.message,
    `Cannot reboot it: the partner cloud at ${partner.url} answered one.vm.action with error 2048: [one.vm.action] Error performing action "reboot": This action is not available for state POWEROFF`,
  );
});
