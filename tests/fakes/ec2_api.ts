/**
 * An in-memory EC2 behind the `Ec2Api` seam, for unit tests of the provider: every call is
 * recorded; answers and errors can be scripted per call; and a small model of instances,
 * addresses and images answers the rest the way EC2 does (client tokens, the driver's tags,
 * the filters it sends, states that move on). Errors are shaped as the AWS SDK throws them, so
 * `errors.ts` classifies them exactly as real ones. Only tests import this module.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ec2Error, FakeEc2 } from "./ec2_api.ts";
 *
 * const fake = new FakeEc2({ describesUntilSettled: 1 });
 * const { Instances } = await fake.runInstances({ ImageId: "ami-1", MinCount: 1, MaxCount: 1 });
 * const id = Instances?.[0]?.InstanceId ?? "";
 * assert.equal(fake.instance(id).state, "pending");
 * await fake.describeInstances({ InstanceIds: [id] }); // seen pending once
 * assert.equal(fake.instance(id).state, "running");
 * fake.failNext("terminateInstances", ec2Error("RequestLimitExceeded", "Request limit exceeded."));
 * await assert.rejects(fake.terminateInstances({ InstanceIds: [id] }), { name: "RequestLimitExceeded" });
 * assert.deepEqual(fake.calls.map((c) => c.name), ["runInstances", "describeInstances", "terminateInstances"]);
 * ```
 *
 * @module
 */

import type * as Sdk from "@aws-sdk/client-ec2";
import type { CallName, Ec2Api, Ec2Calls } from "../../lib/providers/ec2/api.ts";
// The fake answers state codes as the local endpoint does (both are test code).
import { STATE_CODES } from "../ec2_endpoint/mod.ts";

/** The input of a call. */
export type CallInput<K extends CallName> = Parameters<Ec2Calls[K]>[0];
/** The output of a call, without the SDK's `$metadata` (the fake adds it). */
export type CallOutput<K extends CallName> = Omit<Awaited<ReturnType<Ec2Calls[K]>>, "$metadata">;
/**
 * A scripted answer: an output, an error to throw, or a function of the input (it may throw,
 * and may call `model` for the answer the model would give).
 */
export type Script<K extends CallName> =
  | CallOutput<K>
  | Error
  | ((input: CallInput<K>, model: () => CallOutput<K>) => CallOutput<K> | Promise<CallOutput<K>>);

/** One recorded call. */
export interface RecordedCall {
  /** The call's name. */
  readonly name: CallName;
  /** A copy of its input. */
  readonly input: Record<string, unknown>;
}

/** An instance of the model; tests may read and change it. */
export interface FakeInstance {
  /** `i-` id. */
  readonly id: string;
  /** EC2 state name. */
  state: Sdk.InstanceStateName;
  /** Describes that still see a transitional state before it settles. */
  describesLeft: number;
  /** Tags, by key. */
  tags: Record<string, string>;
  /** The launch's client token, if any. */
  readonly clientToken?: string;
  /** The launch request (token aside), to detect a token reused with other parameters. */
  readonly launch: string;
  /** Public address (set by an Elastic IP association). */
  publicIp?: string;
  /** `StateReason.Code`, e.g. `Server.InternalError`. */
  stateReason?: string;
  /** Instance type, when the test gives one. */
  readonly instanceType?: string;
}

/** An Elastic IP address of the model. */
export interface FakeAddress {
  /** `eipalloc-` id. */
  readonly allocationId: string;
  /** The public IPv4 address. */
  readonly publicIp: string;
  /** The instance holding it. */
  instanceId?: string;
}

