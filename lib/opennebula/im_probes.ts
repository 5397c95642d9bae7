/**
 * What the host probes print: OpenNebula's information drivers ask a host for its capacity
 * and its VMs, and the cloud answers as one host. Two generations:
 *
 * - 4.4–5.10 (`one_im_sh` running `im/<name>.d/poll`): one report of `KEY=VALUE` lines, then
 *   `VM_POLL=YES` and one `VM=[...]` per instance, as the EC2 driver of those releases prints it;
 * - 5.12+ (monitord-client running `im/<name>-probes.d/{host,vm}/...`): one report per probe
 *   directory, shaped as 5.12/6.0's `PublicCloudDriver` and `probe_db.rb` print them.
 *
 * Everything here is formatting; which instances go where is decided by {@link sortInstances}.
 *
 * @module
 */

import type { HostFigures } from "../core/capacity.ts";
import { base64Of } from "../util/base64.ts";
import { InvalidInputError } from "../util/errors.ts";
import type { ListedInstance, Size } from "../core/provider.ts";

/** A probe's host, from its last two arguments (`... <host_id> <host>`), as oned passes them. */
interface ProbeHost {
  /** OpenNebula host id. */
  readonly hostId: number;
  /** OpenNebula host name. */
  readonly host: string;
}

/**
 * Reads a probe's host from its arguments: oned's drivers append the host id and name to
 * whatever else they pass (`<hypervisor> <ds_location> <port> <interval> <host_id> <host>`).
 *
 * @param probe The probe's name, for the message.
 * @param argv The arguments.
 * @returns The host id and name.
 * @throws {InvalidInputError} when the last two arguments are not a host id and a name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProbeArgs } from "./im_probes.ts";
 * assert.deepEqual(parseProbeArgs("poll", ["provider", "/var/lib/one/datastores", "4124", "20", "3", "aws"]), {
 *   hostId: 3,
 *   host: "aws",
 * });
 * ```
 */
export function parseProbeArgs(probe: string, argv: readonly string[]): ProbeHost {
  const [id, host] = argv.slice(-2);
  if (id === undefined || host === undefined || !/^\d{1,10}$/.test(id) || host.trim() === "") {
    throw new InvalidInputError(
      `${probe}: expected the host id and host name as the last two arguments, got ${
        JSON.stringify(argv.join(" "))
      }`,
    );
  }
  return { hostId: Number(id), host };
}

/** The instances of a listing, as a host's probes see them. */
interface SortedInstances {
  /** This host's live instances that oned knows (or all of them, when oned was not asked). */
  readonly own: ListedInstance[];
  /**
   * Live instances that no OpenNebula driver launched, to import (this driver did not mark
   * them, nor did OpenNebula's built-in EC2 driver record a VM on them).
   */
  readonly wild: ListedInstance[];
  /** This host's live instances whose VM oned no longer has. */
  readonly orphans: ListedInstance[];
}

/** States a wild instance is offered for import in: it runs, or is about to. */
const WILD_STATES = new Set(["pending", "running"]);

/**
 * Sorts a listing for one host. Instances the driver launched for other hosts are left out,
 * and so are terminated ones: an old instance of a redeployed VM must not report it gone. An
 * instance OpenNebula's built-in EC2 driver launched for a VM (`recordedVmId`) that is not
 * adopted is left out too: it is some VM's (one being moved, one of another OpenNebula, one
 * whose VM is gone), never a new VM to import.
 *
 * @param listed Every instance of the host's account and region.
 * @param host OpenNebula host name.
 * @param knownVms The VM ids oned has, or undefined when it could not be asked.
 * @returns This host's, the wild and the orphaned instances.
 */
export function sortInstances(
  listed: readonly ListedInstance[],
  host: string,
  knownVms: ReadonlySet<number> | undefined,
): SortedInstances {
  const own: ListedInstance[] = [];
  const wild: ListedInstance[] = [];
  const orphans: ListedInstance[] = [];
  for (const instance of listed) {
    if (!instance.launchedByDriver) {
      if (WILD_STATES.has(instance.state) && instance.recordedVmId === undefined) {
        wild.push(instance);
      }
      continue;
    }
    if (instance.ownerHost !== host) continue;
    if (instance.state === "terminated" || instance.state === "terminating") continue;
    if (instance.ownerVmId === undefined) continue;
    if (knownVms && !knownVms.has(instance.ownerVmId)) orphans.push(instance);
    else own.push(instance);
  }
  return { own, wild, orphans };
}

