/**
 * The partner's refusals that need the driver's own words, against the built `dist/` actions
 * and stand-in partners of several releases: a template whose CONTEXT has FILES on a partner
 * before 5.4.1, an instantiate whose HA log entry did not replicate, a locked partner VM.
 */

import assert from "node:assert/strict";
import { actionData, writeDeployment } from "./deployments.ts";
import { failureLine, oneBase64, runAction, sharedTest as test } from "./harness.ts";
import { type PartnerOned, startPartnerOned } from "./partner_oned.ts";

const PASSWORD = "Refusing-s3cret";
/** Three partners, 4.14.2, 5.4.15 and 6.10.0, each the endpoint of the host it is named by. */
const partners: Record<string, PartnerOned> = {
  "partner-414": await startPartnerOned({ password: PASSWORD, stepMs: 50, release: "4.14.2" }),
  "partner-541": await startPartnerOned({ password: PASSWORD, stepMs: 50, release: "5.4.15" }),
  "partner-610": await startPartnerOned({ password: PASSWORD, stepMs: 50 }),
};
globalThis.addEventListener("unload", () => {
  for (const partner of Object.values(partners)) void partner.close();
});
const FILES_CONTEXT = { NETWORK: "YES", FILES: "/var/lib/one/init.sh" };
for (const partner of Object.values(partners)) {
  partner.templates.set(7, { name: "with-files", context: FILES_CONTEXT });
  partner.templates.set(8, { name: "plain", context: { NETWORK: "YES" } });
}

const tmp = await Deno.makeTempDir({ prefix: "hybrid-partner-refusals-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const hosts = Object.fromEntries(
  Object.entries(partners).map(([host, partner]) => [host, { endpoint: partner.url }]),
);
const settings = { provider: "opennebula", user: "partner", password: PASSWORD };
const waits = { stateWaitSeconds: 20, statePollSeconds: 0.05 };
const capacity = { vcpus: 8, memoryGiB: 16 };
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: `${tmp}/hybrid_driver.json` };
await Deno.writeTextFile(
  ENV.HYBRID_DRIVER_CONFIG,
  JSON.stringify({ defaults: { ...settings, ...waits, capacity }, hosts }),
  { mode: 0o600 },
);
await Deno.chmod(ENV.HYBRID_DRIVER_CONFIG, 0o600);

/** A deployment of a VM with a context, from partner template `templateId`. */
function deployment(vmId: number, templateId: number): string {
  return `<VM><ID>${vmId}</ID><NAME>r-${vmId}</NAME><STATE>3</STATE><LCM_STATE>2</LCM_STATE>` +
    "<TEMPLATE><CPU>1</CPU><MEMORY>512</MEMORY><CONTEXT><SET_HOSTNAME>r</SET_HOSTNAME>" +
    "</CONTEXT></TEMPLATE><USER_TEMPLATE><PUBLIC_CLOUD><TYPE>opennebula</TYPE>" +
    `<TEMPLATE_ID>${templateId}</TEMPLATE_ID></PUBLIC_CLOUD></USER_TEMPLATE></VM>`;
}

async function deploy(vmId: number, host: string, templateId: number) {
  const xml = deployment(vmId, templateId);
  const file = await writeDeployment(tmp, vmId, xml);
  return await runAction("deploy", [file, host, String(vmId), host], {
    stdin: oneBase64(xml),
    env: ENV,
  });
}

const vmsNamed = (partner: PartnerOned, name: string) =>
  [...partner.vms.values()].filter((vm) => vm.name === name);

test("on a partner before 5.4.1 a template whose CONTEXT has FILES fails the deploy in one line saying why and what to do, and makes no VM; from 5.4.1 it deploys with its FILES", async () => {
  const old = partners["partner-414"]!;
  assert.equal(
    failureLine(await deploy(80, "partner-414", 7)),
    `Cannot deploy VM 80 from partner template 7: the partner refuses FILES in the CONTEXT the driver sends (the template's own, repeated to add the VM's context variables): a restricted attribute for users outside its oneadmin group, which OpenNebula before 5.4.1 refuses whatever its value; use a template without CONTEXT/FILES, or a partner user in the oneadmin group: the partner cloud at ${old.url} answered one.template.instantiate with error 512: [TemplateInstantiate] User [2] : User Template includes a restricted attribute CONTEXT/FILES.`,
  );
  assert.equal(old.vms.size, 0);
  // A template without FILES deploys there, the VM's context over the template's.
  const plain = await deploy(81, "partner-414", 8);
  assert.equal(plain.code, 0, plain.stdout);
  assert.deepEqual(vmsNamed(old, "one-81-partner-414")[0]?.context, {
    NETWORK: "YES",
    SET_HOSTNAME: "r",
  });
  for (const host of ["partner-541", "partner-610"]) {
    const result = await deploy(82, host, 7);
    assert.equal(result.code, 0, `${host}: ${result.stdout}`);
    assert.deepEqual(vmsNamed(partners[host]!, `one-82-${host}`)[0]?.context, {
      ...FILES_CONTEXT,
      SET_HOSTNAME: "r",
    });
  }
});

test("a deploy whose instantiate is answered REPLICATION is not sent again, and oned's retry of it takes the VM the partner made: one partner VM", async () => {
  const partner = partners["partner-610"]!;
  partner.fail("one.template.instantiate", "replication");
  const first = failureLine(await deploy(83, "partner-610", 8));
  assert.match(
    first,
    /: the partner's HA cluster did not replicate the change, which may still take effect; a write is not sent again: a retried deploy finds the partner VM by its marks if the partner made it$/,
  );
  assert.equal(vmsNamed(partner, "one-83-partner-610").length, 1);
  const instantiated = partner.count("one.template.instantiate");
  const retried = await deploy(83, "partner-610", 8);
  assert.equal(retried.code, 0, retried.stdout);
  assert.equal(
    retried.stdout,
    `opennebula-hybrid-${vmsNamed(partner, "one-83-partner-610")[0]!.id}\n`,
  );
  assert.equal(partner.count("one.template.instantiate"), instantiated, "not instantiated again");
});

test("shutdown of a locked partner VM fails in one line naming the lock and how to lift it; the VM keeps running", async () => {
  const partner = partners["partner-610"]!;
  const deployed = await deploy(84, "partner-610", 8);
  assert.equal(deployed.code, 0, deployed.stdout);
  const id = deployed.stdout.trim();
  const vm = vmsNamed(partner, "one-84-partner-610")[0]!;
  vm.lock = { level: 1, owner: 3, time: 1_765_148_400 };
  const shutdown = await runAction("shutdown", [id, "partner-610", "84", "partner-610"], {
    stdin: oneBase64(actionData(84, "partner-610", id, { lcmState: 18 })),
    env: ENV,
  });
  assert.equal(
    failureLine(shutdown),
    `Cannot poweroff ${id}: partner VM ${vm.id} is locked (level USE, by user 3 since 2025-12-07T23:00:00Z); unlock it on the partner (onevm unlock ${vm.id}) to act on it: the partner cloud at ${partner.url} answered one.vm.action with error 512: [one.vm.action] User [2] : Not authorized to perform MANAGE VM [${vm.id}].`,
  );
  assert.deepEqual(vm.actions, []);
  assert.deepEqual(partner.stateOf(vm.id), [3, 3]);
});
