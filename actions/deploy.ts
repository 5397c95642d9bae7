/**
 * deploy <deployment_file> <host> <vmid> [<host>]
 *
 * Launches the VM's instance and prints its id (the deploy id). stdin (OpenNebula 5.0+): the
 * deployment file, base64; used when the file is not readable here. A retry of the same
 * deployment returns the instance the first attempt launched.
 *
 * @module
 */

import { runAction, setDeadline } from "../lib/action.ts";
import { loadHostSettings } from "../lib/config.ts";
import { parseDeployArgs } from "../lib/opennebula/args.ts";
import { readDeploymentFile } from "../lib/opennebula/deployment_file.ts";
import { parseDeployment } from "../lib/opennebula/template.ts";
import { openProvider } from "../lib/providers.ts";

/** Runs deploy; returns the deploy id. */
export default async function deploy(argv: readonly string[]): Promise<string> {
  const args = parseDeployArgs(argv);
  const deployment = parseDeployment(await readDeploymentFile(args.deploymentFile));
  const settings = await loadHostSettings(args.host);
  setDeadline(settings.actionTimeoutSeconds, `deploy of VM ${args.vmId}`);
  const launch = openProvider(settings).prepareLaunch({
    vmId: args.vmId,
    host: args.host,
    deployment,
    deploymentName: args.deploymentFile.split("/").pop() ?? "",
  });
  return (await launch.run()).id;
}

if (import.meta.main) runAction(deploy);
