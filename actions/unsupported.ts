/**
 * The actions `one_vmm_sh` can call in OpenNebula 5.x/6.x that the provider cannot do the
 * OpenNebula way. Each exists in `dist/` so that oned gets a clear failure, never a success for
 * something that was not done (OpenNebula's own EC2 scripts exited 0 here). The reasons are the
 * provider's own (`ProviderKind.unsupported`).
 *
 * @module
 */

import { UnsupportedError } from "../lib/errors.ts";
import type { Action } from "../lib/action.ts";
import { DEFAULT_PROVIDER, PROVIDER_KINDS } from "../lib/provider_kinds.ts";

/**
 * The action for a name the provider cannot do: it always fails with a message that says why.
 * Only EC2 exists today, so its reasons are given; a provider that can do some of these will
 * need the action to find its host's provider first.
 *
 * @param name The action's name.
 * @returns An action that throws `UnsupportedError`.
 */
export function unsupported(name: string): Action {
  const kind = PROVIDER_KINDS[DEFAULT_PROVIDER]!;
  const reason = kind.unsupported[name] ?? "this provider cannot do it";
  return () =>
    Promise.reject(
      new UnsupportedError(`Action ${name} is not supported by ${kind.label}: ${reason}`),
    );
}