/** How the fake endpoint behaves. */
export interface FakeOptions {
  /** The seam's `region` (default `us-east-1`). */
  readonly region?: string;
  /** Describes that see pending/stopping/shutting-down before it settles (default 1). */
  readonly describesUntilSettled?: number;
  /** `apply` (EC2), `ignore` (econe: accepted, not applied) or `reject` (InvalidParameterValue). */
  readonly filters?: "apply" | "ignore" | "reject";
  /** Whether a repeated client token returns the earlier launch (EC2: yes; moto: no). */
  readonly deduplicateTokens?: boolean;
  /** How a token whose instance is terminated is answered: EC2's error, or that instance (older EC2). */
  readonly spentToken?: "error" | "instance";
  /** The instance types the region offers: name to [vCPUs, MiB] (default: the endpoint's fixtures). */
  readonly instanceTypes?: Readonly<Record<string, readonly [number, number]>>;
}

/**
 * The instance types of the local endpoint's fixtures, with their sizes; `i4i.large` is one the
 * driver's table does not know.
 */
export const FAKE_INSTANCE_TYPES: Readonly<Record<string, readonly [number, number]>> = {
  "t2.micro": [1, 1024],
  "t3.micro": [2, 1024],
  "t3.small": [2, 2048],
  "t3.medium": [2, 4096],
  "t4g.micro": [2, 1024],
  "m5.large": [2, 8192],
  "m1.small": [1, 1740],
  "i4i.large": [2, 16384],
};

/**
 * An error as the AWS SDK throws it for an EC2 error answer: `name` and `Code` are the EC2
 * code, `$fault` and `$metadata.httpStatusCode` the HTTP side.
 *
 * @param code EC2 error code, e.g. `InvalidInstanceID.NotFound`.
 * @param message EC2's message.
 * @param status HTTP status (default 400; EC2's server errors are 500 or 503).
 * @returns The error, to throw or to script with `failNext`.
 */
export function ec2Error(code: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), {
    name: code,
    Code: code,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status, requestId: crypto.randomUUID(), attempts: 1 },
  });
}

const SETTLED: Partial<Record<Sdk.InstanceStateName, Sdk.InstanceStateName>> = {
  pending: "running",
  stopping: "stopped",
  "shutting-down": "terminated",
};
const METADATA = { $metadata: { httpStatusCode: 200, attempts: 1, totalRetryDelay: 0 } };

/** EC2 in memory, behind the `Ec2Api` seam. */
export class FakeEc2 implements Ec2Api {
  /** The region the seam reports. */
  readonly region: string | undefined;
  /** Every call, in order. */
  readonly calls: RecordedCall[] = [];
  /** The instances, by id. */
  readonly instances: Map<string, FakeInstance> = new Map();
  /** The Elastic IP addresses, by allocation id. */
  readonly addresses: Map<string, FakeAddress> = new Map();
  /** The images, by id. */
  readonly images: Map<string, Sdk.Image> = new Map();
  readonly #options: Required<Omit<FakeOptions, "region">>;
  readonly #scripts = new Map<CallName, Script<never>[]>();
  #serial = 0;