/**
 * The VM ids that more than one of these live instances carry (a VM with an instance of an
 * earlier life left, or launched twice).
 *
 * @param own A host's live instances ({@link SortedInstances.own}).
 * @returns The VM ids, in listing order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sharedVmIds } from "./im_probes.ts";
 * const i = (id: string, ownerVmId: number) => ({ id, ownerVmId, state: "running" as const,
 *   nativeState: "running", facts: {}, launchedByDriver: true, sectionAttributes: {} });
 * assert.deepEqual(sharedVmIds([i("i-1", 4), i("i-2", 5), i("i-3", 4)]), [4]);
 * ```
 */
export function sharedVmIds(own: readonly ListedInstance[]): number[] {
  const seen = new Set<number>();
  const shared = new Set<number>();
  for (const { ownerVmId } of own) {
    if (ownerVmId === undefined) continue;
    if (seen.has(ownerVmId)) shared.add(ownerVmId);
    seen.add(ownerVmId);
  }
  return [...shared];
}

/** A host's live instances once each VM has at most one ({@link resolveShared}). */
export interface ResolvedInstances {
  /** The instances to report as their VM: at most one per VM id. */
  readonly own: ListedInstance[];
  /** Instances that carry a VM's marks but are not the one oned knows: orphans. */
  readonly orphans: ListedInstance[];
  /** VMs whose instance could not be told (oned not asked, or no instance is its DEPLOY_ID). */
  readonly unresolved: number[];
}

/**
 * Settles the VMs that several live instances claim: the instance whose id is the VM's
 * `DEPLOY_ID` in oned is the VM's, the others are orphans. A VM whose deploy id is not known
 * (oned could not be asked, or may give it another one right now) or matches none of them
 * has none of them reported.
 *
 * @param own A host's live instances.
 * @param deployIds For each shared VM id oned could tell, its current `DEPLOY_ID` (undefined
 * when it has none).
 * @returns The instances to report, the orphans and the unresolved VMs.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveShared } from "./im_probes.ts";
 * const i = (id: string, ownerVmId: number) => ({ id, ownerVmId, state: "running" as const,
 *   nativeState: "running", facts: {}, launchedByDriver: true, sectionAttributes: {} });
 * const r = resolveShared([i("i-1", 4), i("i-2", 4), i("i-3", 5), i("i-4", 5)], new Map([[4, "i-2"]]));
 * assert.deepEqual(r.own.map((x) => x.id), ["i-2"]);
 * assert.deepEqual(r.orphans.map((x) => x.id), ["i-1"]);
 * assert.deepEqual(r.unresolved, [5]);
 * ```
 */
export function resolveShared(
  own: readonly ListedInstance[],
  deployIds: ReadonlyMap<number, string | undefined>,
): ResolvedInstances {
  const shared = new Set(sharedVmIds(own));
  const kept: ListedInstance[] = [];
  const orphans: ListedInstance[] = [];
  const unresolved = new Set<number>();
  for (const instance of own) {
    const vmId = instance.ownerVmId;
    if (vmId === undefined || !shared.has(vmId)) {
      kept.push(instance);
      continue;
    }
    const deployId = deployIds.get(vmId);
    const known = deployId !== undefined &&
      own.some((i) => i.ownerVmId === vmId && i.id === deployId);
    if (!known) unresolved.add(vmId);
    else if (instance.id === deployId) kept.push(instance);
    else orphans.push(instance);
  }
  return { own: kept, orphans, unresolved: [...unresolved] };
}

/** A VM of the local oned, as {@link adoptImported} needs it. */
interface KnownVm {
  /** Its OpenNebula id. */
  readonly id: number;
  /** Its deploy id, when it has one. */
  readonly deployId?: string;
  /** The host oned has it on, when it says. */
  readonly host?: string;
}

