/**
 * DeregisterImage: the account's own AMIs only (`AuthFailure` for others'); an image already
 * deregistered answers `InvalidAMIID.Unavailable`. The image shows as `deregistered` for a
 * short while; instances launched from it are not affected, nor are its snapshots unless
 * `DeleteAssociatedSnapshots` asks for it (and no other image uses them).
 *
 * @module
 */

import type { ActionContext } from "../context.ts";
import { Ec2Error, errors } from "../errors.ts";
import { isWellFormed } from "../ids.ts";
import { boolParam } from "../query.ts";
import { el, frag, list, type Xml } from "../xml.ts";

/**
 * Handles DeregisterImage.
 *
 * @param context The request.
 * @returns `return` true, and `deleteSnapshotResultSet` when snapshots were to be deleted.
 */
export function deregisterImage(context: ActionContext): Xml {
  const { params: p, region, now, options } = context;
  const imageId = p["ImageId"];
  if (imageId === undefined) throw errors.missingParameter("ImageId");
  if (!isWellFormed(imageId, "ami")) {
    throw errors.malformed("InvalidAMIID.Malformed", imageId, "ami");
  }
  const deleteSnapshots = boolParam(p, "DeleteAssociatedSnapshots") ?? false;
  const image = region.image(imageId);
  const visible = image && (image.public || image.ownerId === options.accountId) &&
    region.isImageListed(image, now);
  if (!image || !visible) throw errors.imagesNotFound([imageId]);
  if (image.ownerId !== options.accountId) {
    throw new Ec2Error("AuthFailure", `Not authorized for image:${imageId}`, 400);
  }
  if (image.state === "deregistered") {
    throw new Ec2Error(
      "InvalidAMIID.Unavailable",
      `The image '${imageId}' has already been deregistered`,
    );
  }
  image.state = "deregistered";
  image.deregisteredAt = now;
  image.availableAt = undefined;
  if (!deleteSnapshots) return el("return", true);
  const results = image.blockDevices.flatMap((d) => {
    const snapshotId = d.snapshotId;
    if (snapshotId === undefined || !region.snapshots.has(snapshotId)) return [];
    const shared = [...region.images.values()].some((other) =>
      other !== image && other.state !== "deregistered" &&
      other.blockDevices.some((o) => o.snapshotId === snapshotId)
    );
    if (!shared) region.snapshots.delete(snapshotId);
    return [
      frag(
        el("snapshotId", snapshotId),
        el("returnCode", shared ? "skipped" : "success"),
      ),
    ];
  });
  return frag(el("return", true), list("deleteSnapshotResultSet", results));
}
