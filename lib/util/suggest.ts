/**
 * Unknown names in messages: "did you mean ...?", the known name closest to an unknown one,
 * and how to name an unknown one without printing a secret pasted in its place.
 *
 * @module
 */

/** What a setting or attribute name may look like to be quoted back: letters, `_` and `-`. */
const NAME_LIKE = /^[A-Za-z][A-Za-z_-]{0,31}$/;

/**
 * Names an unknown key for a message: quoted when it looks like a setting name (up to 32
 * letters, `_` and `-`, a letter first, as every name the driver knows), else only by its
 * length. Digits, `/`, `+`, `=`, blanks and long runs are what keys, passwords and tokens are
 * made of: a secret pasted as a key name is never printed.
 *
 * @param key The unknown key, as found.
 * @returns `"key"`, or a parenthesis saying how long it is and why it is not shown.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyInMessage } from "./suggest.ts";
 * assert.equal(keyInMessage("regoin"), '"regoin"');
 * assert.equal(
 *   keyInMessage("wJalrXUtnFEMI/K7MDENG"),
 *   "(21 characters, not shown in case it is a secret)",
 * );
 * ```
 */
export function keyInMessage(key: string): string {
  return NAME_LIKE.test(key)
    ? `"${key}"`
    : `(${key.length} characters, not shown in case it is a secret)`;
}

/**
 * Finds the known name an unknown one was probably meant to be: the closest by edits
 * (insertions, deletions, substitutions, swaps of neighbours), without case, counting `_`
 * and `-` as absent; at most 1 edit for names up to 4 characters, 2 for longer ones.
 *
 * @param name The unknown name.
 * @param known The names to choose from, in order of preference for ties.
 * @returns The closest known name, or `undefined` when none is close.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closestName } from "./suggest.ts";
 * assert.equal(closestName("KEYPAIRR", ["AMI", "KEYPAIR"]), "KEYPAIR");
 * assert.equal(closestName("SUBNET_ID", ["SUBNETID"]), "SUBNETID");
 * assert.equal(closestName("IMAGE", ["AMI", "KEYPAIR"]), undefined);
 * ```
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const wanted = normalise(name);
  const allowed = wanted.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const candidate of known) {
    const distance = editDistance(wanted, normalise(candidate), bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function normalise(name: string): string {
  return name.toUpperCase().replace(/[_-]/g, "");
}

/** Optimal string alignment distance; gives up (returns `cap`) once it reaches `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, before[j - 2]! + 1);
      }
      current.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin >= cap) return cap;
    before = previous;
    previous = current;
  }
  return Math.min(previous[b.length]!, cap);
}
