/**
 * migrate <deploy_id> <dest_host> <host> <vmid> [<host>]
 *
 * Moves the VM to another OpenNebula host. Two hosts served by the same account, region and
 * endpoint see the same instances, so there is nothing to move: migrate checks that the
 * instance exists, moves its host mark to the new host (so that the new host's probes report
 * it and the old one's no longer do), and succeeds; the deploy id stays. Anything else
 * (another region, account or cloud) fails with a message that says why: instances cannot
 * move there.
 *
 * @module
 */

import { type ActionRun, runAction } from "../lib/runtime/action.ts";
import { UnsupportedError } from "../lib/util/errors.ts";
import { parseMigrateArgs } from "../lib/opennebula/args.ts";
import { openHost } from "../lib/runtime/host.ts";

/** Runs migrate; returns "". */
export default async function migrate(argv: readonly string[], run: ActionRun): Promise<string> {
  const args = parseMigrateArgs(argv);
  const source = await openHost(args.host, `migrate of VM ${args.vmId}`, run);
  const target = await openHost(args.destinationHost, `migrate of VM ${args.vmId}`, run);
  if (source.provider.location !== target.provider.location) {
    throw new UnsupportedError(
      `Cannot migrate ${args.deployId} from host ${args.host} (${source.provider.locationLabel}) to host ${args.destinationHost} (${target.provider.locationLabel}): ${source.kind.crossLocationMigration}`,
    );
  }
  await source.provider.describe(args.deployId);
  if (args.destinationHost !== args.host) {
    await source.provider.rehome(args.deployId, args.destinationHost, args.vmId);
  }
  return "";
}

if (import.meta.main) runAction(migrate);
