/**
 * poll <deploy_id> <host> <vmid> [<host>]
 *
 * Prints the monitoring string (`STATE=a MEMORY=... AWS_...`). stdin (OpenNebula 5.0+): the
 * action data, base64; it also tells the OpenNebula generation, and so the usage keys. A VM
 * the cloud does not know is reported gone (`STATE=d`) only when it was deployed longer ago
 * than the grace period; otherwise the poll fails, since a fresh instance may not be visible yet.
 *
 * @module
 */

import { type ActionRun, runAction } from "../lib/action.ts";
import { NotFoundError } from "../lib/errors.ts";
import { readActionData } from "../lib/opennebula/action_data.ts";
import { parseVmArgs } from "../lib/opennebula/args.ts";
import { formatMonitoring } from "../lib/opennebula/monitoring.ts";
import { openHost } from "../lib/providers.ts";

/** Runs poll; returns the monitoring string. */
export default async function poll(argv: readonly string[], run: ActionRun): Promise<string> {
  const args = parseVmArgs("poll", argv);
  const data = await readActionData();
  const { settings, provider } = await openHost(args.host, `poll of VM ${args.vmId}`, run);
  try {
    const instance = await provider.describe(args.deployId);
    return formatMonitoring(
      instance,
      provider.factPrefix,
      settings.monitoringKeys ?? (data ? "current" : "legacy"),
    );
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
