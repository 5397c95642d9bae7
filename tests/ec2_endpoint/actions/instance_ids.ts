/**
 * Reading `InstanceId.N` lists.
 *
 * @module
 */

import { errors } from "../errors.ts";
import { isWellFormed } from "../ids.ts";
import { type Params, stringList } from "../query.ts";

/**
 * The `InstanceId.N` values, each checked for form.
 *
 * @param params The request's parameters.
 * @param required Whether at least one id must be given.
 * @returns The ids, in the order given.
 * @throws {Ec2Error} `MissingParameter` when required and absent,
 *   `InvalidInstanceID.Malformed` for the first id not of the `i-` form.
 */
export function instanceIds(params: Params, required: boolean): string[] {
  const ids = stringList(params, "InstanceId");
  if (required && ids.length === 0) throw errors.missingParameter("InstanceId");
  const bad = ids.find((id) => !isWellFormed(id, "i"));
  if (bad !== undefined) throw errors.malformed("InvalidInstanceID.Malformed", bad, "i");
  return ids;
}
