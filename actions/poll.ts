/**
 * poll <deploy_id> <host> <vmid> [<host>]
 *
 * Prints the monitoring string (`STATE=a MEMORY=... AWS_...`). stdin (OpenNebula 5.0+): the
 * action data, base64; it also tells the OpenNebula generation, and so the usage keys. A VM
 * the cloud does not know is reported gone (`STATE=d`) only when it was deployed longer ago
 * than the grace period; otherwise the poll fails, since a fresh instance may not be visible yet.
 *
 * Polls of one account share a listing of its instances for the host's `pollWindowSeconds`
 * (see `lib/core/share_listings.ts`, applied by `lib/runtime/host.ts`): a poll served from a fresh
 * listing loads no cloud client and sends no request; the first stale one lists (one request per
 * 1,000 instances) for all of them. A VM missing from the listing (launched after it) is
 * described alone, as without sharing.
 *
 * A host that reads its VMs' usage (EC2: `cloudWatch`) adds the running VM's CPU and network
 * figures (`lib/runtime/usage.ts`): remembered ones while the host's last read is younger than
 * a period, else one read for all the host's running instances (listed with `listForHost`),
 * which the other polls of the cycle then serve.
 *
 * @module
 */

import { type ActionRun, type Report, runAction } from "../lib/runtime/action.ts";
import { NotFoundError } from "../lib/util/errors.ts";
import { readActionData } from "../lib/opennebula/action_data.ts";
import { parseVmArgs } from "../lib/opennebula/args.ts";
import { formatMonitoring } from "../lib/opennebula/monitoring.ts";
import { openHost } from "../lib/runtime/host.ts";
import { hostUsage, runningTargets } from "../lib/runtime/usage.ts";

/** Runs poll; returns the monitoring string (with the usage notes, when there are any). */
export default async function poll(
  argv: readonly string[],
  run: ActionRun,
): Promise<string | Report> {
  const args = parseVmArgs("poll", argv);
  const data = await readActionData();
  const host = await openHost(args.host, `poll of VM ${args.vmId}`, run, "monitoring");
  const { settings, kind, provider } = host;
  kind.checkDeployId(args.deployId);
  const keys = settings.monitoringKeys ?? (data ? "current" : "legacy");
  try {
    const instance = await provider.describe(args.deployId);
    const active = instance.state === "running" || instance.state === "pending";
    const usage = active
      ? await hostUsage(
        host,
        run,
        async () => runningTargets(provider, await provider.listForHost(args.host)),
      )
      : undefined;
    const line = formatMonitoring(
      instance,
      provider.factPrefix,
      keys,
      usage?.figures.get(instance.id),
    );
    return usage && usage.notes.length > 0 ? { lines: [line], notes: usage.notes } : line;
  } catch (error) {
    const age = data?.deployedAt === undefined ? undefined : Date.now() / 1000 - data.deployedAt;
    if (
      error instanceof NotFoundError && age !== undefined && age > settings.notFoundGraceSeconds
    ) {
      return `STATE=d ${provider.factPrefix}_STATE=not-found`;
    }
    throw error;
  }
}

if (import.meta.main) runAction(poll);
