import assert from "node:assert/strict";
import { DriverError } from "../errors.ts";
import { startFakeOned } from "../../tests/oned_xmlrpc.ts";
import { keepsInstanceByOned } from "./oned_lcm.ts";

const dir = await Deno.makeTempDir({ prefix: "oned-lcm-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const auth = `${dir}/one_auth`;
await Deno.writeTextFile(auth, "oneadmin:0pen-Nebula\n");

Deno.test("keepsInstanceByOned() keeps for power-off and undeploy, terminates for the states that end a VM", async () => {
  await using oned = await startFakeOned();
  const env = (name: string) =>
    ({ ONE_XMLRPC: oned.url, ONE_AUTH: auth } as Record<string, string>)[name];
  const cases: [number, number, boolean][] = [
    [3, 18, true], // SHUTDOWN_POWEROFF
    [3, 29, true], // SHUTDOWN_UNDEPLOY
    [3, 12, false], // SHUTDOWN
    [3, 13, false], // CANCEL
    [3, 15, false], // CLEANUP (3.x), CLEANUP_RESUBMIT (4.x)
    [3, 23, false], // CLEANUP_DELETE
    [6, 0, false], // DONE: a powered-off VM deleted
  ];
  for (const [state, lcmState, keep] of cases) {
    oned.setVm(7, { state, lcmState });
    assert.equal(
      await keepsInstanceByOned("cancel", 7, "i-0abc", env),
      keep,
      `${state}/${lcmState}`,
    );
  }
});

Deno.test("keepsInstanceByOned() fails, naming the state, for one in which oned never ends a VM", async () => {
  await using oned = await startFakeOned();
  const env = (name: string) =>
    ({ ONE_XMLRPC: oned.url, ONE_AUTH: auth } as Record<string, string>)[name];
  for (const [state, lcmState, shown] of [[3, 3, "RUNNING (3)"], [8, 0, "LCM_INIT (0)"]] as const) {
    oned.setVm(7, { state, lcmState });
    await assert.rejects(
      keepsInstanceByOned("shutdown", 7, "i-0abc", env),
      (e: unknown) =>
        e instanceof DriverError &&
        e.message ===
          `Cannot tell whether shutdown of VM 7 is a terminate, power-off or undeploy; i-0abc left untouched: oned reports VM 7 in state ${state}, LCM state ${shown}`,
    );
  }
});

Deno.test("keepsInstanceByOned() fails on a bad ONE_XMLRPC_TIMEOUT before asking anything", async () => {
  await using oned = await startFakeOned();
  const env = (name: string) =>
    ({ ONE_XMLRPC: oned.url, ONE_AUTH: auth, ONE_XMLRPC_TIMEOUT: "0.5" } as Record<string, string>)[
      name
    ];
  await assert.rejects(keepsInstanceByOned("shutdown", 7, "i-0abc", env), {
    message:
      'Cannot tell whether shutdown of VM 7 is a terminate, power-off or undeploy; i-0abc left untouched: ONE_XMLRPC_TIMEOUT must be a whole number of seconds from 1 to 120: got "0.5"',
  });
  assert.equal(oned.calls.length, 0);
});
