/**
 * What an EC2 instance id looks like: checked before any request, and before the provider's
 * code is loaded.
 *
 * @module
 */

import { InvalidInputError } from "../../util/errors.ts";

/**
 * Checks that a deploy id is an EC2 instance id.
 *
 * @param id The deploy id OpenNebula passed.
 * @throws {InvalidInputError} when it is not `i-` followed by 8 or 17 hex digits.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkInstanceId } from "./instance_id.ts";
 * checkInstanceId("i-0123456789abcdef0");
 * assert.throws(() => checkInstanceId("vm-42"), /not an EC2 instance id/);
 * ```
 */
export function checkInstanceId(id: string): void {
  if (!/^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(id)) {
    throw new InvalidInputError(
      `Invalid deploy id "${id}": not an EC2 instance id (i-xxxxxxxxxxxxxxxxx)`,
    );
  }
}
