/**
 * Entry point of the built driver: `driver <action> <args...>`. Every executable in `dist/`
 * calls this one program with its own action name, so the driver ships one runtime instead
 * of one per action. An action that may ask the cloud is handed to the warm driver server
 * when there is one (`lib/driver_client.ts`; `HYBRID_DRIVER_SERVER=off` turns it off);
 * `driver --serve <socket>` is that server (`lib/driver_server.ts`).
 *
 * @module
 */

import { runAction } from "./action.ts";
import { IM_ACTIONS, IN_PROCESS_ACTIONS, VMM_ACTIONS } from "./action_table.ts";
import { formatFailure } from "./output.ts";

const [name = "", ...argv] = Deno.args;
const loader = (name: string) =>
  Object.hasOwn(VMM_ACTIONS, name)
    ? VMM_ACTIONS[name]
    : Object.hasOwn(IM_ACTIONS, name)
    ? IM_ACTIONS[name]
    : undefined;
const load = loader(name);
if (name === "--serve" && argv.length === 1) {
  const { serve } = await import("./driver_server.ts");
  await serve(argv[0]!, (action) => IN_PROCESS_ACTIONS.has(action) ? undefined : loader(action));
} else if (load) {
  if (!IN_PROCESS_ACTIONS.has(name) && Deno.env.get("HYBRID_DRIVER_SERVER") !== "off") {
    // Returns only when this process must run the action itself.
    await import("./driver_client.ts").then((m) => m.runServed(name, argv));
  }
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
