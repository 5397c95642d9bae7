/**
 * An action run in the real frame (`runAction`) that puts a registered secret into whatever
 * the frame prints: `lib/runtime/action_test.ts` runs it as a process, one way per run.
 *
 * Usage: `secret_action.ts <success|report|driver-error|internal-error|deadline|deadline-wait> <secret>`
 *
 * `deadline` ignores the action's signal (the frame must still end it); `deadline-wait` waits
 * on it and says on stderr what ended the wait.
 *
 * @module
 */

import { runAction } from "../action.ts";
import { DriverError } from "../../util/errors.ts";
import { sleep } from "../../util/sleep.ts";
import { addSecret } from "../../util/redact.ts";

const [how, secret = ""] = Deno.args;
addSecret(secret);

await runAction(async (_argv, run) => {
  switch (how) {
    case "success":
      return `STATE=a NOTE=${secret}`;
    case "report":
      return { lines: ["A=1", `B=${secret}`], notes: [`INFO: did\nsomething with ${secret}`] };
    case "driver-error":
      throw new DriverError(`Cannot x: key ${secret} refused`);
    case "internal-error":
      throw new TypeError(`key ${secret} refused`);
    case "deadline":
      run.limit(0.1, `an answer about ${secret}`);
      return await new Promise<string>(() => {});
    case "deadline-wait":
      run.limit(0.1, `an answer about ${secret}`);
      try {
        return await sleep(60_000, run.signal).then(() => "");
      } catch (error) {
        console.error(`the wait ended: ${(error as Error).name}`);
        throw error;
      }
    default:
      throw new Error(`unknown way ${how}`);
  }
}, []);