/**
 * Takes in the instances OpenNebula imported (`onehost importvm`): a wild instance whose id is
 * the deploy id of a VM oned has becomes that VM's, on the host oned has it on, as if the driver
 * had launched it there, so that no probe offers it for import again and its host reports it
 * as its VM. Other instances are returned as they are.
 *
 * @param listed Every instance of the host's account and region.
 * @param known The local oned's VMs.
 * @returns The listing, imported instances owned by their VM.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adoptImported } from "./im_probes.ts";
 * const wild = { id: "i-1", state: "running" as const, nativeState: "running", facts: {},
 *   launchedByDriver: false, sectionAttributes: {} };
 * const [adopted] = adoptImported([wild], [{ id: 7, deployId: "i-1", host: "aws" }]);
 * assert.equal(adopted?.ownerVmId, 7);
 * assert.equal(adopted?.ownerHost, "aws");
 * assert.equal(adopted?.launchedByDriver, true);
 * ```
 */
export function adoptImported(
  listed: readonly ListedInstance[],
  known: readonly KnownVm[],
): ListedInstance[] {
  const byDeployId = new Map(known.flatMap((vm) => vm.deployId ? [[vm.deployId, vm]] : []));
  return listed.map((instance) => {
    const vm = instance.launchedByDriver ? undefined : byDeployId.get(instance.id);
    if (vm === undefined) return instance;
    const { ownerHost: _, ...rest } = instance;
    return {
      ...rest,
      launchedByDriver: true,
      ownerVmId: vm.id,
      ...(vm.host !== undefined ? { ownerHost: vm.host } : {}),
    };
  });
}

/** Which generation's spelling of an imported instance's deploy id. */
type ImportGeneration = "4.14" | "5.12";

/**
 * The template `onehost importvm` creates a VM from, for a wild instance: its size (CPU, VCPU,
 * MEMORY in MiB), the provider's section that would launch it again, its deploy id (spelled
 * `IMPORT_VM_ID` by 4.14–5.10, `DEPLOY_ID` by 5.12+) and a requirement that pins it to the host.
 *
 * @param instance The wild instance.
 * @param host OpenNebula host name.
 * @param sectionType The provider's `PUBLIC_CLOUD` type (`ec2`).
 * @param size Its size's resources, when the provider knows them.
 * @param generation Which spelling of the deploy id.
 * @returns The template text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importTemplate } from "./im_probes.ts";
 * const text = importTemplate(
 *   { id: "i-0abc", state: "running", nativeState: "running", facts: {}, launchedByDriver: false,
 *     vcpus: 2, sectionAttributes: { AMI: "ami-1", INSTANCETYPE: "t3.small" } },
 *   "aws", "ec2", { vcpus: 2, memoryMiB: 2048 }, "5.12",
 * );
 * assert.ok(text.includes('DEPLOY_ID = "i-0abc"\n'));
 * assert.ok(text.includes('PUBLIC_CLOUD = [\n  TYPE = "ec2",\n  AMI = "ami-1",\n  INSTANCETYPE = "t3.small" ]\n'));
 * ```
 */
export function importTemplate(
  instance: ListedInstance,
  host: string,
  sectionType: string,
  size: Size | undefined,
  generation: ImportGeneration,
): string {
  const vcpus = instance.vcpus ?? size?.vcpus ?? 1;
  const memoryMiB = size?.memoryMiB ??
    (instance.memoryKiB === undefined ? 0 : Math.floor(instance.memoryKiB / 1024));
  const name = instance.name ? `${instance.name} (${instance.id})` : instance.id;
  const section = [
    `  TYPE = ${quoted(sectionType)}`,
    ...Object.entries(instance.sectionAttributes).map(([k, v]) => `  ${k} = ${quoted(v)}`),
  ];
  return [
    `NAME = ${quoted(`Instance from ${name}`)}`,
    `CPU = "${vcpus}"`,
    `VCPU = "${vcpus}"`,
    `MEMORY = "${memoryMiB}"`,
    `HYPERVISOR = ${quoted(sectionType)}`,
    `PUBLIC_CLOUD = [\n${section.join(",\n")} ]`,
    `${generation === "4.14" ? "IMPORT_VM_ID" : "DEPLOY_ID"} = ${quoted(instance.id)}`,
    `SCHED_REQUIREMENTS = ${quoted(`NAME="${host}"`)}`,
    `DESCRIPTION = ${quoted(`Instance imported from ${sectionType}: ${instance.id}`)}`,
    "",
  ].join("\n");
}

