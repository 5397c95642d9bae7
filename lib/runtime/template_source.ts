/**
 * A host's OpenNebula template as a source of its settings: read from the local oned, with the
 * credentials the driver already uses for it (`ONE_AUTH`, `ONE_XMLRPC`), only when the
 * configuration file leaves a setting the template may give undecided
 * (`lib/core/template_settings.ts`). oned hands no action its host's template, but it names the
 * host's id: a probe's argument, and the VM's history in the action data or deployment on stdin
 * (5.0+), so one `one.host.info` is enough; before 5.0 the id is looked up by name first.
 *
 * @module
 */

import { DriverError } from "../util/errors.ts";
import type { TemplateSource } from "../core/template_settings.ts";
import { describeError } from "./action.ts";

/**
 * The local oned as the source of a host's template.
 *
 * @param host The host's name.
 * @param hostId Its id, when the caller has it (a probe); else taken from stdin when it holds
 * the VM's history, else looked up.
 * @param always Read the template even when the file decides every setting (the preflight).
 * @returns The source; reading it when oned cannot be asked at all (no credentials file, an
 * invalid `ONE_XMLRPC`) gives `unread` with the reason.
 */
export function onedTemplateSource(
  host: string,
  hostId?: number,
  always = false,
): TemplateSource {
  return {
    always,
    async read(request) {
      const { openLocalOned } = await import("../opennebula/local_oned.ts");
      let oned;
      try {
        oned = await openLocalOned();
      } catch (error) {
        return { unread: describeError(error) };
      }
      const id = hostId ?? await hostIdFromStdin(host);
      try {
        const template = await oned.hostTemplate({
          host,
          ...(id !== undefined ? { hostId: id } : {}),
          ...request,
        });
        return template === undefined ? { unread: `oned has no host named ${host}` } : { template };
      } catch (error) {
        throw new DriverError(
          `Cannot read host ${host}'s template from oned: ${describeError(error)}`,
          { cause: error },
        );
      }
    },
  };
}

/** The host's id as the VM's history on stdin names it (action data, or deploy's VM). */
async function hostIdFromStdin(host: string): Promise<number | undefined> {
  const { readActionData } = await import("../opennebula/action_data.ts");
  const data = await readActionData().catch(() => undefined);
  return data?.hostIds?.[host];
}
