/**
 * The EC2 calls the driver makes, each answering with the elements after `requestId`.
 *
 * - Terminate: idempotent; any state but terminated goes to shutting-down.
 * - Stop: running → stopping; stopping/stopped unchanged; pending, shutting-down and terminated
 *   are refused, as is a Spot Instance of a one-time request. `Force` on an instance already
 *   stopping ends the stop now (the documented cure for an instance stuck in stopping).
 * - Start: stopped → pending; pending/running unchanged; the others are refused.
 * - Reboot: running instances reboot (they stay running); terminated ones are ignored; the
 *   others are refused.
 * - CreateTags: adds or overwrites tags of instances and images, all or none.
 *
 * A state change names instances that must all be visible and allow it before any changes.
 *
 * @module
 */

import { Ec2Error, errors } from "./errors.ts";
import { ACCOUNT_ID } from "./fixtures.ts";
import { runInstances } from "./launch.ts";
import { bool, items, type Params, tagSpecifications, values } from "./params.ts";
import { addressXml, imageXml, reservationXml, stateChangeXml } from "./render.ts";
import {
  type AddressRecord,
  type InstanceRecord,
  type InstanceStateName,
  newId,
  type RegionState,
  STATE_CODES,
} from "./state.ts";
import { el, frag, list, opt, type Xml } from "./xml.ts";

/** What an action notes about its call, for the call log. */
export interface CallNotes {
  /** Instances left out of the answer because they are not visible yet. */
  readonly leftOut: string[];
}

/**
 * An action: checks the request, changes the region's state, returns the answer's elements
 * (and notes what it left out).
 */
export type Action = (region: RegionState, p: Params, now: number, notes: CallNotes) => Xml;

/** The filters DescribeInstances supports besides `tag:<key>`. */
const INSTANCE_FILTERS: Readonly<Record<string, (i: InstanceRecord) => string | undefined>> = {
  "instance-id": (i) => i.id,
  "instance-state-name": (i) => i.state,
  "instance-state-code": (i) => String(STATE_CODES[i.state]),
  "client-token": (i) => i.clientToken,
  "image-id": (i) => i.imageId,
};

/** The implemented actions by name. */
export const ACTIONS: ReadonlyMap<string, Action> = new Map<string, Action>([
  ["RunInstances", runInstances],
  ["DescribeInstances", describeInstances],
  [
    "TerminateInstances",
    (region, p, now) =>
      changes(
        region,
        p,
        now,
        (i) =>
          i.state === "terminated" || i.state === "shutting-down" ? undefined : "shutting-down",
      ),
  ],
  ["StopInstances", stopInstances],
  ["StartInstances", (region, p, now) =>
    changes(region, p, now, (i) => {
      if (["stopping", "shutting-down", "terminated"].includes(i.state)) {
        throw errors.incorrectState(i.id, "started");
      }
      return i.state === "stopped" ? "pending" : undefined;
    })],
  ["RebootInstances", rebootInstances],
  ["CreateImage", createImage],
  ["DescribeImages", describeImages],
  ["AssociateAddress", associateAddress],
  ["DescribeAddresses", describeAddresses],
  ["DescribeInstanceTypes", describeInstanceTypes],
  ["CreateTags", createTags],
]);

/** The most tags a resource may have. */
const MAX_TAGS = 50;

/**
 * CreateTags, as EC2 documents it: `ResourceId.N` (instances, each visible, and the account's
 * own images) and `Tag.N.Key`/`.Value`, both required; a key of 1 to 128 characters not starting
 * with `aws:`, a value of at most 256; a tag whose key a resource has is overwritten; a resource
 * past 50 tags is refused (`TagLimitExceeded`). Every resource and tag is checked before any is
 * tagged. Answers `<return>true</return>`.
 */