/** A template value in double quotes, its backslashes and quotes escaped as oned's parser reads them. */
function quoted(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/[\r\n]+/g, " ")}"`;
}

/** Base64 of a text's UTF-8 bytes, on one line. */
export function base64(text: string): string {
  return base64Of(new TextEncoder().encode(text));
}

/** The host lines a probe reports, in OpenNebula's units. */
interface HostLines {
  /** `HYPERVISOR` (the provider's section type). */
  readonly hypervisor: string;
  /** OpenNebula host name (`HOSTNAME`). */
  readonly host: string;
  /** Capacity figures. */
  readonly figures: HostFigures;
}

/**
 * The host part of a 4.4–5.10 poll report, in the order the EC2 driver of those releases
 * prints it.
 *
 * @param lines What to report.
 * @returns The lines.
 */
export function legacyHostLines(lines: HostLines): string[] {
  const f = lines.figures;
  return [
    `HYPERVISOR=${lines.hypervisor}`,
    "PUBLIC_CLOUD=YES",
    "PRIORITY=-1",
    `TOTALMEMORY=${f.totalMemoryKiB}`,
    `TOTALCPU=${f.totalCpu}`,
    "CPUSPEED=1000",
    `HOSTNAME=${quoted(lines.host)}`,
    `USEDMEMORY=${f.usedMemoryKiB}`,
    `USEDCPU=${f.usedCpu}`,
    `FREEMEMORY=${f.freeMemoryKiB}`,
    `FREECPU=${f.freeCpu}`,
  ];
}

/**
 * One `VM=[...]` of a 4.4–5.10 poll report. The POLL string's values are percent-encoded, so
 * it holds no blank, quote or comma-breaking character for 4.14+'s parser to trip on.
 *
 * @param vmId The VM id, or -1 for a wild instance.
 * @param deployId The instance id.
 * @param importTemplate64 The import template, base64.
 * @param poll The monitoring string.
 * @returns The lines.
 */
export function legacyVmLines(
  vmId: number,
  deployId: string,
  importTemplate64: string,
  poll: string,
): string[] {
  return [
    "VM=[",
    `  ID=${vmId},`,
    `  DEPLOY_ID=${deployId},`,
    `  VM_NAME=${deployId},`,
    `  IMPORT_TEMPLATE="${importTemplate64}",`,
    `  POLL="${poll}" ]`,
  ];
}

/**
 * A `VM = [ KEY="value", ... ]` line, as 5.12+'s probes write a VM (`hash_to_template`).
 *
 * @param pairs Keys (upper case) and values, in order.
 * @returns The line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vmTemplateLine } from "./im_probes.ts";
 * assert.equal(vmTemplateLine([["ID", "3"], ["DEPLOY_ID", "i-1"]]), 'VM = [ ID="3", DEPLOY_ID="i-1" ]');
 * ```
 */
export function vmTemplateLine(pairs: readonly (readonly [string, string])[]): string {
  return `VM = [ ${pairs.map(([k, v]) => `${k}=${quoted(v)}`).join(", ")} ]`;
}

/**
 * How 5.12+'s VM status names an instance state: `RUNNING` (pending or running), `POWEROFF`
 * (stopping or stopped: the instance and its disks remain), `UNKNOWN` otherwise.
 *
 * @param instance The instance.
 * @returns The status word.
 */
export function statusWord(instance: Pick<ListedInstance, "state">): string {
  switch (instance.state) {
    case "pending":
    case "running":
      return "RUNNING";
    case "stopping":
    case "stopped":
      return "POWEROFF";
    default:
      return "UNKNOWN";
  }
}

/**
 * The attribute that names this host's orphaned instances (tagged for a VM oned no longer
 * has): kept in the host's template where `onehost show` shows it, never acted on.
 *
 * @param orphans The orphaned instances.
 * @returns The line, or nothing when there is none.
 */
export function orphanLines(orphans: readonly ListedInstance[]): string[] {
  if (orphans.length === 0) return [];
  return [`ORPHANED_INSTANCES="${orphans.map((i) => i.id).join(",")}"`];
}
