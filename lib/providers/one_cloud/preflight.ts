/**
 * The partner cloud's side of the preflight `doctor`: whether the host's endpoint answers as
 * OpenNebula, whether it accepts the partner user (`one.user.info`), which release it runs and
 * whether the driver supports it (`one.system.version`), and whether the default template exists
 * for that user (`one.template.info` of `template.TEMPLATE_ID`). Three calls at most, none of
 * which changes anything.
 *
 * @module
 */

import type { HostSettings } from "../../core/config.ts";
import {
  CloudError,
  CredentialsError,
  InvalidInputError,
  NotFoundError,
} from "../../util/errors.ts";
import type { Check } from "../../core/preflight.ts";
import { child, childText } from "../../util/xml.ts";
import { XmlRpcError } from "../../one_xmlrpc/xmlrpc.ts";
import { ONE_ERROR, type PartnerApi } from "./api.ts";
import { askRelease } from "./learn_release.ts";
import { SUPPORTED_RELEASES, unsupportedBecause } from "./release.ts";
import type { OneCloudConnection } from "./settings.ts";

/**
 * Runs the partner checks of one host: `endpoint`, `credentials`, `release` and
 * `default template`. Checks that need an earlier one to pass are skipped, saying which; each
 * failure says its fix.
 *
 * @param settings The host's settings.
 * @param api Its partner calls.
 * @returns One check each, in that order.
 */
export async function partnerPreflight(settings: HostSettings, api: PartnerApi): Promise<Check[]> {
  const connection = settings.connection as OneCloudConnection;
  const where = settings.source || "the driver configuration";
  const host = settings.host;
  const who = connection.authFile !== undefined
    ? `the user:password in ${connection.authFile}`
    : `"user" and "password"`;
  const checks: Check[] = [];
  const skipTemplate = (why: string) => {
    checks.push({ check: "default template", result: "SKIP", detail: why });
    return checks;
  };
  const skipRest = (why: string) => {
    checks.push({ check: "release", result: "SKIP", detail: why });
    return skipTemplate(why);
  };
  let userName: string;
  try {
    const user = await api.document("Cannot read the partner user", "USER", "one.user.info", -1);
    userName = childText(user, "NAME")?.trim() || "?";
    checks.push(
      { check: "endpoint", result: "PASS", detail: `${connection.endpoint} answered` },
      {
        check: "credentials",
        result: "PASS",
        detail: `accepted (user ${userName}, id ${childText(user, "ID")?.trim() ?? "?"})`,
      },
    );
  } catch (error) {
    if (error instanceof InvalidInputError) {
      // The credentials file cannot be used: nothing was sent.
      checks.push(
        { check: "endpoint", result: "SKIP", detail: "needs the credentials to call it with" },
        { check: "credentials", result: "FAIL", detail: error.message },
      );
    } else if (!answered(error)) {
      checks.push(
        {
          check: "endpoint",
          result: "FAIL",
          detail: `${
            message(error)
          }; fix: check "endpoint" of host ${host} in ${where} (the partner's XML-RPC URL, usually port 2633 and /RPC2), and the network (proxy, firewall)`,
        },
        { check: "credentials", result: "SKIP", detail: "the endpoint did not answer" },
      );
    } else {
      const fix = error instanceof CredentialsError
        ? `check ${who} of host ${host} in ${where} with the partner (oneuser show)`
        : "ask the partner to let the user read its own record";
      checks.push(
        { check: "endpoint", result: "PASS", detail: `${connection.endpoint} answered` },
        { check: "credentials", result: "FAIL", detail: `${message(error)}; fix: ${fix}` },
      );
    }
    return skipRest("needs the credentials accepted");
  }
  checks.push(await releaseCheck(api));
  const templateId = settings.template["TEMPLATE_ID"];
  if (templateId === undefined) {
    return skipTemplate(
      `no default template: set "template": {"TEMPLATE_ID": ...} for host ${host} in ${where}, or give TEMPLATE_ID in each VM's PUBLIC_CLOUD section`,
    );
  }
  const fixTemplate =
    `set template.TEMPLATE_ID of host ${host} in ${where} to a template user ${userName} may instantiate (onetemplate list on the partner)`;
  if (!/^\d{1,9}$/.test(templateId)) {
    checks.push({
      check: "default template",
      result: "FAIL",
      detail: `TEMPLATE_ID must be the number of a partner template; fix: ${fixTemplate}`,
    });
    return checks;
  }
  try {
    const template = await api.document(
      `Partner template ${templateId}`,
      "VMTEMPLATE",
      "one.template.info",
      Number(templateId),
    );
    const name = childText(template, "NAME")?.trim();
    const cpu = childText(child(template, "TEMPLATE") ?? template, "CPU")?.trim();
    const memory = childText(child(template, "TEMPLATE") ?? template, "MEMORY")?.trim();
    const size = cpu && memory ? `, CPU ${cpu}, MEMORY ${memory} MB` : "";
    checks.push({
      check: "default template",
      result: "PASS",
      detail: `template ${templateId} exists${name ? ` (${name}${size})` : ""}`,
    });
  } catch (error) {
    const refused = error instanceof CloudError && error.code === String(ONE_ERROR.AUTHORIZATION);
    const fix = error instanceof NotFoundError
      ? fixTemplate
      : refused
      ? `ask the partner to give user ${userName} USE of template ${templateId}, or ${fixTemplate}`
      : "";
    checks.push({
      check: "default template",
      result: "FAIL",
      detail: `${message(error)}${fix ? `; fix: ${fix}` : ""}`,
    });
  }
  return checks;
}

/** The partner's release (`one.system.version`), and whether the driver supports it. */
async function releaseCheck(api: PartnerApi): Promise<Check> {
  const check = "release";
  try {
    const release = await askRelease(api, "Cannot ask the partner's release");
    const why = unsupportedBecause(release);
    if (why === undefined) {
      return {
        check,
        result: "PASS",
        detail: `OpenNebula ${release.text}, supported (${SUPPORTED_RELEASES})`,
      };
    }
    return {
      check,
      result: "FAIL",
      detail: `OpenNebula ${release.text} is not supported (${SUPPORTED_RELEASES}): ${why}`,
    };
  } catch (error) {
    return {
      check,
      result: "FAIL",
      detail: `${
        message(error)
      }; fix: the partner must answer one.system.version (OpenNebula ${SUPPORTED_RELEASES})`,
    };
  }
}

/** Whether the error is OpenNebula's answer (the endpoint is an OpenNebula that answered). */
function answered(error: unknown): boolean {
  return error instanceof CloudError && !(error.cause instanceof XmlRpcError);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
