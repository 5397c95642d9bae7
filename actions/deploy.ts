/**
 * deploy <deployment_file> <host> <vmid> [<host>]
 *
 * Runs the VM on the cloud and prints its deploy id (the instance id), once the instance is
 * running. stdin (OpenNebula 5.0+): the deployment file, base64; used when the file is not
 * readable here.
 *
 * - A deployment that names an existing instance (`DEPLOY_ID`: resume after power-off or
 *   undeploy) starts that instance instead of launching a new one. Only an instance the cloud
 *   reports terminated is replaced; one it does not know makes the deploy fail, and so does
 *   one tagged as launched for another VM.
 * - A retry of the same deployment returns the instance the first attempt launched.
 * - On a host with a `capacity` in the driver configuration, a deploy that would go past it
 *   fails before anything is launched or started; the VM's own instances do not count. A host
 *   without one whose provider has account quotas (a partner OpenNebula user's) is checked
 *   against what the quota leaves.
 *
 * @module
 */

import { type ActionRun, runAction } from "../lib/runtime/action.ts";
import type { QuotaCharge } from "../lib/core/provider.ts";
import { checkDeployCapacity, checkDeployQuota } from "../lib/core/capacity.ts";
import { NotFoundError } from "../lib/util/errors.ts";
import { checkOwner, followHost } from "../lib/core/lifecycle.ts";
import { parseDeployArgs } from "../lib/opennebula/args.ts";
import { contextVariables, renderContext } from "../lib/opennebula/context.ts";
import { readDeploymentFile } from "../lib/opennebula/deployment_file.ts";
import { parseDeployment, selectSection } from "../lib/opennebula/template.ts";
import { openHost } from "../lib/runtime/host.ts";

/** Runs deploy; returns the deploy id. */
export default async function deploy(argv: readonly string[], run: ActionRun): Promise<string> {
  const args = parseDeployArgs(argv);
  const deployment = parseDeployment(await readDeploymentFile(args.deploymentFile));
  const { kind, provider, settings } = await openHost(
    args.host,
    `deploy of VM ${args.vmId}`,
    run,
  );
  // Checks the template before any call, a resume included.
  const launch = provider.prepareLaunch({
    vmId: args.vmId,
    host: args.host,
    ...(deployment.name !== undefined ? { vmName: deployment.name } : {}),
    ...(deployment.startTime !== undefined ? { startTime: deployment.startTime } : {}),
    deploymentName: args.deploymentFile.split("/").pop() ?? "",
    section: selectSection(deployment, kind.sectionType, args.host),
    renderContext: (format) => renderContext(deployment.context, deployment.name, format),
    contextVariables: () => contextVariables(deployment.context),
    ...(deployment.memoryMiB !== undefined && (deployment.vcpu ?? deployment.cpu) !== undefined
      ? {
        reserved: {
          vcpus: deployment.vcpu ?? Math.ceil(deployment.cpu!),
          memoryMiB: deployment.memoryMiB,
        },
      }
      : {}),
  });
  // Only a host with a capacity in the configuration, or a provider with account quotas, pays
  // for the check (one or two more requests).
  // A quota check counts what the quota will charge, where the provider says (a partner
  // template's CPU, not VCPU): the existing instance's, or the launch's (asked only then).
  const fitCapacity = async (
    size: string | undefined,
    charged: () => Promise<QuotaCharge | undefined>,
  ) => {
    const request = { vmId: args.vmId, host: args.host, size };
    if (settings.capacity) {
      await checkDeployCapacity(provider, settings.capacity, request);
    } else if (provider.quotaCapacity) {
      await checkDeployQuota(provider, await provider.quotaCapacity(), { ...request, charged });
    }
  };
  if (deployment.deployId) {
    const existing = await provider.describe(deployment.deployId).catch((error) => {
      if (error instanceof NotFoundError) {
        throw new NotFoundError(
          `Cannot resume VM ${args.vmId}: its instance ${deployment.deployId} is unknown to the cloud (${provider.locationLabel}); recreate the VM to launch a new one`,
          { cause: error },
        );
      }
      throw error;
    });
    checkOwner(existing, args.vmId, `resume VM ${args.vmId}`);
    if (existing.state !== "terminated" && existing.state !== "terminating") {
      await fitCapacity(existing.size ?? launch.size, () => Promise.resolve(existing.charged));
      await followHost(provider, existing, args.host, args.vmId);
      return (await provider.resume(existing.id)).id;
    }
  }
  await fitCapacity(launch.size, () => launch.charged?.() ?? Promise.resolve(undefined));
  return (await launch.run()).id;
}

if (import.meta.main) runAction(deploy);
