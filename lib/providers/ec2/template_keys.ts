/**
 * The keys an EC2 template section may hold, so that a misspelt key (`KEYPAIRR`, `SUBNET_ID`)
 * fails before any API call instead of launching an instance without it. Shared by the launch
 * checks and the driver configuration's `template` defaults.
 *
 * @module
 */

import { closestName } from "../../util/suggest.ts";
import { KEY, TEMPLATE_ROWS } from "./template_rows.ts";

/** Every key the EC2 driver reads from a template section, in docs/vm-template.md's order. */
const EC2_LAUNCH_KEYS: readonly string[] = TEMPLATE_ROWS.map((row) => row.key);

/** Keys OpenNebula itself uses to pick a section; they are not launch settings. */
const SECTION_SELECTOR_KEYS: readonly string[] = ["TYPE", "HOST", "CLOUD"];

/** Keys of OpenNebula's older EC2 drivers that this driver does not support, and what to do. */
const RETIRED_KEYS: Readonly<Record<string, string>> = {
  AKI: "kernels come with the AMI; remove it",
  RAMDISK: "ramdisks come with the AMI; remove it",
  LICENSEPOOL: "EC2 has no license pools any more; remove it",
  AUTHORIZEDPORTS: `open the ports in a security group named in ${KEY.SECURITYGROUPIDS}`,
  USERDATAFILE: `put the data itself in ${KEY.USERDATA}`,
};

const LAUNCH = new Set(EC2_LAUNCH_KEYS);

/**
 * Says what is wrong with a key of an EC2 section or of the configuration's template defaults.
 *
 * @param key The key, in upper case.
 * @param section The section's name for messages: `PUBLIC_CLOUD` or `EC2`.
 * @param selectorsAllowed Whether `TYPE`, `HOST` and `CLOUD` are fine (true in a template
 * section, false in the configuration's defaults).
 * @returns `undefined` for a known key, else the problem (`unknown PUBLIC_CLOUD attribute; did
 * you mean KEYPAIR?`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { templateKeyProblem } from "./template_keys.ts";
 * assert.equal(templateKeyProblem("KEYPAIR", "PUBLIC_CLOUD", true), undefined);
 * assert.equal(templateKeyProblem("HOST", "PUBLIC_CLOUD", true), undefined);
 * assert.equal(
 *   templateKeyProblem("KEYPAIRR", "PUBLIC_CLOUD", true),
 *   "unknown PUBLIC_CLOUD attribute; did you mean KEYPAIR?",
 * );
 * ```
 */
export function templateKeyProblem(
  key: string,
  section: string,
  selectorsAllowed: boolean,
): string | undefined {
  if (LAUNCH.has(key)) return undefined;
  if (SECTION_SELECTOR_KEYS.includes(key)) {
    return selectorsAllowed
      ? undefined
      : "it selects a template section, it is not a launch setting";
  }
  const retired = Object.hasOwn(RETIRED_KEYS, key) ? RETIRED_KEYS[key] : undefined;
  if (retired !== undefined) {
    return `${section} attribute of OpenNebula's older EC2 driver, not supported by this driver: ${retired}`;
  }
  const closest = closestName(
    key,
    selectorsAllowed ? [...EC2_LAUNCH_KEYS, ...SECTION_SELECTOR_KEYS] : EC2_LAUNCH_KEYS,
  );
  if (closest !== undefined) return `unknown ${section} attribute; did you mean ${closest}?`;
  return `unknown ${section} attribute (known: ${EC2_LAUNCH_KEYS.join(", ")})`;
}
