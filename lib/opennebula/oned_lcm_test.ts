import assert from "node:assert/strict";
import { DriverError } from "../util/errors.ts";
import { startFakeOned } from "../../tests/oned_xmlrpc.ts";
import { powerOffReasonByOned } from "./oned_lcm.ts";

const dir = await Deno.makeTempDir({ prefix: "oned-lcm-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const auth = `${dir}/one_auth`;
await Deno.writeTextFile(auth, "oneadmin:0pen-Nebula\n");

Deno.test("powerOffReasonByOned() names power-off and undeploy, and nothing (terminate) for the states that end a VM", async () => {
  await using oned = await startFakeOned();
  const env = (name: string) =>
    ({ ONE_XMLRPC: oned.url, ONE_AUTH: auth } as Record<string, string>)[name];
  const cases: [number, number, string | undefined][] = [
    [3, 18, "poweroff"], // SHUTDOWN_POWEROFF
    [3, 29, "undeploy"], // SHUTDOWN_UNDEPLOY
    [3, 12, undefined], // SHUTDOWN
    [3, 13, undefined], // CANCEL
    [3, 15, undefined], // CLEANUP (3.x), CLEANUP_RESUBMIT (4.x)
    [3, 23, undefined], // CLEANUP_DELETE
    [6, 0, undefined], // DONE: a powered-off VM deleted
  ];
  for (const [state, lcmState, keep] of cases) {
    oned.setVm(7, { state, lcmState });
    assert.equal(
      await powerOffReasonByOned("cancel", 7, "i-0abc", env),
      keep,
      `${state}/${lcmState}`,
    );
  }
});

Deno.test("powerOffReasonByOned() fails, naming the state, for one in which oned never ends a VM", async () => {
  await using oned = await startFakeOned();
  const env = (name: string) =>
    ({ ONE_XMLRPC: oned.url, ONE_AUTH: auth } as Record<string, string>)[name];
  for (const [state, lcmState, shown] of [[3, 3, "RUNNING (3)"], [8, 0, "LCM_INIT (0)"]] as const) {
    oned.setVm(7, { state, lcmState });
    await assert.rejects(
      powerOffReasonByOned("shutdown", 7, "i-0abc", env),
      (e: unknown) =>
        e instanceof DriverError &&
        e.message ===
          `Cannot tell whether shutdown of VM 7 is a terminate, power-off or undeploy; i-0abc left untouched: oned reports VM 7 in state ${state}, LCM state ${shown}`,
    );
  }
});

Deno.test("powerOffReasonByOned() fails on a bad ONE_XMLRPC_TIMEOUT before asking anything", async () => {
  await using oned = await startFakeOned();
  const env = (name: string) =>
    ({ ONE_XMLRPC: oned.url, ONE_AUTH: auth, ONE_XMLRPC_TIMEOUT: "0.5" } as Record<string, string>)[
      name
    ];
  await assert.rejects(powerOffReasonByOned("shutdown", 7, "i-0abc", env), {
    message:
      'Cannot tell whether shutdown of VM 7 is a terminate, power-off or undeploy; i-0abc left untouched: ONE_XMLRPC_TIMEOUT must be a whole number of seconds from 1 to 120: got "0.5"',
  });
  assert.equal(oned.calls.length, 0);
});
