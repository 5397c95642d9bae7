/**
 * The keys of a partner cloud's template section (`PUBLIC_CLOUD=[TYPE="opennebula", ...]`).
 *
 * @module
 */

import { closestName } from "../../util/suggest.ts";

/** The keys a launch reads: the partner template to instantiate. */
const LAUNCH_KEYS: readonly string[] = ["TEMPLATE_ID"];

/** Keys OpenNebula itself uses to pick a section. */
const SELECTOR_KEYS: readonly string[] = ["TYPE", "HOST", "CLOUD"];

/**
 * Says what is wrong with a key of a partner section or of the configuration's template
 * defaults.
 *
 * @param key The key, upper case.
 * @param section Where it is, for the message (`PUBLIC_CLOUD`, `template`).
 * @param selectorsAllowed Whether `HOST` and the like may be there (in a section, not in
 * defaults).
 * @returns The problem, or undefined when the key is known.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { templateKeyProblem } from "./template_keys.ts";
 * assert.equal(templateKeyProblem("TEMPLATE_ID", "PUBLIC_CLOUD", true), undefined);
 * assert.equal(
 *   templateKeyProblem("TEMPLATEID", "PUBLIC_CLOUD", true),
 *   "unknown PUBLIC_CLOUD attribute of a partner OpenNebula cloud; did you mean TEMPLATE_ID?",
 * );
 * ```
 */
export function templateKeyProblem(
  key: string,
  section: string,
  selectorsAllowed: boolean,
): string | undefined {
  if (LAUNCH_KEYS.includes(key)) return undefined;
  if (SELECTOR_KEYS.includes(key)) {
    return selectorsAllowed
      ? undefined
      : "it selects a template section, it is not a launch setting";
  }
  const known = selectorsAllowed ? [...LAUNCH_KEYS, ...SELECTOR_KEYS] : LAUNCH_KEYS;
  const closest = closestName(key, known);
  const what = `unknown ${section} attribute of a partner OpenNebula cloud`;
  return closest === undefined
    ? `${what} (known: ${LAUNCH_KEYS.join(", ")})`
    : `${what}; did you mean ${closest}?`;
}
