import assert from "node:assert/strict";
import { CloudError, DeadlineError, DriverError, NotFoundError } from "../util/errors.ts";
import type { Instance, InstanceState } from "./provider.ts";
import {
  asDriverError,
  isGone,
  runOrCleanUp,
  type StateWait,
  waitForState,
} from "./provider_kit.ts";

/** An instance in a state, named as the cloud would (upper case). */
const vm = (state: InstanceState): Instance => ({
  id: "vm-1",
  state,
  nativeState: state.toUpperCase(),
  facts: {},
});

/**
 * A wait whose checks answer these states (or throw these errors) in turn, the last one
 * repeated; records when each check was made.
 */
function scripted(answers: (InstanceState | Error)[], options: Partial<StateWait> = {}) {
  const asked: number[] = [];
  const wait: StateWait = {
    id: "vm-1",
    goal: "running",
    settings: { stateWaitSeconds: 0.3, statePollSeconds: 0.02 },
    describe: () => {
      const answer = answers[Math.min(asked.length, answers.length - 1)]!;
      asked.push(Date.now());
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(vm(answer));
    },
    ended: () => ({ id: "vm-1", state: "terminated", nativeState: "ENDED", facts: {} }),
    stray: (instance) => new CloudError("Stray", `vm-1 is ${instance.nativeState}`),
    ...options,
  };
  return { wait, asked };
}

Deno.test("waitForState() returns the instance as soon as it reaches the goal", async () => {
  const { wait, asked } = scripted(["pending", "pending", "running", "stopped"]);
  assert.deepEqual(await waitForState(wait), vm("running"));
  assert.equal(asked.length, 3);
});

Deno.test("waitForState() pauses from statePollSeconds, each pause half as long again as the one before", async () => {
  const { wait, asked } = scripted(["pending", "pending", "pending", "running"], {
    settings: { stateWaitSeconds: 5, statePollSeconds: 0.04 },
  });
  await waitForState(wait);
  const gaps = asked.slice(1).map((at, i) => at - asked[i]!);
  // Timers never fire early; a busy machine may make them late, not shorter than asked.
  for (const [i, least] of [40, 60, 90].entries()) {
    assert.ok(gaps[i]! >= least - 1, `pause ${i + 1} of ${gaps[i]} ms, expected ${least} ms`);
  }
});

Deno.test("waitForState() times out after stateWaitSeconds, naming the goal and the last state seen", async () => {
  const { wait, asked } = scripted(["pending"]);
  await assert.rejects(
    waitForState(wait),
    new DeadlineError("Timed out after 0.3 s waiting for vm-1 to be running; it is PENDING"),
  );
  // Pauses of 20, 30, 45, 67.5 and 101.25 ms fit in 300 ms; the next would not.
  assert.ok(asked.length >= 2 && asked.length <= 6, `${asked.length} checks`);
});

Deno.test("waitForState() ends when the window ends first, saying how long it waited", async () => {
  const { wait } = scripted(["pending"], {
    settings: { stateWaitSeconds: 60, statePollSeconds: 0.02 },
    window: { end: (startedAt) => startedAt + 100 },
  });
  const started = Date.now();
  await assert.rejects(
    waitForState(wait),
    new DeadlineError("Timed out after 0 s waiting for vm-1 to be running; it is PENDING"),
  );
  assert.ok(Date.now() - started < 1_000);
});

Deno.test('waitForState() takes a "not found" while waiting for termination as ended', async () => {
  const { wait, asked } = scripted(["terminating", new NotFoundError("no such VM")], {
    goal: "terminated",
  });
  assert.deepEqual(await waitForState(wait), {
    id: "vm-1",
    state: "terminated",
    nativeState: "ENDED",
    facts: {},
  });
  assert.equal(asked.length, 2);
});

Deno.test("waitForState() fails with the check's error when the provider does not call it unsettled", async () => {
  const unknown = new NotFoundError("no such VM");
  const { wait, asked } = scripted(["pending", unknown, "running"]);
  await assert.rejects(waitForState(wait), (error) => error === unknown);
  assert.equal(asked.length, 2);
});

Deno.test("waitForState() asks again after a check the provider calls unsettled, naming it in a timeout", async () => {
  const throttled = new CloudError("Throttling", "slow down");
  const { wait } = scripted(["pending", throttled, throttled, "running"], {
    unsettled: (error) => error instanceof CloudError ? `unknown (${error.code})` : undefined,
  });
  assert.deepEqual(await waitForState(wait), vm("running"));
  const { wait: never } = scripted([throttled], {
    unsettled: (error) => error instanceof CloudError ? `unknown (${error.code})` : undefined,
  });
  await assert.rejects(
    waitForState(never),
    new DeadlineError(
      "Timed out after 0.3 s waiting for vm-1 to be running; it is unknown (Throttling)",
    ),
  );
});