  /** @param options How the endpoint behaves (defaults: EC2's). */
  constructor(options: FakeOptions = {}) {
    this.region = options.region ?? "us-east-1";
    this.#options = {
      describesUntilSettled: options.describesUntilSettled ?? 1,
      filters: options.filters ?? "apply",
      deduplicateTokens: options.deduplicateTokens ?? true,
      spentToken: options.spentToken ?? "error",
      instanceTypes: options.instanceTypes ?? FAKE_INSTANCE_TYPES,
    };
  }

  /** Queues answers for the next calls of one name, used before the model answers. */
  script<K extends CallName>(name: K, ...answers: Script<K>[]): this {
    const queue = this.#scripts.get(name) ?? [];
    queue.push(...(answers as Script<never>[]));
    this.#scripts.set(name, queue);
    return this;
  }

  /** Makes the next `times` calls of one name throw `error` (see {@link ec2Error}). */
  failNext(name: CallName, error: Error, times = 1): this {
    for (let i = 0; i < times; i++) this.script(name, error);
    return this;
  }

  /** The inputs of the recorded calls of one name, in order. */
  inputsOf<K extends CallName>(name: K): CallInput<K>[] {
    return this.calls.filter((c) => c.name === name).map((c) => c.input as CallInput<K>);
  }

  /** One instance of the model; throws when there is none. */
  instance(id: string): FakeInstance {
    const found = this.instances.get(id);
    if (!found) throw new Error(`The fake has no instance ${id}`);
    return found;
  }

  /** Adds an instance (default: running, untagged); returns it. */
  addInstance(seed: Partial<FakeInstance> = {}): FakeInstance {
    const id = seed.id ?? this.#newId("i-");
    const made: FakeInstance = {
      describesLeft: 0,
      tags: {},
      launch: "{}",
      ...seed,
      state: "running",
      id,
    };
    this.instances.set(id, made);
    this.#setState(made, seed.state ?? "running");
    return made;
  }

  /** Adds an Elastic IP address (allocation id made up unless given), maybe held; returns it. */
  addAddress(seed: { publicIp: string; allocationId?: string; instanceId?: string }): FakeAddress {
    const allocationId = seed.allocationId ?? this.#newId("eipalloc-");
    const address: FakeAddress = { allocationId, publicIp: seed.publicIp };
    if (seed.instanceId !== undefined) this.#hold(address, seed.instanceId);
    this.addresses.set(address.allocationId, address);
    return address;
  }

  /** Adds an image (its `ImageId` is the key). */
  addImage(image: Sdk.Image & { ImageId: string }): void {
    this.images.set(image.ImageId, image);
  }

  /** Moves an instance (or every instance) in a transitional state to where it settles. */
  advance(id?: string): void {
    for (const instance of id === undefined ? this.instances.values() : [this.instance(id)]) {
      const next = SETTLED[instance.state];
      if (next) this.#setState(instance, next);
    }
  }

  /** Puts an instance in a state, e.g. terminated behind the driver's back. */
  setState(id: string, state: Sdk.InstanceStateName, reason?: string): void {
    this.#setState(this.instance(id), state);
    if (reason !== undefined) this.instance(id).stateReason = reason;
  }

  /** Launches one pending instance tagged as asked, or answers a repeated client token as EC2 does. */
  runInstances(input: CallInput<"runInstances">) {
    return this.#call("runInstances", input, () => {
      const { ClientToken: token, ...rest } = input;
      const launch = JSON.stringify(rest);
      const earlier = token && this.#options.deduplicateTokens
        ? [...this.instances.values()].find((i) => i.clientToken === token)
        : undefined;
      if (earlier) {
        if (earlier.launch !== launch) {
          throw ec2Error(
            "IdempotentParameterMismatch",
            "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).",
          );
        }
        if (earlier.state === "terminated" && this.#options.spentToken === "error") {
          throw ec2Error(
            "IdempotentInstanceTerminated",
            "The client token you provided is associated with a resource that is already deleted. Please use a different client token.",
          );
        }
        return { Instances: [this.#render(earlier)] };
      }
      const tags = input.TagSpecifications?.filter((s) => s.ResourceType === "instance")
        .flatMap((s) => s.Tags ?? []);
      const made = this.addInstance({
        state: "pending",
        tags: Object.fromEntries((tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
        launch,
        ...(token ? { clientToken: token } : {}),
      });
      return { Instances: [this.#render(made)] };
    });
  }

  /** Describes the instances named (unknown ids: `InvalidInstanceID.NotFound`) that pass the filters. */
  describeInstances(input: CallInput<"describeInstances">) {
    return this.#call("describeInstances", input, () => {
      const filters = input.Filters ?? [];
      if (filters.length > 0 && this.#options.filters === "reject") {
        throw ec2Error("InvalidParameterValue", "The filter is not supported.");
      }
      const ids = input.InstanceIds ?? [];
      for (const id of ids) this.#known(id);
      const tests = this.#options.filters === "ignore" ? [] : filters.map(filterTest);
      const matched = [...this.instances.values()].filter((i) =>
        (ids.length === 0 || ids.includes(i.id)) && tests.every((test) => test(i))
      );
      // Pages as EC2 does when MaxResults is given: NextToken is the index of the next item.
      const start = Number(input.NextToken ?? 0);
      const end = input.MaxResults ? start + input.MaxResults : matched.length;
      const page = matched.slice(start, end);
      const rendered = page.map((i) => this.#render(i));
      for (const instance of page) this.#seen(instance);
      return {
        Reservations: rendered.map((i) => ({ ReservationId: `r-${i.InstanceId}`, Instances: [i] })),
        ...(end < matched.length ? { NextToken: String(end) } : {}),
      };
    });
  }

  /** Moves the instances to shutting-down (unless they are on their way out already). */
  terminateInstances(input: CallInput<"terminateInstances">) {
    return this.#call("terminateInstances", input, () => ({
      TerminatingInstances: this.#change(
        input.InstanceIds,
        (i) =>
          i.state === "terminated" || i.state === "shutting-down" ? undefined : "shutting-down",
      ),
    }));
  }

  /** Moves running instances to stopping; pending, shutting-down or terminated ones cannot stop. */
  stopInstances(input: CallInput<"stopInstances">) {
    return this.#call("stopInstances", input, () => ({
      StoppingInstances: this.#change(input.InstanceIds, (i) => {
        if (["pending", "shutting-down", "terminated"].includes(i.state)) incorrect(i, "stopped");
        return i.state === "running" ? "stopping" : undefined;
      }),
    }));
  }

  /** Moves stopped instances to pending; stopping, shutting-down or terminated ones cannot start. */
  startInstances(input: CallInput<"startInstances">) {
    return this.#call("startInstances", input, () => ({
      StartingInstances: this.#change(input.InstanceIds, (i) => {
        if (["stopping", "shutting-down", "terminated"].includes(i.state)) incorrect(i, "started");
        return i.state === "stopped" ? "pending" : undefined;
      }),
    }));
  }

  /** Accepts a reboot of running (or terminated) instances; changes nothing. */
  rebootInstances(input: CallInput<"rebootInstances">) {
    return this.#call("rebootInstances", input, () => {
      this.#change(input.InstanceIds, (i) => {
        if (i.state !== "running" && i.state !== "terminated") incorrect(i, "rebooted");
        return undefined;
      });
      return {};
    });
  }

  /** Adds or overwrites tags of instances (unknown ids: `InvalidInstanceID.NotFound`). */
  createTags(input: CallInput<"createTags">) {
    return this.#call("createTags", input, () => {
      const instances = (input.Resources ?? []).map((id) => this.#known(id));
      for (const instance of instances) {
        for (const tag of input.Tags ?? []) instance.tags[tag.Key ?? ""] = tag.Value ?? "";
      }
      return {};
    });
  }

  /** Records an image of the instance, with the image's tags of the request. */
  createImage(input: CallInput<"createImage">) {
    return this.#call("createImage", input, () => {
      const instance = this.#known(input.InstanceId ?? "");
      const tags = input.TagSpecifications?.find((s) => s.ResourceType === "image")?.Tags;
      const ImageId = this.#newId("ami-");
      this.addImage({
        ImageId,
        Name: input.Name,
        State: "pending",
        SourceInstanceId: instance.id,
        ...(tags ? { Tags: tags } : {}),
      });
      return { ImageId };
    });
  }

  /** Describes the images named (unknown ids: `InvalidAMIID.NotFound`). */
  describeImages(input: CallInput<"describeImages">) {
    return this.#call("describeImages", input, () => {
      const ids = input.ImageIds ?? [...this.images.keys()];
      const missing = ids.filter((id) => !this.images.has(id));
      if (missing.length > 0) {
        throw ec2Error(
          "InvalidAMIID.NotFound",
          `The image id '[${missing.join(", ")}]' does not exist`,
        );
      }
      return { Images: ids.map((id) => this.images.get(id) as Sdk.Image) };
    });
  }

  /** Associates an address; one another instance holds is moved unless `AllowReassociation` is false. */
  associateAddress(input: CallInput<"associateAddress">) {
    return this.#call("associateAddress", input, () => {
      const address = this.#address({ AllocationIds: [input.AllocationId ?? ""] });
      const instance = this.#known(input.InstanceId ?? "");
      if (["pending", "shutting-down", "terminated"].includes(instance.state)) {
        throw ec2Error(
          "IncorrectInstanceState",
          `The ${instance.state} instance is not in a valid state for this operation`,
        );
      }
      // Like EC2 (for VPC addresses), reassociation is allowed unless the request says no.
      const taken = address.instanceId !== undefined && address.instanceId !== instance.id;
      if (taken && input.AllowReassociation === false) {
        throw ec2Error(
          "Resource.AlreadyAssociated",
          `resource ${address.allocationId} is already associated with associate-id eipassoc-1`,
        );
      }
      this.#hold(address, instance.id);
      return { AssociationId: `eipassoc-${address.allocationId.slice(9)}` };
    });
  }

  /** Describes the one address named by allocation id or public IP. */
  describeAddresses(input: CallInput<"describeAddresses">) {
    return this.#call("describeAddresses", input, () => ({
      Addresses: [this.#address(input)].map((a) => ({
        AllocationId: a.allocationId,
        PublicIp: a.publicIp,
        Domain: "vpc" as const,
        ...(a.instanceId ? { InstanceId: a.instanceId } : {}),
      })),
    }));
  }

  /**
   * Describes the instance types named by `InstanceTypes` (an unknown one fails the request,
   * as on EC2) or selected by the `instance-type` filter (unknown ones are left out), in pages
   * of `MaxResults`.
   */
  describeInstanceTypes(input: CallInput<"describeInstanceTypes">) {
    return this.#call("describeInstanceTypes", input, () => {
      const offered = this.#options.instanceTypes;
      const named = input.InstanceTypes ?? [];
      const unknown = named.filter((n) => !Object.hasOwn(offered, n));
      if (unknown.length > 0) {
        throw ec2Error(
          "InvalidInstanceType",
          `The following supplied instance types do not exist: [${unknown.join(", ")}]`,
        );
      }
      let matched = named.length > 0 ? [...named] : Object.keys(offered);
      for (const filter of input.Filters ?? []) {
        if (filter.Name !== "instance-type") {
          throw ec2Error("InvalidParameterValue", `The filter '${filter.Name}' is invalid`);
        }
        matched = matched.filter((n) => filter.Values?.includes(n));
      }
      const start = Number(input.NextToken ?? 0);
      const end = input.MaxResults ? start + input.MaxResults : matched.length;
      return {
        InstanceTypes: matched.slice(start, end).map((name) => ({
          InstanceType: name as Sdk._InstanceType,
          VCpuInfo: { DefaultVCpus: offered[name]![0] },
          MemoryInfo: { SizeInMiB: offered[name]![1] },
        })),
        ...(end < matched.length ? { NextToken: String(end) } : {}),
      };
    });
  }

  /** Records a call, then answers it with its next script, else with the model. */
  async #call<K extends CallName>(
    name: K,
    input: CallInput<K>,
    model: () => CallOutput<K>,
  ): Promise<Awaited<ReturnType<Ec2Calls[K]>>> {
    this.calls.push({ name, input: structuredClone(input) as Record<string, unknown> });
    await Promise.resolve(); // answered later, as over the network
    const next = this.#scripts.get(name)?.shift() as Script<K> | undefined;
    if (next instanceof Error) throw next;
    const out = next === undefined
      ? model()
      : typeof next === "function"
      ? await next(input, model)
      : next;
    return { ...out, ...METADATA } as Awaited<ReturnType<Ec2Calls[K]>>;
  }

  #known(id: string): FakeInstance {
    const found = this.instances.get(id);
    if (!found) {
      throw ec2Error("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
    }
    return found;
  }

  /** Applies a state change to each instance; `undefined` from `to` leaves it as it is. */
  #change(ids: string[] | undefined, to: (i: FakeInstance) => Sdk.InstanceStateName | undefined) {
    const instances = (ids ?? []).map((id) => this.#known(id));
    return instances.map((i) => {
      const previous = i.state;
      const next = to(i);
      if (next) this.#setState(i, next);
      return {
        InstanceId: i.id,
        PreviousState: { Name: previous, Code: STATE_CODES[previous] },
        CurrentState: { Name: i.state, Code: STATE_CODES[i.state] },
      };
    });
  }

  /** Sets a state; a transitional one settles at once when no describe is to see it. */
  #setState(instance: FakeInstance, state: Sdk.InstanceStateName): void {
    instance.state = state;
    instance.describesLeft = this.#options.describesUntilSettled;
    const next = SETTLED[state];
    if (next && instance.describesLeft <= 0) return this.#setState(instance, next);
    if (state === "stopped" || state === "terminated") {
      for (const a of this.addresses.values()) {
        if (a.instanceId === instance.id) delete a.instanceId;
      }
      delete instance.publicIp;
    }
  }

  /** A describe saw the instance: a transitional state comes one describe closer to settling. */
  #seen(instance: FakeInstance): void {
    const next = SETTLED[instance.state];
    if (next && --instance.describesLeft <= 0) this.#setState(instance, next);
  }

  #address(input: CallInput<"describeAddresses">): FakeAddress {
    const [allocationId] = input.AllocationIds ?? [];
    const [publicIp] = input.PublicIps ?? [];
    const found = [...this.addresses.values()].find((a) =>
      allocationId !== undefined ? a.allocationId === allocationId : a.publicIp === publicIp
    );
    if (found) return found;
    throw allocationId !== undefined
      ? ec2Error(
        "InvalidAllocationID.NotFound",
        `The allocation ID '${allocationId}' does not exist`,
      )
      : ec2Error("InvalidAddress.NotFound", `Address '${publicIp}' not found.`);
  }

  #hold(address: FakeAddress, instanceId: string): void {
    for (const i of this.instances.values()) {
      if (i.publicIp === address.publicIp) delete i.publicIp;
    }
    address.instanceId = instanceId;
    const instance = this.instances.get(instanceId);
    if (instance) instance.publicIp = address.publicIp;
  }

  #render(i: FakeInstance): Sdk.Instance {
    return {
      InstanceId: i.id,
      State: { Name: i.state, Code: STATE_CODES[i.state] },
      Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
      ...(i.clientToken ? { ClientToken: i.clientToken } : {}),
      ...(i.publicIp ? { PublicIpAddress: i.publicIp } : {}),
      ...(i.stateReason ? { StateReason: { Code: i.stateReason } } : {}),
      ...(i.instanceType ? { InstanceType: i.instanceType as Sdk._InstanceType } : {}),
    };
  }

  #newId(prefix: string): string {
    return `${prefix}${(++this.#serial).toString(16).padStart(17, "0")}`;
  }
}

/** The DescribeInstances filters the fake knows (the driver's, and a few more). */
const FILTERS: Record<string, (instance: FakeInstance, values: string[]) => boolean> = {
  "instance-state-name": (i, values) => values.includes(i.state),
  "instance-id": (i, values) => values.includes(i.id),
  "client-token": (i, values) => values.includes(i.clientToken ?? ""),
  "tag-key": (i, values) => values.some((v) => v in i.tags),
};

/** The test of one DescribeInstances filter; an unknown filter fails as on EC2. */
function filterTest(filter: Sdk.Filter): (instance: FakeInstance) => boolean {
  const name = filter.Name ?? "";
  const values = filter.Values ?? [];
  if (name.startsWith("tag:")) {
    return (i) => values.includes(i.tags[name.slice(4)] ?? "\0");
  }
  const test = FILTERS[name];
  if (!test) throw ec2Error("InvalidParameterValue", `The filter '${name}' is invalid`);
  return (i) => test(i, values);
}

/** Throws EC2's error for a request the instance's state does not allow. */
function incorrect(instance: FakeInstance, verb: string): never {
  throw ec2Error(
    "IncorrectInstanceState",
    `This instance '${instance.id}' is not in a state from which it can be ${verb}.`,
  );
}
