/**
 * TerminateInstances, StopInstances, StartInstances and RebootInstances. Every named instance
 * must be visible and in a state that allows the change before any of them changes; the
 * response lists each instance's current, then previous state.
 *
 * - Terminate: idempotent; any state but terminated goes to shutting-down.
 * - Stop: running → stopping; stopping/stopped unchanged; pending, shutting-down and
 *   terminated are refused, as is a Spot Instance of a one-time request. `Force` (or
 *   `SkipOsShutdown`) on an instance already stopping ends the stop now (the documented cure
 *   for an instance stuck in stopping); `Hibernate` needs an instance launched enabled for
 *   hibernation (`UnsupportedHibernationConfiguration`).
 * - Start: stopped → pending; pending/running unchanged; stopping, shutting-down and
 *   terminated are refused; so is a start beyond the instance type's capacity.
 * - Reboot: running instances reboot (they stay running; `rebootCount` counts it); terminated
 *   ones are ignored, as documented; pending, stopping, stopped and shutting-down ones are
 *   refused.
 *
 * @module
 */

import type { ActionContext } from "../context.ts";
import { Ec2Error, errors } from "../errors.ts";
import type { InstanceStateName } from "../lifecycle.ts";
import { boolParam } from "../query.ts";
import type { InstanceRecord } from "../instance.ts";
import { stateChangeXml } from "../render.ts";
import { el, list, type Xml } from "../xml.ts";
import { instanceIds } from "./instance_ids.ts";

function target(context: ActionContext): InstanceRecord[] {
  return context.region.requireVisible(instanceIds(context.params, true), context.now);
}

function changes(
  context: ActionContext,
  instances: readonly InstanceRecord[],
  next: (i: InstanceRecord) => InstanceStateName | undefined,
): Xml {
  const items = instances.map((instance) => {
    const previous = instance.state;
    const state = next(instance);
    if (state !== undefined) context.region.enter(instance, state, context.now);
    return stateChangeXml(instance.id, previous, instance.state);
  });
  return list("instancesSet", items);
}

/**
 * Handles TerminateInstances.
 *
 * @param context The request.
 * @returns `instancesSet` of state changes.
 */
export function terminateInstances(context: ActionContext): Xml {
  const instances = target(context);
  boolParam(context.params, "Force");
  boolParam(context.params, "SkipOsShutdown");
  return changes(
    context,
    instances,
    (i) => i.state === "terminated" || i.state === "shutting-down" ? undefined : "shutting-down",
  );
}

/**
 * Handles StopInstances (the stop takes `stoppingMs`).
 *
 * @param context The request.
 * @returns `instancesSet` of state changes.
 */
export function stopInstances(context: ActionContext): Xml {
  const instances = target(context);
  const force = boolParam(context.params, "Force") === true ||
    boolParam(context.params, "SkipOsShutdown") === true;
  const hibernate = boolParam(context.params, "Hibernate") ?? false;
  for (const i of instances) {
    if (i.state === "pending" || i.state === "shutting-down" || i.state === "terminated") {
      throw errors.incorrectState(i.id, "stopped");
    }
    if (i.spot?.type === "one-time") {
      throw new Ec2Error(
        "UnsupportedOperation",
        `You can't stop the Spot Instance '${i.id}' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with persistent Spot Instance requests.`,
      );
    }
    if (hibernate && !i.hibernationConfigured) {
      throw new Ec2Error(
        "UnsupportedHibernationConfiguration",
        `The instance '${i.id}' could not be hibernated because it is not enabled for hibernation.`,
      );
    }
  }
  if (force) {
    for (const i of instances) {
      if (i.state === "stopping") context.region.hurry(i, context.now);
    }
  }
  return changes(context, instances, (i) => i.state === "running" ? "stopping" : undefined);
}

/**
 * Handles StartInstances.
 *
 * @param context The request.
 * @returns `instancesSet` of state changes.
 */
export function startInstances(context: ActionContext): Xml {
  const instances = target(context);
  const starting = new Map<string, number>();
  for (const i of instances) {
    if (i.state === "stopping" || i.state === "shutting-down" || i.state === "terminated") {
      throw errors.incorrectState(i.id, "started");
    }
    if (i.state === "stopped") {
      starting.set(i.instanceType, (starting.get(i.instanceType) ?? 0) + 1);
    }
  }
  for (const [type, count] of starting) {
    const capacity = context.options.capacity[type];
    if (capacity !== undefined && context.region.liveCount(type) + count > capacity) {
      throw new Ec2Error(
        "InsufficientInstanceCapacity",
        `We currently do not have sufficient ${type} capacity in the Availability Zone you requested. Our system will be working on provisioning additional capacity.`,
      );
    }
  }
  return changes(context, instances, (i) => i.state === "stopped" ? "pending" : undefined);
}

/**
 * Handles RebootInstances.
 *
 * @param context The request.
 * @returns `return` true.
 */
export function rebootInstances(context: ActionContext): Xml {
  const instances = target(context);
  for (const i of instances) {
    if (i.state !== "running" && i.state !== "terminated") {
      throw errors.incorrectState(i.id, "rebooted");
    }
  }
  for (const i of instances) {
    if (i.state === "running") context.region.reboot(i, context.now);
  }
  return el("return", true);
}