Deno.test("waitForState() fails with the provider's error when the instance goes on the way", async () => {
  for (const gone of ["terminating", "terminated"] as const) {
    for (const goal of ["running", "stopped"] as const) {
      const { wait } = scripted(["pending", gone], { goal });
      await assert.rejects(
        waitForState(wait),
        new CloudError("Stray", `vm-1 is ${gone.toUpperCase()}`),
      );
    }
  }
  const { wait } = scripted(["terminating", "terminated"], { goal: "terminated" });
  assert.deepEqual(await waitForState(wait), vm("terminated"));
});

Deno.test("waitForState() fails on a state the provider calls stuck, and waits on through others", async () => {
  const stuck = (instance: Instance) => instance.state === "unknown";
  const { wait } = scripted(["pending", "unknown"], { stuck });
  await assert.rejects(waitForState(wait), new CloudError("Stray", "vm-1 is UNKNOWN"));
  const { wait: lenient } = scripted(["pending", "unknown", "running"]);
  assert.deepEqual(await waitForState(lenient), vm("running"));
});

Deno.test("waitForState() ends at the first state the provider can act on when it says which, before the stuck and gone checks", async () => {
  const { wait, asked } = scripted(["pending", "pending", "unknown", "running"], {
    reached: (instance) => instance.state === "unknown",
    stuck: (instance) => instance.state === "unknown",
  });
  assert.deepEqual(await waitForState(wait), vm("unknown"));
  assert.equal(asked.length, 3);
});

Deno.test("isGone() is true for terminating and terminated instances only", () => {
  const states = "pending running stopping stopped terminating terminated unknown".split(" ");
  assert.deepEqual(
    (states as InstanceState[]).filter((state) => isGone(vm(state))),
    ["terminating", "terminated"],
  );
});

Deno.test("runOrCleanUp() returns the step's result without cleaning up", async () => {
  let cleaned = 0;
  const result = await runOrCleanUp(() => Promise.resolve(42), asDriverError, () => {
    cleaned++;
    return Promise.resolve("cleaned");
  });
  assert.equal(result, 42);
  assert.equal(cleaned, 0);
});

Deno.test("runOrCleanUp() cleans up after a failed step and appends what became of it, keeping the kind of error", async () => {
  const cases: [Error, DriverError][] = [
    [
      new CloudError("Boom", "Cannot boot vm-1"),
      new CloudError("Boom", "Cannot boot vm-1; vm-1 was terminated"),
    ],
    [new DeadlineError("Timed out"), new DeadlineError("Timed out; vm-1 was terminated")],
    [new NotFoundError("Gone"), new DriverError("Gone; vm-1 was terminated")],
    [new TypeError("bad"), new DriverError("TypeError: bad; vm-1 was terminated")],
  ];
  for (const [thrown, expected] of cases) {
    const seen: DriverError[] = [];
    const failed = await runOrCleanUp(() => Promise.reject(thrown), asDriverError, (failure) => {
      seen.push(failure);
      return Promise.resolve("vm-1 was terminated");
    }).catch((error) => error);
    assert.equal(failed.message, expected.message);
    assert.equal(failed.constructor, expected.constructor);
    if (expected instanceof CloudError) assert.equal((failed as CloudError).code, expected.code);
    assert.equal(seen.length, 1);
    assert.equal(failed.cause, seen[0]);
  }
});

Deno.test("runOrCleanUp() throws the failure itself when there was nothing to clean up", async () => {
  const failure = new CloudError("Boom", "Cannot launch");
  const failed = await runOrCleanUp(
    () => Promise.reject(new Error("raw")),
    () => failure,
    () => Promise.resolve(undefined),
  ).catch((error) => error);
  assert.equal(failed, failure);
});

Deno.test("runOrCleanUp() maps the step's error before the clean-up runs", async () => {
  const order: string[] = [];
  await runOrCleanUp(
    () => Promise.reject(new Error("raw")),
    (error) => {
      order.push("failureOf");
      return asDriverError(error);
    },
    () => {
      order.push("cleanUp");
      return Promise.resolve("done");
    },
  ).catch(() => undefined);
  assert.deepEqual(order, ["failureOf", "cleanUp"]);
});

Deno.test("asDriverError() keeps a driver error and wraps anything else with its text", () => {
  const own = new NotFoundError("gone");
  assert.equal(asDriverError(own), own);
  const wrapped = asDriverError("a string");
  assert.ok(wrapped instanceof DriverError);
  assert.equal(wrapped.message, "a string");
  assert.equal(wrapped.cause, "a string");
});
