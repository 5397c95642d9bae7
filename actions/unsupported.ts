/**
 * The actions `one_vmm_sh` can call in OpenNebula 5.x/6.x that the provider cannot do the
 * OpenNebula way. Each exists in `dist/` so that oned gets a clear failure, never a success for
 * something that was not done (OpenNebula's own EC2 scripts exited 0 here). The reasons are
 * those of the host's kind of provider (`ProviderKind.unsupported`): oned appends `<vmid>
 * <host>` to every action's arguments, so the host is the last one, and its configuration says
 * which kind serves it. Nothing is sent to any cloud.
 *
 * @module
 */

import { loadHostSettings } from "../lib/core/config.ts";
import { InvalidInputError, UnsupportedError } from "../lib/util/errors.ts";
import type { Action } from "../lib/runtime/action.ts";
import { PROVIDER_KINDS } from "../lib/providers/mod.ts";

/**
 * The action for a name the provider cannot do: it always fails with a message that says why,
 * in the words of the host's kind of provider.
 *
 * @param name The action's name.
 * @returns An action that throws `UnsupportedError` (`InvalidInputError` when it has no host
 * argument or the host's configuration is invalid).
 */
export function unsupported(name: string): Action {
  return async (argv) => {
    const host = argv.at(-1)?.trim();
    if (!host) {
      throw new InvalidInputError(
        `${name}: expected its arguments followed by <vmid> <host>; got ${argv.length} arguments`,
      );
    }
    const kind = PROVIDER_KINDS.byName[(await loadHostSettings(PROVIDER_KINDS, host)).provider]!;
    const reason = kind.unsupported[name] ?? "this provider cannot do it";
    throw new UnsupportedError(`Action ${name} is not supported by ${kind.label}: ${reason}`);
  };
}