function createTags(region: RegionState, p: Params, now: number): Xml {
  const ids = values(p, "ResourceId");
  if (ids.length === 0) throw errors.missing("ResourceId");
  const tags = items(p, "Tag").map((tag) => [tag["Key"] ?? "", tag["Value"] ?? ""] as const);
  if (tags.length === 0) throw errors.missing("Tag");
  for (const [key, value] of tags) {
    if (key === "" || [...key].length > 128 || key.toLowerCase().startsWith("aws:")) {
      throw errors.invalid(
        "Tag.Key",
        key,
        "Tag keys must be 1 to 128 characters long and must not start with 'aws:'.",
      );
    }
    if ([...value].length > 256) {
      throw errors.invalid("Tag.Value", value, "Tag values may be at most 256 characters long.");
    }
  }
  const targets = ids.map((id) => {
    if (id.startsWith("ami-")) {
      const image = region.images.get(id);
      // Another account's image (a public one) cannot be tagged: as if it did not exist.
      if (!image || image.ownerId !== ACCOUNT_ID) {
        throw new Ec2Error("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
      }
      return image.tags;
    }
    if (!id.startsWith("i-")) throw new Ec2Error("InvalidID", `The ID '${id}' is not valid`);
    return region.requireVisible([id], now)[0]!.tags;
  });
  for (const [index, target] of targets.entries()) {
    const keys = new Set([...target.keys(), ...tags.map(([key]) => key)]);
    if (keys.size > MAX_TAGS) {
      throw new Ec2Error(
        "TagLimitExceeded",
        `The maximum number of Tags for a resource has been reached (resource ${ids[index]}).`,
      );
    }
  }
  for (const target of targets) for (const [key, value] of tags) target.set(key, value);
  return el("return", true);
}

/**
 * DescribeInstances: by id (each must be visible, or only left out) or all visible instances,
 * filtered; pages of
 * `MaxResults` instances (5 to 1000, not with ids) followed by `NextToken`, as EC2 answers.
 */
function describeInstances(region: RegionState, p: Params, now: number, notes: CallNotes): Xml {
  const ids = values(p, "InstanceId");
  const tests = items(p, "Filter").map((filter) => {
    const name = filter["Name"] ?? "";
    const wanted = values(filter, "Value");
    const read = name.startsWith("tag:")
      ? (i: InstanceRecord) => i.tags.get(name.slice(4))
      : Object.hasOwn(INSTANCE_FILTERS, name)
      ? INSTANCE_FILTERS[name]!
      : undefined;
    if (!read) throw new Ec2Error("InvalidParameterValue", `The filter '${name}' is invalid`);
    return (i: InstanceRecord) => wanted.includes(read(i) ?? "\0");
  });
  const named = ids.length > 0
    ? region.requireVisible(ids, now)
    : [...region.instances.values()].filter((i) => region.notVanished(i, now));
  const wanted = named.filter((i) => tests.every((test) => test(i)));
  // Not visible yet: left out, whether listed or (in the "left-out" form) asked for by id.
  let matching = wanted.filter((i) => region.isVisible(i, now));
  notes.leftOut.push(...wanted.filter((i) => !region.isVisible(i, now)).map((i) => i.id));
  let nextToken: string | undefined;
  const max = p["MaxResults"];
  if (max !== undefined) {
    const size = Number(max);
    if (ids.length > 0 || !Number.isInteger(size) || size < 5 || size > 1000) {
      throw new Ec2Error(
        "InvalidParameterValue",
        ids.length > 0
          ? "The parameter instancesSet cannot be used with the parameter maxResults"
          : `Value ( ${max} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
      );
    }
    const start = p["NextToken"] === undefined ? 0 : Number(p["NextToken"]);
    if (!Number.isInteger(start) || start < 0) {
      throw new Ec2Error("InvalidParameterValue", "The token is not valid");
    }
    if (start + size < matching.length) nextToken = String(start + size);
    matching = matching.slice(start, start + size);
  }
  const byReservation = Map.groupBy(matching, (i) => i.reservationId);
  const reservations = list(
    "reservationSet",
    [...byReservation.values()].map((r) => reservationXml(region, r)),
  );
  return nextToken === undefined ? reservations : frag(reservations, el("nextToken", nextToken));
}

/** Applies a state change to every named instance, once all of them allow it. */
function changes(
  region: RegionState,
  p: Params,
  now: number,
  next: (i: InstanceRecord) => InstanceStateName | undefined,
): Xml {
  const ids = values(p, "InstanceId");
  if (ids.length === 0) throw errors.missing("InstanceId");
  const instances = region.requireVisible(ids, now);
  const states = instances.map(next);
  return list(
    "instancesSet",
    instances.map((instance, index) => {
      const previous = instance.state;
      if (states[index] !== undefined) region.enter(instance, states[index], now);
      return stateChangeXml(instance.id, previous, instance.state);
    }),
  );
}

function stopInstances(region: RegionState, p: Params, now: number): Xml {
  const force = bool(p, "Force") ?? false;
  return changes(region, p, now, (i) => {
    if (i.state === "pending" || i.state === "shutting-down" || i.state === "terminated") {
      throw errors.incorrectState(i.id, "stopped");
    }
    if (i.spot?.type === "one-time") {
      throw new Ec2Error(
        "UnsupportedOperation",
        `You can't stop the Spot Instance '${i.id}' because it is associated with a one-time Spot Instance request.`,
      );
    }
    if (force && i.state === "stopping") region.hurry(i, now);
    return i.state === "running" ? "stopping" : undefined;
  });
}

