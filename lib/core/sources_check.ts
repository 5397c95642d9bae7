/**
 * The preflight's `sources` row: where each of a host's settings came from (the configuration
 * file's `hosts.<name>` or `defaults`, the host's OpenNebula template, the environment, or the
 * default), by name only: no value is printed, so no secret can be.
 *
 * @module
 */

import type { HostSettings } from "./config.ts";
import type { Check } from "./preflight.ts";
import type { ProviderKind } from "./provider.ts";

/**
 * The `sources` check of a host: always a PASS (a setting's own problems fail the `config` row
 * and the provider's checks); its detail groups the settings by where they came from.
 *
 * @param settings The host's settings, loaded with its template.
 * @param kind Its kind of provider.
 * @param env The environment the provider would read.
 * @returns The check.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sourcesCheck } from "./sources_check.ts";
 * import { PROVIDER_KINDS } from "../providers/mod.ts";
 * const check = sourcesCheck(
 *   {
 *     host: "aws", source: "/etc/one/hybrid_driver.json", provider: "ec2",
 *     connection: { endpoint: "http://127.0.0.1:9", region: "eu-west-1", accessKeyId: "AKIA", secretAccessKey: "s", useInstanceMetadata: false },
 *     template: {}, actionTimeoutSeconds: 300, stateWaitSeconds: 240, statePollSeconds: 2,
 *     notFoundGraceSeconds: 600, notFoundRetrySeconds: 15, pollWindowSeconds: 20,
 *     origins: {
 *       endpoint: { from: "file", scope: "defaults" },
 *       region: { from: "template", attribute: "REGION_NAME" },
 *       accessKeyId: { from: "template", attribute: "EC2_ACCESS" },
 *       secretAccessKey: { from: "template", attribute: "EC2_SECRET" },
 *     },
 *     hostTemplate: { template: { attributes: {}, sections: {} }, overridden: [] },
 *   },
 *   PROVIDER_KINDS.byName.ec2!,
 *   new Map(),
 * );
 * assert.equal(
 *   check.detail,
 *   "file (defaults): endpoint; host template: region (REGION_NAME), accessKeyId (EC2_ACCESS), secretAccessKey (EC2_SECRET); every other setting: its default",
 * );
 * ```
 */
export function sourcesCheck(
  settings: HostSettings,
  kind: ProviderKind,
  env: { get(name: string): string | undefined },
): Check {
  const groups = new Map<string, string[]>();
  const add = (group: string, item: string) =>
    groups.set(group, [...groups.get(group) ?? [], item]);
  for (const [setting, origin] of Object.entries(settings.origins ?? {})) {
    if (origin.from === "file") add(`file (${origin.scope})`, setting);
    else add("host template", `${setting} (${origin.attribute})`);
  }
  const read = settings.hostTemplate;
  if (settings.capacity === undefined && read?.template?.sections.CAPACITY !== undefined) {
    add("host template", "capacity (CAPACITY)");
  }
  if (read?.unread !== undefined) add("host template", `not read (${read.unread})`);
  const parts = [...groups].map(([group, items]) => `${group}: ${items.join(", ")}`);
  const environment = kind.environmentSources(settings, env);
  if (environment.length > 0) parts.push(`environment: ${environment.join(", ")}`);
  if (read !== undefined && read.overridden.length > 0) {
    parts.push(`the file overrides the template's ${read.overridden.join(", ")}`);
  }
  for (const name of read?.template?.storedInClear ?? []) {
    parts.push(
      `oned keeps ${name} unencrypted: from OpenNebula 5.10, HOST_ENCRYPTED_ATTR = "${name}" in oned.conf (then restart oned and run onehost update ${settings.host}) has it encrypted`,
    );
  }
  parts.push("every other setting: its default");
  return { check: "sources", result: "PASS", detail: parts.join("; ") };
}
