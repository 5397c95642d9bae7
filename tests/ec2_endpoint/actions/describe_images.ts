/**
 * DescribeImages: the AMIs the account may launch (public ones and its own, CreateImage's
 * included, in creation order), narrowed by `ImageId.N`, `Owner.N` (`self`, `amazon`, an
 * account id, ...) and filters, paginated.
 *
 * A recently deregistered image shows as `deregistered`; after that, asking for it by id gives
 * an empty result while instances launched from it live, and `InvalidAMIID.NotFound` later.
 *
 * @module
 */

import type { ActionContext } from "../context.ts";
import { Ec2Error, errors } from "../errors.ts";
import { applyFilters, type FilterSpec } from "../filters.ts";
import { isWellFormed } from "../ids.ts";
import type { ImageRecord } from "../images.ts";
import { paginate, readPageRequest } from "../pagination.ts";
import { boolParam, filtersOf, stringList } from "../query.ts";
import { tagSet } from "../render.ts";
import { el, frag, list, opt, type Xml } from "../xml.ts";

const SPEC: FilterSpec<ImageRecord> = {
  tags: (i) => i.tags,
  fields: {
    "image-id": (i) => i.imageId,
    "name": (i) => i.name,
    "description": (i) => i.description,
    "architecture": (i) => i.architecture,
    "owner-id": (i) => i.ownerId,
    "owner-alias": (i) => i.ownerAlias,
    "is-public": (i) => String(i.public),
    "state": (i) => i.state,
    "image-type": () => "machine",
    "root-device-type": () => "ebs",
    "root-device-name": (i) => i.rootDeviceName,
    "virtualization-type": () => "hvm",
    "platform-details": (i) => i.platformDetails,
    "hypervisor": () => "xen",
    "creation-date": (i) => i.creationDate,
    "source-instance-id": (i) => i.sourceInstanceId,
    "block-device-mapping.device-name": (i) => i.blockDevices.map((d) => d.deviceName),
    "block-device-mapping.snapshot-id": (i) =>
      i.blockDevices.flatMap((d) => d.snapshotId === undefined ? [] : [d.snapshotId]),
    "block-device-mapping.volume-size": (i) => i.blockDevices.map((d) => String(d.sizeGiB)),
    "block-device-mapping.volume-type": (i) => i.blockDevices.map((d) => d.volumeType),
    "block-device-mapping.delete-on-termination": (i) =>
      i.blockDevices.map((d) => String(d.deleteOnTermination)),
  },
};

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
  boolParam(p, "IncludeDeprecated");
  boolParam(p, "IncludeDisabled");
  const all = [...region.images.values()].filter((i) =>
    i.public || i.ownerId === options.accountId
  );
  const order = new Map(all.map((image, index) => [image.imageId, index + 1]));
  let images = all.filter((i) => region.isImageListed(i, now));
  if (ids.length > 0) {
    const known = new Set(all.map((i) => i.imageId));
    const missing = ids.filter((id) => !known.has(id));
    if (missing.length > 0) throw errors.imagesNotFound(missing);
    images = images.filter((i) => ids.includes(i.imageId));
  }
  const owners = stringList(p, "Owner");
  if (owners.length > 0) {
    images = images.filter((i) =>
      owners.some((o) =>
        o === "self" ? i.ownerId === options.accountId : o === i.ownerId || o === i.ownerAlias
      )
    );
  }
  const filters = filtersOf(p);
  const scope = JSON.stringify(["DescribeImages", region.region, filters, owners]);
  const request = readPageRequest(p, { min: 5, max: 1000 }, scope);
  const matching = applyFilters(images, filters, SPEC);
  const { items, nextToken } = paginate(matching, (i) => order.get(i.imageId)!, request, scope);
  return frag(list("imagesSet", items.map(imageXml)), opt("nextToken", nextToken));
}

function imageXml(i: ImageRecord): Xml {
  return frag(
    el("imageId", i.imageId),
    el("imageLocation", `${i.ownerAlias ?? i.ownerId}/${i.name}`),
    el("imageState", i.state),
    el("imageOwnerId", i.ownerId),
    el("creationDate", i.creationDate),
    el("isPublic", i.public),
    el("architecture", i.architecture),
    el("imageType", "machine"),
    el("platformDetails", i.platformDetails),
    el("usageOperation", "RunInstances"),
    opt("imageOwnerAlias", i.ownerAlias),
    el("name", i.name),
    opt("description", i.description),
    el("rootDeviceType", "ebs"),
    el("rootDeviceName", i.rootDeviceName),
    list(
      "blockDeviceMapping",
      i.blockDevices.map((d) =>
        frag(
          el("deviceName", d.deviceName),
          el(
            "ebs",
            opt("snapshotId", d.snapshotId),
            el("volumeSize", d.sizeGiB),
            el("deleteOnTermination", d.deleteOnTermination),
            el("volumeType", d.volumeType),
            opt("iops", d.iops),
            opt("throughput", d.throughput),
            el("encrypted", d.encrypted),
          ),
        )
      ),
    ),
    el("virtualizationType", "hvm"),
    tagSet(i.tags),
    el("hypervisor", "xen"),
    el("enaSupport", true),
    el("sriovNetSupport", "simple"),
    opt("imdsSupport", i.imdsSupport),
    opt("sourceInstanceId", i.sourceInstanceId),
  );
}
