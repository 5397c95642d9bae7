/**
 * CreateTags: adds or overwrites tags on instances, their volumes, AMIs (fixtures and
 * CreateImage's), snapshots, Elastic IP addresses (by allocation id), and the fixture security
 * groups, subnets and VPCs. Every resource must exist (and an instance be visible) before any
 * tag is set.
 *
 * @module
 */

import type { ActionContext } from "../context.ts";
import { Ec2Error, errors } from "../errors.ts";
import { stringList, tagsOf } from "../query.ts";
import { checkTagLimit, setTags, validateTags } from "../tags.ts";
import { el, type Xml } from "../xml.ts";
import { allocationNotFound } from "./address_ids.ts";

/** The not-found error of each resource id prefix. */
const NOT_FOUND: Readonly<Record<string, (id: string) => Ec2Error>> = {
  i: (id) => errors.instancesNotFound([id]),
  vol: (id) => new Ec2Error("InvalidVolume.NotFound", `The volume '${id}' does not exist.`),
  ami: (id) => errors.imagesNotFound([id]),
  snap: (id) => errors.snapshotNotFound(id),
  eipalloc: (id) => allocationNotFound(id),
  sg: (id) => errors.groupNotFound(id),
  subnet: (id) => errors.subnetNotFound(id),
  vpc: (id) => new Ec2Error("InvalidVpcID.NotFound", `The vpc ID '${id}' does not exist`),
};

/**
 * Handles CreateTags.
 *
 * @param context The request.
 * @returns `return` true.
 */
export function createTags(context: ActionContext): Xml {
  const { params: p, region, now } = context;
  const resources = stringList(p, "ResourceId");
  if (resources.length === 0) throw errors.missingParameter("ResourceId");
  const tags = tagsOf(p);
  if (tags.length === 0) throw errors.missingParameter("Tag");
  validateTags(tags);
  const targets = resources.map((id) => {
    const m = /^([a-z]+)-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.exec(id);
    const notFound = m && Object.hasOwn(NOT_FOUND, m[1]!) ? NOT_FOUND[m[1]!] : undefined;
    if (!notFound) throw new Ec2Error("InvalidID", `The ID '${id}' is not valid`);
    const map = region.tagsOf(id, now);
    if (!map) throw notFound(id);
    return [id, map] as const;
  });
  for (const [id, map] of targets) checkTagLimit(map, tags, id);
  for (const [, map] of targets) setTags(map, tags);
  return el("return", true);
}
