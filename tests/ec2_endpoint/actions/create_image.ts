/**
 * CreateImage: an EBS-backed AMI of a running or stopped instance (`IncorrectInstanceState`
 * otherwise), `pending` for `timing.imageMs`, then `available`. Each of the instance's volumes
 * (less those the request maps to `NoDevice`) becomes a snapshot; the request may change only
 * their `DeleteOnTermination`, and may add new volumes. Without `NoReboot`, a running instance
 * is rebooted first. The name must have 3-128 of the allowed characters and be unique among
 * the account's images in the region; tags go to the image (`image`) and its snapshots
 * (`snapshot`).
 *
 * @module
 */

import type { ActionContext } from "../context.ts";
import { Ec2Error, errors } from "../errors.ts";
import { isWellFormed, newId } from "../ids.ts";
import type { ImageRecord } from "../images.ts";
import { boolParam } from "../query.ts";
import type { RegionState } from "../region_state.ts";
import { tagMap, tagSpecificationsOf } from "../tags.ts";
import { el, type Xml } from "../xml.ts";
import { imageVolumes } from "./block_devices.ts";

/** What CreateImage's tag specifications may name. */
const TAGGABLE = new Set(["image", "snapshot"]);
/** Letters, digits, ( ) [ ] space . / - ' @ _, 3 to 128 of them. */
const IMAGE_NAME = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;
/** Longest image description. */
const MAX_DESCRIPTION = 255;

/**
 * Handles CreateImage.
 *
 * @param context The request.
 * @returns `imageId`.
 */
export function createImage(context: ActionContext): Xml {
  const { params: p, region, now, options } = context;
  const instanceId = p["InstanceId"];
  if (instanceId === undefined) throw errors.missingParameter("InstanceId");
  if (!isWellFormed(instanceId, "i")) {
    throw errors.malformed("InvalidInstanceID.Malformed", instanceId, "i");
  }
  const name = p["Name"];
  if (name === undefined) throw errors.missingParameter("Name");
  validateName(region, name, options.accountId, now);
  const description = p["Description"];
  if (description !== undefined && [...description].length > MAX_DESCRIPTION) {
    throw errors.invalidValue(
      "description",
      description,
      `The description can have at most ${MAX_DESCRIPTION} characters.`,
    );
  }
  const noReboot = boolParam(p, "NoReboot") ?? false;
  const tags = tagSpecificationsOf(p, TAGGABLE);
  const [instance] = region.requireVisible([instanceId], now);
  if (instance!.state !== "running" && instance!.state !== "stopped") {
    throw new Ec2Error(
      "IncorrectInstanceState",
      `The instance '${instanceId}' is not in the 'running' or 'stopped' state.`,
    );
  }
  const volumes = imageVolumes(region, p, instance!);
  const imageId = newId("ami");
  const blockDevices = volumes.map(({ spec, source }) => {
    if (!source) return spec;
    const snapshotId = newId("snap");
    region.snapshots.set(snapshotId, {
      snapshotId,
      sizeGiB: source.sizeGiB,
      description: `Created by CreateImage(${instanceId}) for ${imageId}`,
      ownerId: options.accountId,
      tags: tagMap(tags.get("snapshot")),
    });
    return { ...spec, snapshotId };
  });
  const image: ImageRecord = {
    imageId,
    name,
    description,
    architecture: instance!.architecture,
    ownerId: options.accountId,
    ownerAlias: undefined,
    public: false,
    platformDetails: instance!.platformDetails,
    rootDeviceName: instance!.rootDeviceName,
    blockDevices,
    creationDate: new Date(now).toISOString(),
    imdsSupport: undefined,
    sourceInstanceId: instanceId,
    tags: tagMap(tags.get("image")),
    state: "pending",
    availableAt: now + options.timing.imageMs,
    deregisteredAt: undefined,
  };
  region.images.set(imageId, image);
  if (!noReboot && instance!.state === "running") region.reboot(instance!, now);
  return el("imageId", imageId);
}

function validateName(region: RegionState, name: string, accountId: string, now: number): void {
  if (!IMAGE_NAME.test(name)) {
    throw new Ec2Error(
      "InvalidAMIName.Malformed",
      "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, spaces and ( ) [ ] . / - ' @ _",
    );
  }
  for (const image of region.images.values()) {
    if (image.ownerId === accountId && image.name === name && region.isImageListed(image, now)) {
      throw new Ec2Error(
        "InvalidAMIName.Duplicate",
        `AMI name ${name} is already in use by AMI ${image.imageId}`,
      );
    }
  }
}
