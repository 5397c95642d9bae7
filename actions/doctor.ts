/**
 * `doctor [host ...]`: the preflight, for the operator. For each host the configuration lists
 * (or each host named) it checks the configuration (with the host's OpenNebula template, read
 * from oned), says where each setting came from (`sources`: names only, never a value), then
 * asks the host's provider whether its
 * endpoint answers, its credentials are accepted and may launch, and its default AMI (a partner
 * cloud's: its default template) exists;
 * last, whether this front-end's oned answers and accepts its `one_auth`. One table row per
 * check; exit 1 when any failed. Nothing is changed.
 *
 * @module
 */

import { type ActionRun, describeError, type Report } from "../lib/runtime/action.ts";
import { configuredHosts, type HostSettings, loadHostSettings } from "../lib/core/config.ts";
import { InvalidInputError } from "../lib/util/errors.ts";
import { allPassed, type CheckRow, formatTable } from "../lib/core/preflight.ts";
import { PROVIDER_KINDS } from "../lib/providers/mod.ts";
import { redact } from "../lib/util/redact.ts";
import { sourcesCheck } from "../lib/core/sources_check.ts";
import { onedTemplateSource } from "../lib/runtime/template_source.ts";

/** Runs every check and prints the table; fails (exit 1) when a check failed. */
export default async function doctor(argv: readonly string[], run: ActionRun): Promise<Report> {
  const rows: CheckRow[] = [];
  let hosts: readonly string[] = argv;
  if (hosts.length === 0) {
    try {
      const listed = await configuredHosts();
      if (listed.hosts === undefined || listed.hosts.length === 0) {
        throw new InvalidInputError(
          `doctor: ${listed.path} lists no hosts (without "hosts" it serves any host name): name the hosts to check, e.g. doctor <host>`,
        );
      }
      hosts = listed.hosts;
    } catch (error) {
      if (error instanceof InvalidInputError && error.message.startsWith("doctor:")) throw error;
      rows.push({ host: "-", check: "config", result: "FAIL", detail: describeError(error) });
      hosts = [];
    }
  }
  for (const host of hosts) rows.push(...await checkHost(host, run.signal));
  rows.push({ host: "-", ...await onedCheck() });
  return { lines: formatTable(rows.map(redactRow)), failed: !allPassed(rows) };
}

/**
 * A row with every registered secret removed, before the table wraps its detail: a secret cut
 * across lines would escape the redaction of each printed line.
 */
function redactRow(row: CheckRow): CheckRow {
  return {
    host: redact(row.host),
    check: redact(row.check),
    result: row.result,
    detail: redact(row.detail),
  };
}

/** The configuration row of a host, then its provider's checks once it is valid. */
async function checkHost(host: string, signal: AbortSignal): Promise<CheckRow[]> {
  let settings: HostSettings;
  try {
    settings = await loadHostSettings(
      PROVIDER_KINDS,
      host,
      Deno.env,
      undefined,
      onedTemplateSource(host, undefined, true),
    );
  } catch (error) {
    return [{ host, check: "config", result: "FAIL", detail: describeError(error) }];
  }
  const rows: CheckRow[] = [{
    host,
    check: "config",
    result: "PASS",
    detail: settings.source ||
      "no configuration file: the AWS SDK's own settings (environment, ~/.aws)",
  }];
  const kind = PROVIDER_KINDS.byName[settings.provider]!;
  rows.push({ host, ...sourcesCheck(settings, kind, Deno.env) });
  try {
    for (const check of await kind.preflight(settings, signal)) rows.push({ host, ...check });
  } catch (error) {
    rows.push({ host, check: kind.name, result: "FAIL", detail: describeError(error) });
  }
  return rows;
}

/**
 * Whether this front-end's oned answers (`ONE_XMLRPC`) and accepts its credentials
 * (`one_auth`), by asking its version. Skipped when there are no credentials to try: the tool
 * is not run as an OpenNebula user.
 */
async function onedCheck(): Promise<{ check: string; result: CheckRow["result"]; detail: string }> {
  const [{ readOneAuth }, { localOnedClient }, { systemVersion }] = await Promise.all([
    import("../lib/opennebula/one_auth.ts"),
    import("../lib/opennebula/local_oned.ts"),
    import("../lib/opennebula/one_api.ts"),
  ]);
  const env = (name: string) => Deno.env.get(name);
  let session: string;
  try {
    session = (await readOneAuth(env)).session;
  } catch (error) {
    return {
      check: "oned",
      result: "SKIP",
      detail: `${
        describeError(error)
      }; run doctor as oneadmin (or set ONE_AUTH) to check oned and the host probes' access to it`,
    };
  }
  try {
    const client = localOnedClient(env);
    const version = await systemVersion(client, session);
    return {
      check: "oned",
      result: "PASS",
      detail: `${client.where} answered: OpenNebula ${version}`,
    };
  } catch (error) {
    return {
      check: "oned",
      result: "FAIL",
      detail: `${
        describeError(error)
      }; fix: start oned, or set ONE_XMLRPC to its endpoint and ONE_AUTH to oneadmin's credentials file`,
    };
  }
}
