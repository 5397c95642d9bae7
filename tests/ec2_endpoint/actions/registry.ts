/**
 * The actions the endpoint implements, with the rate category of each (Describe actions
 * versus those that create or modify resources).
 *
 * @module
 */

import type { ActionHandler } from "../context.ts";
import type { ThrottleCategory } from "../options.ts";
import { allocateAddress, releaseAddress } from "./allocate_address.ts";
import { associateAddress, disassociateAddress } from "./associate_address.ts";
import { createImage } from "./create_image.ts";
import { createTags } from "./create_tags.ts";
import { deregisterImage } from "./deregister_image.ts";
import { describeAddresses } from "./describe_addresses.ts";
import { describeImages } from "./describe_images.ts";
import { describeInstanceTypes } from "./describe_instance_types.ts";
import { describeInstances } from "./describe_instances.ts";
import { runInstances } from "./run_instances.ts";
import {
  rebootInstances,
  startInstances,
  stopInstances,
  terminateInstances,
} from "./state_changes.ts";

/** An implemented action. */
export interface ActionDefinition {
  /** The handler. */
  readonly handler: ActionHandler;
  /** Its throttling category. */
  readonly category: ThrottleCategory;
}

/** Implemented actions by name. */
export const ACTIONS: ReadonlyMap<string, ActionDefinition> = new Map([
  ["RunInstances", { handler: runInstances, category: "mutate" }],
  ["DescribeInstances", { handler: describeInstances, category: "describe" }],
  ["TerminateInstances", { handler: terminateInstances, category: "mutate" }],
  ["StopInstances", { handler: stopInstances, category: "mutate" }],
  ["StartInstances", { handler: startInstances, category: "mutate" }],
  ["RebootInstances", { handler: rebootInstances, category: "mutate" }],
  ["CreateTags", { handler: createTags, category: "mutate" }],
  ["DescribeImages", { handler: describeImages, category: "describe" }],
  ["DescribeInstanceTypes", { handler: describeInstanceTypes, category: "describe" }],
  ["CreateImage", { handler: createImage, category: "mutate" }],
  ["DeregisterImage", { handler: deregisterImage, category: "mutate" }],
  ["DescribeAddresses", { handler: describeAddresses, category: "describe" }],
  ["AllocateAddress", { handler: allocateAddress, category: "mutate" }],
  ["AssociateAddress", { handler: associateAddress, category: "mutate" }],
  ["DisassociateAddress", { handler: disassociateAddress, category: "mutate" }],
  ["ReleaseAddress", { handler: releaseAddress, category: "mutate" }],
]);
