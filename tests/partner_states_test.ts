/**
 * The states a partner OpenNebula puts a VM in on its own or at another user's request (HOLD,
 * UNKNOWN, backups, failures, moves while off: issue 20), as the built driver reports them to the
 * local oned: the VMM `poll` (`STATE=`), 5.12+'s `vm/monitor` probe (`STATE="..."`), and a
 * deploy's wait. The partner is the stand-in (`partner_oned.ts`) answering as 6.10.0.
 */

import assert from "node:assert/strict";
import { writeDeployment } from "./deployments.ts";
import { oneBase64, runAction, runProcess, sharedTest as test } from "./harness.ts";
import { startFakeOned } from "./oned_xmlrpc.ts";
import { startPartnerOned } from "./partner_oned.ts";

const HOST = "partner-s";
const HOST_ID = 45;
const tmp = await Deno.makeTempDir({ prefix: "hybrid-partner-states-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const partner = await startPartnerOned({ password: "States-s3cret", stepMs: 300 });
partner.templates.set(7, { name: "small", context: {} });
const oned = await startFakeOned({ user: "oneadmin", password: "local-pass" });
oned.setHost(HOST_ID, HOST);
await Deno.writeTextFile(`${tmp}/one_auth`, "oneadmin:local-pass\n");
const config = `${tmp}/hybrid_driver.json`;
const connection = { endpoint: partner.url, user: "partner", password: "States-s3cret" };
// No shared listing: each poll asks the partner, so that it sees the state just put.
const waits = { stateWaitSeconds: 20, statePollSeconds: 0.05, pollWindowSeconds: 0 };
await Deno.writeTextFile(
  config,
  JSON.stringify({ defaults: { provider: "opennebula", ...connection, ...waits } }),
  { mode: 0o600 },
);
const ENV = {
  HOME: tmp,
  HYBRID_DRIVER_CONFIG: config,
  ONE_XMLRPC: oned.url,
  ONE_AUTH: `${tmp}/one_auth`,
};

/** Runs the built deploy of a VM to the host, as 5.x does. */
async function deploy(vmId: number) {
  const xml = `<VM><ID>${vmId}</ID><STATE>3</STATE><LCM_STATE>2</LCM_STATE><TEMPLATE/>` +
    "<USER_TEMPLATE><PUBLIC_CLOUD><TYPE>opennebula</TYPE><TEMPLATE_ID>7</TEMPLATE_ID>" +
    "</PUBLIC_CLOUD></USER_TEMPLATE></VM>";
  const file = await writeDeployment(tmp, vmId, xml, 0);
  return runAction("deploy", [file, HOST, String(vmId), HOST], { stdin: oneBase64(xml), env: ENV });
}

/** The `STATE=` and `ONE_STATE=` of the VMM poll of a partner VM. */
async function polled(id: string): Promise<string> {
  const result = await runAction("poll", [id, HOST, "60", HOST], { env: ENV });
  assert.equal(result.stderr, "");
  return [...result.stdout.matchAll(/\b(STATE|ONE_STATE)=(\S+)/g)].map((m) => m[0]).join(" ");
}

/** The `STATE` 5.12+'s vm/monitor probe gives VM 60. */
async function probed(): Promise<string> {
  const dir = new URL("../dist/im/provider-probes.d/vm/monitor", import.meta.url).pathname;
  const probe = [...Deno.readDirSync(dir)].find((entry) => entry.name.startsWith("probe"))!;
  const result = await runProcess(
    `./${probe.name}`,
    ["provider", "", "0", "0", `${HOST_ID}`, HOST],
    {
      cwd: dir,
      env: ENV,
      stdin: `<MONITOR_CONFIGURATION><HOST_ID>${HOST_ID}</HOST_ID></MONITOR_CONFIGURATION>`,
    },
  );
  assert.equal(result.stderr, "");
  return /ID="60".* STATE="(\w+)"/.exec(result.stdout)?.[1] ?? result.stdout;
}

const deployed = await deploy(60);
assert.equal(deployed.code, 0, deployed.stdout);
const vm60 = deployed.stdout.trim();
const partnerId = Number(vm60.replace("opennebula-hybrid-", ""));
oned.setVm(60, { state: 3, lcmState: 3, deployId: vm60, host: HOST });

/**
 * Each state a partner VM is put in, and what the VMM poll (`STATE=`) and the vm/monitor probe
 * then report of it.
 */
const REPORTED: Readonly<Record<string, readonly [poll: string, probe: string]>> = {
  // Backed up running, it runs; backed up or restored powered off, it is off (6.6+, 6.10+).
  BACKUP: ["a", "RUNNING"],
  BACKUP_POWEROFF: ["p", "POWEROFF"],
  RESTORE: ["p", "POWEROFF"],
  // Powered off or suspended and moved to another partner host, it stays off.
  PROLOG_MIGRATE_POWEROFF: ["p", "POWEROFF"],
  PROLOG_MIGRATE_SUSPEND: ["p", "POWEROFF"],
  // Running and saved to be moved (a cold migration), it runs again on the other host.
  SAVE_MIGRATE: ["a", "RUNNING"],
  // On hold, it waits as a pending VM does: the local VM stays active.
  HOLD: ["a", "RUNNING"],
  // Lost by the partner, or failed: the poll changes nothing, the probe says UNKNOWN.
  UNKNOWN: ["-", "UNKNOWN"],
  PROLOG_FAILURE: ["-", "UNKNOWN"],
  BOOT_FAILURE: ["-", "UNKNOWN"],
};

test("a partner VM backed up, moved while off, saved to be moved, on hold, lost or failed is reported to the local oned as it is", async () => {
  for (const [name, [poll, probe]] of Object.entries(REPORTED)) {
    partner.putIn(partnerId, name);
    assert.deepEqual(
      [await polled(vm60), await probed()],
      [`STATE=${poll} ONE_STATE=${name}`, probe],
      name,
    );
  }
  partner.putIn(partnerId, "RUNNING");
});

test("a deploy whose partner VM is put on hold fails at once, saying so, and terminates it", async () => {
  const started = Date.now();
  const deploying = deploy(61);
  let held: number | undefined;
  while (held === undefined && Date.now() - started < 10_000) {
    held = [...partner.vms.values()].find((vm) => vm.name === `one-61-${HOST}`)?.id;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  partner.putIn(held!, "HOLD");
  const result = await deploying;
  assert.equal(result.code, 1, result.stdout);
  assert.match(
    result.stdout,
    /opennebula-hybrid-\d+ is HOLD on the partner cloud while waiting for it to be running; partner VM opennebula-hybrid-\d+ was terminated/,
  );
  assert.ok(Date.now() - started < 10_000, "long before stateWaitSeconds (20 s)");
  assert.deepEqual(partner.vms.get(held!)!.actions, ["terminate-hard"]);
});

test("the stand-in puts a VM only in the states its release defines", async () => {
  await using older = await startPartnerOned({ release: "6.4.7" });
  assert.throws(() => older.putIn(1, "BACKUP"), /OpenNebula 6\.4\.7 has no VM state BACKUP/);
  await using first = await startPartnerOned({ release: "6.6.0" });
  assert.throws(() => first.putIn(1, "RESTORE"), /6\.6\.0 has no VM state RESTORE/);
  assert.throws(() => partner.putIn(partnerId, "DISK_SNAPSHOT_REVERT_SUSPENDED"), /6\.10\.0/);
  assert.throws(() => partner.putIn(partnerId, "ACTIVE"), /has no VM state ACTIVE/);
  partner.putIn(partnerId, "BACKUP", ["RUNNING"]);
  assert.deepEqual(partner.stateOf(partnerId), [3, 69]);
  await new Promise((resolve) => setTimeout(resolve, 350));
  assert.deepEqual(partner.stateOf(partnerId), [3, 3]);
});