function rebootInstances(region: RegionState, p: Params, now: number): Xml {
  changes(region, p, now, (i) => {
    if (i.state !== "running" && i.state !== "terminated") {
      throw errors.incorrectState(i.id, "rebooted");
    }
    return undefined;
  });
  for (const i of region.requireVisible(values(p, "InstanceId"), now)) {
    if (i.state === "running") reboot(i, now);
  }
  return el("return", true);
}

function reboot(instance: InstanceRecord, now: number): void {
  instance.rebootCount++;
  instance.lastRebootAt = now;
}

/**
 * CreateImage of a running or stopped instance: a pending AMI of the account with the
 * instance's volumes, available after `imageMs`; the instance reboots unless `NoReboot`.
 */
function createImage(region: RegionState, p: Params, now: number): Xml {
  const name = p["Name"];
  if (name === undefined) throw errors.missing("Name");
  if (!/^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/.test(name)) {
    throw new Ec2Error(
      "InvalidAMIName.Malformed",
      "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, spaces and ( ) [ ] . / - ' @ _",
    );
  }
  const taken = [...region.images.values()].find((i) =>
    i.ownerId === ACCOUNT_ID && i.name === name
  );
  if (taken) {
    throw new Ec2Error(
      "InvalidAMIName.Duplicate",
      `AMI name ${name} is already in use by AMI ${taken.imageId}`,
    );
  }
  const tags = tagSpecifications(p, ["image", "snapshot"]);
  const [instance] = region.requireVisible([p["InstanceId"] ?? ""], now);
  if (instance!.state !== "running" && instance!.state !== "stopped") {
    throw new Ec2Error(
      "IncorrectInstanceState",
      `The instance '${instance!.id}' is not in the 'running' or 'stopped' state.`,
    );
  }
  const imageId = newId("ami");
  const volumes = instance!.volumes.map(({ volumeId: _, ...v }) => {
    const snapshotId = newId("snap");
    region.snapshots.set(snapshotId, v.sizeGiB);
    return { ...v, snapshotId };
  });
  region.images.set(imageId, {
    imageId,
    name,
    description: p["Description"],
    architecture: instance!.architecture,
    ownerId: ACCOUNT_ID,
    rootDeviceName: instance!.rootDeviceName,
    volumes,
    imdsV2: instance!.httpTokens === "required",
    sourceInstanceId: instance!.id,
    tags: tags.get("image") ?? new Map(),
    state: "pending",
    availableAt: now + region.options.timing.imageMs,
  });
  if (!(bool(p, "NoReboot") ?? false) && instance!.state === "running") reboot(instance!, now);
  return el("imageId", imageId);
}

/** DescribeImages: the ids named (each must exist), or the public images and the account's. */
function describeImages(region: RegionState, p: Params): Xml {
  const ids = values(p, "ImageId");
  const missing = ids.find((id) => !region.images.has(id));
  if (missing !== undefined) throw errors.imageNotFound(missing);
  const images = ids.length > 0
    ? ids.map((id) => region.images.get(id)!)
    : [...region.images.values()];
  return list("imagesSet", images.map(imageXml));
}

