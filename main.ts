/**
 * Entry point of the built driver: `driver <action> <args...>`. Every executable in `dist/`
 * calls this one program with its own action name, so the driver ships one runtime instead
 * of one per action. Each action runs in its own process.
 *
 * @module
 */

import { runAction } from "./lib/runtime/action.ts";
import { IM_ACTIONS, VMM_ACTIONS } from "./actions/mod.ts";
import { formatFailure } from "./lib/util/output.ts";

const [name = "", ...argv] = Deno.args;
const loader = (name: string) =>
  Object.hasOwn(VMM_ACTIONS, name)
    ? VMM_ACTIONS[name]
    : Object.hasOwn(IM_ACTIONS, name)
    ? IM_ACTIONS[name]
    : undefined;
const load = loader(name);
if (load) {
  await runAction(await load(), argv);
} else {
  const { stdout, stderr } = formatFailure(
    `Unknown action "${name}" (known: ${
      [...Object.keys(VMM_ACTIONS), ...Object.keys(IM_ACTIONS)].join(", ")
    })`,
  );
  Deno.stdout.writeSync(new TextEncoder().encode(stdout));
  Deno.stderr.writeSync(new TextEncoder().encode(stderr));
  Deno.exit(2);
}
