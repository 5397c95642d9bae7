/**
 * DescribeImages: the AMIs the account may launch (public ones and its own), narrowed by
 * `ImageId.N`, `Owner.N` (`self`, `amazon`, an account id, ...) and filters, paginated.
 *
 * @module
 */

import type { ActionContext } from "../context.ts";
import { Ec2Error, errors } from "../errors.ts";
import type { ImageFixture } from "../fixtures.ts";
import { applyFilters, type FilterSpec } from "../filters.ts";
import { isWellFormed } from "../ids.ts";
import { paginate, readPageRequest } from "../pagination.ts";
import { filtersOf, stringList } from "../query.ts";
import { tagSet } from "../render.ts";
import { el, frag, list, opt, type Xml } from "../xml.ts";

/**
 * Handles DescribeImages.
 *
 * @param context The request.
 * @returns `imagesSet` and `nextToken`.
 */
export function describeImages(context: ActionContext): Xml {
  const { params: p, region, now, options } = context;
  const ids = stringList(p, "ImageId");
  const bad = ids.find((id) => !isWellFormed(id, "ami"));
  if (bad !== undefined) throw errors.malformed("InvalidAMIID.Malformed", bad, "ami");
  if (ids.length > 0 && p["MaxResults"] !== undefined) {
    throw new Ec2Error(
      "InvalidParameterCombination",
      "The parameter imagesSet cannot be used with the parameter maxResults",
    );
  }
  const launchable = region.fixtures.images.filter((i) =>
    i.public || i.ownerId === options.accountId
  );
  const order = new Map(launchable.map((image, index) => [image.imageId, index + 1]));
  let images = launchable;
  if (ids.length > 0) {
    const missing = ids.filter((id) => !order.has(id));
    if (missing.length > 0) throw errors.imagesNotFound(missing);
    images = launchable.filter((i) => ids.includes(i.imageId));
  }
  const owners = stringList(p, "Owner");
  if (owners.length > 0) {
    images = images.filter((i) =>
      owners.some((o) =>
        o === "self" ? i.ownerId === options.accountId : o === i.ownerId || o === i.ownerAlias
      )
    );
  }
  const tags = (i: ImageFixture) => region.tagsOf(i.imageId, now) ?? new Map<string, string>();
  const spec: FilterSpec<ImageFixture> = {
    tags,
    fields: {
      "image-id": (i) => i.imageId,
      "name": (i) => i.name,
      "description": (i) => i.description,
      "architecture": (i) => i.architecture,
      "owner-id": (i) => i.ownerId,
      "owner-alias": (i) => i.ownerAlias,
      "is-public": (i) => String(i.public),
      "state": () => "available",
      "image-type": () => "machine",
      "root-device-type": () => "ebs",
      "root-device-name": (i) => i.rootDeviceName,
      "virtualization-type": () => "hvm",
      "platform-details": (i) => i.platformDetails,
      "hypervisor": () => "xen",
    },
  };
  const filters = filtersOf(p);
  const scope = JSON.stringify(["DescribeImages", region.region, filters, owners]);
  const request = readPageRequest(p, { min: 5, max: 1000 }, scope);
  const matching = applyFilters(images, filters, spec);
  const { items, nextToken } = paginate(matching, (i) => order.get(i.imageId)!, request, scope);
  return frag(
    list("imagesSet", items.map((i) => imageXml(i, tags(i)))),
    opt("nextToken", nextToken),
  );
}

function imageXml(i: ImageFixture, tags: ReadonlyMap<string, string>): Xml {
  return frag(
    el("imageId", i.imageId),
    el("imageLocation", `${i.ownerAlias ?? i.ownerId}/${i.name}`),
    el("imageState", "available"),
    el("imageOwnerId", i.ownerId),
    el("creationDate", i.creationDate),
    el("isPublic", i.public),
    el("architecture", i.architecture),
    el("imageType", "machine"),
    el("platformDetails", i.platformDetails),
    el("usageOperation", "RunInstances"),
    opt("imageOwnerAlias", i.ownerAlias),
    el("name", i.name),
    el("description", i.description),
    el("rootDeviceType", "ebs"),
    el("rootDeviceName", i.rootDeviceName),
    list("blockDeviceMapping", [
      frag(
        el("deviceName", i.rootDeviceName),
        el(
          "ebs",
          el("snapshotId", `snap-${i.imageId.slice(4)}`),
          el("volumeSize", i.rootVolumeSizeGiB),
          el("deleteOnTermination", true),
          el("volumeType", "gp3"),
          el("encrypted", false),
        ),
      ),
    ]),
    el("virtualizationType", "hvm"),
    tagSet(tags),
    el("hypervisor", "xen"),
    el("enaSupport", true),
    el("sriovNetSupport", "simple"),
    opt("imdsSupport", i.imdsSupport),
  );
}
