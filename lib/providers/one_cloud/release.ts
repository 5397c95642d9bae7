/**
 * A partner's OpenNebula release, as `one.system.version` names it (`6.10.5`, `5.12.0.1`,
 * `7.3.85` for a beta): its major and minor numbers, which decide the action names and states
 * the partner accepts, and whether this driver supports it (4.14 to 7.x).
 *
 * @module
 */

/** An OpenNebula release. */
export interface OneRelease {
  /** As the partner said it (`6.10.5`). */
  readonly text: string;
  /** `6`. */
  readonly major: number;
  /** `10`. */
  readonly minor: number;
}

/** The oldest release the driver supports, and the first one it does not know yet. */
const SUPPORTED = { from: [4, 14], below: [8, 0] } as const;

/** The supported releases in words. */
export const SUPPORTED_RELEASES = "4.14 to 7.x";

/**
 * Reads a release from `one.system.version`'s answer: two or more dot-separated numbers
 * (hot-fix releases have four); whatever follows the minor number is kept in `text` only.
 *
 * @returns The release, or undefined for anything else.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRelease } from "./release.ts";
 * assert.deepEqual(parseRelease("6.10.0.1"), { text: "6.10.0.1", major: 6, minor: 10 });
 * assert.equal(parseRelease("OpenNebula 6.10"), undefined);
 * ```
 */
export function parseRelease(text: unknown): OneRelease | undefined {
  if (typeof text !== "string") return undefined;
  const match = /^(\d{1,4})\.(\d{1,4})(\.\d{1,6}){0,2}$/.exec(text.trim());
  return match
    ? { text: text.trim(), major: Number(match[1]), minor: Number(match[2]) }
    : undefined;
}

/**
 * Whether a release is this one (`major.minor`) or later.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { atLeast } from "./release.ts";
 * assert.equal(atLeast({ text: "5.12.13", major: 5, minor: 12 }, 5, 4), true);
 * assert.equal(atLeast({ text: "4.14.2", major: 4, minor: 14 }, 5, 0), false);
 * ```
 */
export function atLeast(release: OneRelease, major: number, minor: number): boolean {
  return release.major > major || (release.major === major && release.minor >= minor);
}

/**
 * Whether the driver supports a release, and if not why and what to do, in words for `doctor`.
 *
 * @returns `undefined` when supported, else the reason and its fix.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unsupportedBecause } from "./release.ts";
 * assert.equal(unsupportedBecause({ text: "7.4.0", major: 7, minor: 4 }), undefined);
 * assert.match(unsupportedBecause({ text: "4.12.1", major: 4, minor: 12 })!, /^older than 4.14/);
 * ```
 */
export function unsupportedBecause(release: OneRelease): string | undefined {
  const oldest = SUPPORTED.from.join(".");
  if (!atLeast(release, ...SUPPORTED.from)) {
    return `older than ${oldest} (the driver sends it ${oldest}'s action names, unchecked there); fix: upgrade the partner's OpenNebula to ${oldest} or later`;
  }
  if (atLeast(release, ...SUPPORTED.below)) {
    return `newer than the driver knows (it sends it 7.x's action names, unchecked there); fix: use a driver that supports OpenNebula ${release.major}.${release.minor}`;
  }
  return undefined;
}
