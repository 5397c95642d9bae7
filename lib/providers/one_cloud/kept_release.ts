/**
 * Where a partner's release is kept between the driver's processes: a small file beside the
 * host's shared listing (the poll state directory, `pollStateDir`), one per partner endpoint.
 *
 * @module
 */

import type { HostSettings } from "../../core/config.ts";
import { KeptFact } from "../../core/kept_fact.ts";
import { pollStateDir } from "../../core/poll_state.ts";
import { RELEASE_KEPT_SECONDS } from "./learn_release.ts";
import type { OneCloudConnection } from "./settings.ts";

/**
 * The kept release of a host's partner endpoint.
 *
 * @param settings The host's settings (its `pollStateDir` and endpoint).
 * @param env Where the state directory's default is read (`XDG_RUNTIME_DIR`).
 */
export function keptRelease(
  settings: HostSettings,
  env: { get(name: string): string | undefined } = Deno.env,
): KeptFact {
  return new KeptFact({
    dir: pollStateDir(settings.pollStateDir, env),
    kind: "opennebula",
    scope: (settings.connection as OneCloudConnection).endpoint,
    name: "release",
    maxAgeSeconds: RELEASE_KEPT_SECONDS,
  });
}
