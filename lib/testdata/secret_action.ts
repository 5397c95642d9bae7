/**
 * An action run in the real frame (`runAction`) that puts a registered secret into whatever
 * the frame prints: `lib/action_test.ts` runs it as a process, one way per run.
 *
 * Usage: `secret_action.ts <success|driver-error|internal-error|deadline> <secret>`
 *
 * @module
 */

import { runAction, setDeadline } from "../action.ts";
import { DriverError } from "../errors.ts";
import { addSecret } from "../redact.ts";

const [how, secret = ""] = Deno.args;
addSecret(secret);

await runAction(async () => {
  switch (how) {
    case "success":
      return `STATE=a NOTE=${secret}`;
    case "driver-error":
      throw new DriverError(`Cannot x: key ${secret} refused`);
    case "internal-error":
      throw new TypeError(`key ${secret} refused`);
    case "deadline":
      setDeadline(0.1, `an answer about ${secret}`);
      return await new Promise<string>(() => {});
    default:
      throw new Error(`unknown way ${how}`);
  }
}, []);