/** The address named by allocation id or public address. */
function findAddress(region: RegionState, allocationId?: string, publicIp?: string): AddressRecord {
  const all = [...region.addresses.values()];
  if (allocationId !== undefined) {
    const address = all.find((a) => a.allocationId === allocationId);
    if (!address) {
      throw new Ec2Error(
        "InvalidAllocationID.NotFound",
        `The allocation ID '${allocationId}' does not exist`,
      );
    }
    return address;
  }
  const address = all.find((a) => a.publicIp === publicIp);
  if (!address) throw new Ec2Error("InvalidAddress.NotFound", `Address '${publicIp}' not found.`);
  return address;
}

/**
 * AssociateAddress of an Elastic IP with a running or stopped instance; an address another
 * instance holds moves only when `AllowReassociation` is not false.
 */
function associateAddress(region: RegionState, p: Params, now: number): Xml {
  if (p["AllocationId"] === undefined && p["PublicIp"] === undefined) {
    throw errors.missing("AllocationId");
  }
  const [instance] = region.requireVisible([p["InstanceId"] ?? ""], now);
  const address = findAddress(region, p["AllocationId"], p["PublicIp"]);
  if (instance!.state !== "running" && instance!.state !== "stopped") {
    throw new Ec2Error(
      "IncorrectInstanceState",
      `The ${instance!.state} instance '${
        instance!.id
      }' is not in a valid state for this operation`,
    );
  }
  const current = address.association;
  if (current && current.instanceId !== instance!.id && bool(p, "AllowReassociation") === false) {
    throw new Ec2Error(
      "Resource.AlreadyAssociated",
      `resource ${address.allocationId} is already associated with associate-id ${current.associationId}`,
    );
  }
  return el("associationId", region.associate(address, instance!));
}

/** DescribeAddresses: the addresses named (each must exist), or all of the account's. */
function describeAddresses(region: RegionState, p: Params): Xml {
  const named = [
    ...values(p, "AllocationId").map((id) => findAddress(region, id)),
    ...values(p, "PublicIp").map((ip) => findAddress(region, undefined, ip)),
  ];
  const addresses = named.length > 0 ? [...new Set(named)] : [...region.addresses.values()];
  return list("addressesSet", addresses.map(addressXml));
}

/**
 * DescribeInstanceTypes of the fixture types: those named by `InstanceType.N` (an unknown one
 * fails the request) or selected by the `instance-type` filter (unknown ones are left out), in
 * pages of `MaxResults` (5 to 100); only vCPUs and memory are described.
 */
function describeInstanceTypes(region: RegionState, p: Params): Xml {
  const offered = region.options.fixtures.instanceTypes;
  const named = values(p, "InstanceType");
  const unknown = named.filter((n) => !offered.some((t) => t.instanceType === n));
  if (unknown.length > 0) {
    throw new Ec2Error(
      "InvalidInstanceType",
      `The following supplied instance types do not exist: [${unknown.join(", ")}]`,
    );
  }
  let matched = named.length > 0
    ? named.map((n) => offered.find((t) => t.instanceType === n)!)
    : [...offered];
  for (const filter of items(p, "Filter")) {
    if (filter["Name"] !== "instance-type") {
      throw new Ec2Error("InvalidParameterValue", `The filter '${filter["Name"]}' is invalid`);
    }
    const wanted = values(filter, "Value");
    matched = matched.filter((t) => wanted.includes(t.instanceType));
  }
  const max = p["MaxResults"] === undefined ? matched.length : Number(p["MaxResults"]);
  if (p["MaxResults"] !== undefined && !(Number.isInteger(max) && max >= 5 && max <= 100)) {
    throw errors.invalid("MaxResults", p["MaxResults"]);
  }
  const start = Number(p["NextToken"] ?? 0);
  const page = matched.slice(start, start + max);
  const next = start + max < matched.length ? String(start + max) : undefined;
  return frag(
    list(
      "instanceTypeSet",
      page.map((t) =>
        frag(
          el("instanceType", t.instanceType),
          el("vCpuInfo", el("defaultVCpus", t.vcpus)),
          el("memoryInfo", el("sizeInMiB", t.memoryMiB)),
        )
      ),
    ),
    opt("nextToken", next),
  );
}
