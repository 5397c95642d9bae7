/**
 * The restricted attribute check of a partner oned's `one.template.instantiate`, for the
 * stand-in: `CONTEXT/FILES` is restricted by default (`VM_RESTRICTED_ATTR = "CONTEXT/FILES"`,
 * release-4.14.2:share/etc/oned.conf:777, release-6.10.5:share/etc/oned.conf:837), and a user
 * outside the oneadmin group may not set it in the extra template:
 * - up to 5.4.0, no FILES at all in the extra template's CONTEXT (`uattrs.check(aname)`,
 *   release-4.14.2:src/rm/RequestManagerVMTemplate.cc:93-107,
 *   release-5.2.1:src/rm/RequestManagerVMTemplate.cc:274-281): "restricted attribute
 *   CONTEXT/FILES";
 * - 5.4.1 to 6.6, the extra template's FILES must be the template's, an extra template
 *   without them counting as different (`check_restricted(aname, tmpl)`,
 *   release-5.4.15:src/rm/RequestManagerVMTemplate.cc:321-328,
 *   release-5.4.15:src/template/Template.cc:711-731): "restricted attribute CONTEXT";
 * - 6.8 (first tag 6.7.80) on, only FILES the extra template sets must be the template's
 *   (`check_restricted(aname, tmpl, true)`, release-6.10.5:src/rm/RequestManagerVMTemplate.cc:397,
 *   release-6.10.5:src/template/Template.cc:794-812).
 *
 * @module
 */

import type { XmlElement } from "../lib/util/xml.ts";
import { releaseAtLeast } from "./partner_oned.ts";

/** The FILES of the CONTEXTs of a template, sorted (`restricted_values`). */
function filesOf(contexts: readonly Readonly<Record<string, string>>[]): string[] {
  return contexts.flatMap((c) => c.FILES === undefined ? [] : [c.FILES]).sort();
}

/**
 * The restricted attribute oned names when it refuses an instantiate's extra template, if it
 * does, for a user outside the oneadmin group.
 *
 * @param release The release answering.
 * @param template The template's own CONTEXT.
 * @param extra The extra template (`<TEMPLATE>...</TEMPLATE>`).
 * @returns `CONTEXT/FILES` or `CONTEXT`, or undefined when the extra template is accepted.
 */
export function restrictedAttribute(
  release: string,
  template: Readonly<Record<string, string>>,
  extra: XmlElement,
): string | undefined {
  const contexts = extra.children.filter((e) => e.name === "CONTEXT").map((c) =>
    Object.fromEntries(c.children.map((v) => [v.name, v.text]))
  );
  const given = filesOf(contexts);
  if (!releaseAtLeast(release, "5.4.1")) {
    return given.some((f) => f !== "") ? "CONTEXT/FILES" : undefined;
  }
  const base = filesOf([template]);
  const differ = given.join("\n") !== base.join("\n") || given.length !== base.length;
  if (releaseAtLeast(release, "6.7.80") && given.length === 0) return undefined;
  return differ ? "CONTEXT" : undefined;
}
