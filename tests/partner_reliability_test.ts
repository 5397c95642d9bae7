/**
 * A partner cloud that misbehaves, against the built `dist/` actions: server errors and lost
 * answers to reads are retried until the action's deadline is near, never an instantiate; an answer that is not XML-RPC fails in
 * one line; a partner that stops answering in the middle of a wait ends the action at its
 * deadline, in one line, with the VM left as the partner has it.
 */

import assert from "node:assert/strict";
import { actionData, writeDeployment } from "./deployments.ts";
import {
  type ActionResult,
  failureLine,
  oneBase64,
  runAction,
  sharedTest as test,
} from "./harness.ts";
import { type PartnerOned, startPartnerOned } from "./partner_oned.ts";

const PASSWORD = "Flaky-s3cret";
const tmp = await Deno.makeTempDir({ prefix: "hybrid-partner-flaky-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const partner: PartnerOned = await startPartnerOned({ password: PASSWORD, stepMs: 100 });
partner.templates.set(7, { name: "small", context: {} });

const config = `${tmp}/hybrid_driver.json`;
await Deno.writeTextFile(
  config,
  JSON.stringify({
    defaults: {
      provider: "opennebula",
      endpoint: partner.url,
      user: "partner",
      password: PASSWORD,
      statePollSeconds: 0.05,
      // Each poll asks the partner itself (one.vm.info), the read whose failures these test,
      // rather than being served from a listing shared with other polls.
      pollWindowSeconds: 0,
      capacity: { vcpus: 8, memoryGiB: 16 },
    },
    hosts: {
      "partner-f": { stateWaitSeconds: 20 },
      "partner-slow": { actionTimeoutSeconds: 15, stateWaitSeconds: 5 },
    },
  }),
  { mode: 0o600 },
);
await Deno.chmod(config, 0o600);
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };

function deployment(vmId: number): string {
  return `<VM><ID>${vmId}</ID><NAME>f-${vmId}</NAME><STATE>3</STATE><LCM_STATE>2</LCM_STATE>` +
    "<TEMPLATE><CPU>1</CPU><MEMORY>512</MEMORY></TEMPLATE><USER_TEMPLATE><PUBLIC_CLOUD>" +
    "<TYPE>opennebula</TYPE><TEMPLATE_ID>7</TEMPLATE_ID></PUBLIC_CLOUD></USER_TEMPLATE></VM>";
}

async function deploy(vmId: number, host: string): Promise<ActionResult> {
  const xml = deployment(vmId);
  const file = await writeDeployment(tmp, vmId, xml);
  return await runAction("deploy", [file, host, String(vmId), host], {
    stdin: oneBase64(xml),
    env: ENV,
  });
}

function act(action: string, id: string, vmId: number, host: string, lcm = 3) {
  return runAction(action, [id, host, String(vmId), host], {
    stdin: oneBase64(actionData(vmId, host, id, { lcmState: lcm })),
    env: ENV,
  });
}

const vmOf = (id: string) => partner.vms.get(Number(id.replace("opennebula-hybrid-", "")))!;

test("reads the partner answered with HTTP 500 or lost are sent again and the action succeeds; an instantiate answered 500 is never sent twice", async () => {
  const first = await deploy(70, "partner-f");
  assert.equal(first.code, 0, first.stdout);
  const id = first.stdout.trim();

  const infos = partner.count("one.vm.info");
  partner.fail("one.vm.info", "http-500", 2);
  const poll = await act("poll", id, 70, "partner-f");
  assert.equal(poll.stderr, "");
  assert.match(poll.stdout, /^STATE=a /);
  assert.equal(partner.count("one.vm.info") - infos, 3, "two 500s, then the answer");

  const instantiated = partner.count("one.template.instantiate");
  partner.fail("one.template.instantiate", "http-500");
  assert.equal(
    failureLine(await deploy(71, "partner-f")),
    `Cannot deploy VM 71 from partner template 7: the partner cloud at ${partner.url} answered one.template.instantiate with HTTP 500 Internal Server Error`,
  );
  assert.equal(partner.count("one.template.instantiate") - instantiated, 1, "not retried");
  assert.ok(![...partner.vms.values()].some((vm) => vm.name === "one-71-partner-f"));

  // Three failures in a row are asked past as well: the deadline is the budget.
  partner.fail("one.vm.info", "http-500", 3);
  assert.match((await act("poll", id, 70, "partner-f")).stdout, /^STATE=a /);
  assert.equal((await act("cancel", id, 70, "partner-f", 12)).code, 0);
});

test("a read the partner keeps failing is asked until the deadline is near, then fails in one line naming the attempts", async () => {
  const first = await deploy(74, "partner-slow");
  assert.equal(first.code, 0, first.stdout);
  const id = first.stdout.trim();
  const infos = partner.count("one.vm.info");
  partner.fail("one.vm.info", "http-500", 1_000);
  const poll = failureLine(await act("poll", id, 74, "partner-slow"));
  partner.clearFaults();
  const attempts = Number(/ \((\d+) attempts in \d+\.\d s\)$/.exec(poll)?.[1]);
  assert.equal(
    poll.replace(/ \(\d+ attempts in \d+\.\d s\)$/, ""),
    `Cannot describe ${id}: the partner cloud at ${partner.url} answered one.vm.info with HTTP 500 Internal Server Error`,
  );
  assert.ok(attempts > 3, `${attempts} attempts`);
  assert.equal(partner.count("one.vm.info") - infos, attempts, "requests seen = attempts made");
  assert.equal((await act("cancel", id, 74, "partner-slow", 12)).code, 0);
});

test("an answer that is not XML-RPC, or one cut short, fails the action in one line without a stack trace, and is not retried", async () => {
  const first = await deploy(72, "partner-f");
  const id = first.stdout.trim();
  const infos = partner.count("one.vm.info");
  partner.fail("one.vm.info", "html");
  assert.equal(
    failureLine(await act("poll", id, 72, "partner-f")),
    `Cannot describe ${id}: the partner cloud at ${partner.url} answered one.vm.info with something that is not an XML-RPC response: the root element is <html>, not <methodResponse>`,
  );
  partner.fail("one.vm.info", "cut");
  const cut = failureLine(await act("poll", id, 72, "partner-f"));
  assert.match(
    cut,
    new RegExp(
      `^Cannot describe ${id}: the partner cloud at ${partner.url} answered one.vm.info with something that is not an XML-RPC response: `,
    ),
  );
  assert.doesNotMatch(cut, /\bat .*\.ts:\d+/);
  assert.equal(partner.count("one.vm.info") - infos, 2);
  assert.equal((await act("cancel", id, 72, "partner-f", 12)).code, 0);
});

test("a partner that stops answering ends the action at its deadline in one line: before the power-off nothing is sent, during its wait the power-off is not sent twice", async () => {
  const first = await deploy(73, "partner-slow");
  assert.equal(first.code, 0, first.stdout);
  const id = first.stdout.trim();
  const vm = vmOf(id);

  // The describe before the action gets no answer (nor do its two retries).
  partner.fail("one.vm.info", "hang", 3);
  let started = Date.now();
  const before = await act("shutdown", id, 73, "partner-slow", 18);
  assert.ok(Date.now() - started < 25_000, "ended at its deadline");
  assert.match(failureLine(before), /^Timed out after 15 s while waiting for /);
  assert.deepEqual(vm.actions, [], "nothing sent to the partner");
  assert.deepEqual(partner.stateOf(vm.id), [3, 3]);

  // The describe is answered and the power-off sent; then every state check hangs.
  partner.fail("one.vm.info", "hang", 10, 1);
  started = Date.now();
  const during = await act("shutdown", id, 73, "partner-slow", 18);
  assert.ok(Date.now() - started < 25_000, "ended at its deadline");
  assert.match(failureLine(during), /^Timed out after 15 s while waiting for /);
  assert.deepEqual(vm.actions, ["poweroff"], "one power-off");
  assert.deepEqual(partner.stateOf(vm.id), [8, 0], "the partner finished it on its own");
});

globalThis.addEventListener("unload", () => void partner.close());
