/**
 * The idempotency token of a deploy: the same for every retry of one deployment, different for
 * a new deployment of the same VM, so a retried deploy never launches a second instance.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { LaunchRequest } from "../../core/provider.ts";

/**
 * Derives a RunInstances `ClientToken` (at most 64 ASCII characters) from what identifies one
 * deployment: VM id, host, deployment file name, the VM's creation time and name, and the
 * template section. Volatile parts of the deployment file (poll times) are left out on purpose.
 *
 * @param request The launch request.
 * @param section The template section's attributes.
 * @returns `one-<vmid>-<40 hex digits>`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { launchToken } from "./token.ts";
 * const request = { vmId: 42, host: "aws", deploymentName: "deployment.0" };
 * const token = launchToken(request, { AMI: "ami-0abcdef1234567890" });
 * assert.equal(token, launchToken(request, { AMI: "ami-0abcdef1234567890" }));
 * assert.notEqual(token, launchToken({ ...request, deploymentName: "deployment.1" }, { AMI: "ami-0abcdef1234567890" }));
 * assert.match(token, /^one-42-[0-9a-f]{40}$/);
 * ```
 */
export function launchToken(
  request: Pick<LaunchRequest, "vmId" | "host" | "deploymentName" | "startTime" | "vmName">,
  section: Readonly<Record<string, string>>,
): string {
  const identity = JSON.stringify([
    request.vmId,
    request.host,
    request.deploymentName,
    request.startTime ?? null,
    request.vmName ?? null,
    Object.entries(section).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
  ]);
  const digest = createHash("sha256").update(identity).digest("hex").slice(0, 40);
  return `one-${request.vmId}-${digest}`;
}
