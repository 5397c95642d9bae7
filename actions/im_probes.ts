/**
 * The host probes: the cloud reported to OpenNebula's information drivers as one host.
 *
 * - `im_poll` (4.4–5.10, `im/<name>.d/poll`): capacity, then every VM of the host and every
 *   wild instance to import, in one report;
 * - `host_system`, `host_monitor`, `vm_monitor`, `vm_status` (5.12+, `im/<name>-probes.d/`):
 *   the same split the way monitord asks for it;
 * - `orphans [--terminate-done] <host>`: this host's instances whose VM oned no longer has,
 *   for the operator; with the flag, those whose VM oned reports DONE are terminated (3.2–4.2
 *   have no host probe to do it).
 *
 * No probe reports a terminated instance, nor one that is not the instance oned knows of its VM
 * (several carrying one VM's marks: see `resolveShared`). The probe that runs every cycle
 * (`vm/monitor` 5.12+, `poll` 4.4–5.10) terminates the instances of VMs oned reports DONE,
 * which OpenNebula never tells the driver about when the VM was powered off or undeployed.
 *
 * The probes that offer wild instances (`host/system`, `poll`) also adopt the instances
 * OpenNebula's built-in EC2 driver launched for the VMs oned has on the host
 * (`lib/opennebula/adoption.ts`): marked as this driver's, once, they are found, counted and
 * reported as its own from then on; until then every probe takes them as their VMs' from oned's
 * deploy ids, as it takes imported instances.
 *
 * Each probe makes one listing of the host's account and region (`Provider.list()`), which the
 * host's provider keeps for the polls of the host's VMs within `pollWindowSeconds`
 * (`lib/core/share_listings.ts`). Probes take `... <host_id> <host>` as their last two
 * arguments, as oned passes them.
 *
 * The probes that report VMs' monitoring strings (`im_poll`, `vm_monitor`) add the running
 * VMs' CPU and network figures when the host reads them (EC2: `cloudWatch`; see
 * `lib/runtime/usage.ts`): at most one read of the metrics service per host and period, for
 * all the host's running instances.
 *
 * @module
 */

import type { ActionRun, Report } from "../lib/runtime/action.ts";
import { writeTextAtomically } from "../lib/util/atomic_write.ts";
import {
  capacityFromQuota,
  capacityFromTemplate,
  capacityProblem,
  type CapacitySpec,
  chargeOf,
  holdsCapacity,
  hostFigures,
} from "../lib/core/capacity.ts";
import { InvalidInputError, NotFoundError } from "../lib/util/errors.ts";
import {
  adoptImported,
  base64,
  importTemplate,
  legacyHostLines,
  legacyVmLines,
  orphanLines,
  parseProbeArgs,
  type ResolvedInstances,
  resolveShared,
  sharedVmIds,
  sortInstances,
  statusWord,
  vmTemplateLine,
} from "../lib/opennebula/im_probes.ts";
import { type Adoption, adoptions } from "../lib/opennebula/adoption.ts";
import { formatMonitoring } from "../lib/opennebula/monitoring.ts";
import { openHost } from "../lib/runtime/host.ts";
import { type HostUsage, hostUsage, runningTargets } from "../lib/runtime/usage.ts";
import type { ListedInstance, Provider, ProviderKind, Size } from "../lib/core/provider.ts";
import type { HostSettings } from "../lib/core/config.ts";
import type { LocalVm, OneVmInfo } from "../lib/opennebula/one_api.ts";
import type { AskedVm, LocalOned } from "../lib/opennebula/local_oned.ts";
import type { StatusVm } from "../lib/opennebula/vm_status.ts";

/** A host's settings, provider and listing, opened for one probe. */
interface Surveyed {
  readonly host: string;
  readonly hostId: number;
  readonly settings: HostSettings;
  readonly sectionType: string;
  readonly kind: ProviderKind;
  readonly provider: Provider;
  /** The listing, instances OpenNebula imported owned by their VM (when oned was asked). */
  readonly listed: ListedInstance[];
  /** The VM ids oned has, when the probe names orphans and oned could be asked. */
  readonly knownVms: Set<number> | undefined;
  /** The VMs oned has (`one.vmpool.info`), when the probe names orphans and oned could be asked. */
  readonly known: LocalVm[] | undefined;
  /**
   * What a probe that names orphans says on stderr about the survey: that oned's VMs could not
   * be listed (the others, which run every cycle, stay quiet).
   */
  readonly notes: string[];
  /**
   * The instances an earlier OpenNebula driver launched that this probe adopts (when it names
   * orphans and oned could be asked; see `lib/opennebula/adoption.ts`).
   */
  readonly adoptable: Adoption[];
}

/**
 * Opens the probe's host and lists its account and region once. oned is asked for its VMs when
 * the probe names orphans, or when the listing holds an instance no mark ties to a VM (one
 * OpenNebula may have imported); a probe goes on without when it cannot be asked.
 */
async function survey(
  probe: string,
  argv: readonly string[],
  run: ActionRun,
  namesOrphans = false,
): Promise<Surveyed> {
  const { host, hostId } = parseProbeArgs(probe, argv);
  const { settings, kind, provider } = await openHost(
    host,
    `the ${probe} probe of host ${host}`,
    run,
    "monitoring",
    hostId,
  );
  // Within the host's window, the VMs' own polls (one process each, 3.2-4.x, or any VM outside
  // this report) are served from this listing.
  const listed = await provider.list();
  const unmarked = listed.some((i) =>
    !i.launchedByDriver && i.state !== "terminated" && i.state !== "terminating"
  );
  const asked = namesOrphans || unmarked ? await localVms() : {};
  const known = asked.known;
  return {
    adoptable: namesOrphans && known ? adoptions(listed, known, host) : [],
    host,
    hostId,
    settings,
    sectionType: kind.sectionType,
    kind,
    provider,
    listed: known ? adoptImported(listed, known) : listed,
    knownVms: namesOrphans && known ? new Set(known.map((vm) => vm.id)) : undefined,
    known: namesOrphans ? known : undefined,
    notes: namesOrphans && asked.note !== undefined ? [asked.note] : [],
  };
}

/**
 * Adopts the instances of {@link Surveyed.adoptable}: one mark each (for EC2, one CreateTags).
 * Only the probes that offer wild instances adopt (host/system, 4.4–5.10's poll), so that the
 * probes monitord runs at the same time never mark one instance twice; the others take such an
 * instance as its VM's from oned's deploy ids meanwhile (`adoptImported`), as the survey has.
 * A mark that fails is a warning, tried again by the next run.
 */
async function adoptAll(s: Surveyed, notes: string[]): Promise<void> {
  const adopt = s.provider.adopt;
  if (!adopt) return;
  for (const { instance, vmId } of s.adoptable) {
    try {
      await adopt(instance.id, s.host, vmId);
      notes.push(
        `INFO: adopted ${instance.id}, launched by OpenNebula's own driver for VM ${vmId}: now marked as this driver's on host ${s.host}`,
      );
    } catch (error) {
      notes.push(
        `WARNING: cannot adopt ${instance.id} of VM ${vmId}: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
  }
}

/**
 * The host's capacity: the driver configuration's, else the `CAPACITY` of the host's template,
 * asked of oned (`one.host.info`) as OpenNebula 5.4+'s EC2 probes did (monitord gives a 5.12+
 * probe only its monitoring configuration, not the host's template), unless the host's settings
 * already read the template; else, for a provider with
 * account quotas (a partner OpenNebula user's), what the quota leaves this host, when it caps
 * both CPU and memory. A host with none fails, saying how to set one.
 */
async function capacityOf(s: Surveyed): Promise<{ capacity: CapacitySpec; fromQuota?: true }> {
  const configured = s.settings.capacity;
  if (configured && Object.keys(configured).length > 0) return { capacity: configured };
  const read = s.settings.hostTemplate?.template;
  const attributes = read ? read.sections.CAPACITY : await import(
    "../lib/opennebula/local_oned.ts"
  ).then((m) => m.localOnedHostCapacity(s.hostId)).catch(() => undefined);
  if (attributes && Object.keys(attributes).length > 0) {
    return { capacity: capacityFromTemplate(attributes) };
  }
  const where = s.settings.source || "the driver configuration (HYBRID_DRIVER_CONFIG)";
  if (s.provider.quotaCapacity) {
    const quota = await s.provider.quotaCapacity();
    const held = s.listed.filter((i) => holdsCapacity(i, s.host));
    const sizes = await sizesOf(s, held);
    // Counted as the quota counts them: what it charges (a partner VM's CPU, not its VCPU).
    const capacity = capacityFromQuota(
      quota,
      held.map((i) => ({ size: chargeOf(i, sizes), running: true })),
    );
    if (capacityProblem(capacity) === undefined) return { capacity, fromQuota: true };
    throw new InvalidInputError(
      `Host ${s.host} has no capacity: its cloud account's quota caps ${
        capacity.vcpus !== undefined
          ? "CPU but not memory"
          : capacity.memoryGiB !== undefined
          ? "memory but not CPU"
          : "neither CPU nor memory"
      }; set "capacity" for it in ${where} (e.g. "capacity": {"vcpus": 16, "memoryGiB": 32}), CAPACITY in the host's template (e.g. CAPACITY=[VCPUS="16", MEMORY_GIB="32"]), or a CPU and MEMORY quota for the account, so that OpenNebula can place VMs on it`,
    );
  }
  throw new InvalidInputError(
    `Host ${s.host} has no capacity: set "capacity" for it in ${where}, the instances allowed per instance type (e.g. "capacity": {"t3.micro": 10}), or CAPACITY in the host's template (e.g. CAPACITY=[T3_MICRO="10"]), so that OpenNebula can place VMs on it`,
  );
}

/**
 * The host's figures, instances counted as its capacity counts them (what the account's quota
 * charges, for a capacity taken from it); a host without capacity fails, saying how to set it.
 */
async function figuresOf(s: Surveyed) {
  const { capacity, fromQuota } = await capacityOf(s);
  return hostFigures(s.host, capacity, s.provider, s.listed, fromQuota);
}

/**
 * The VMs oned has, when it can be asked (credentials in ONE_AUTH or ~/.one/one_auth); none
 * otherwise, and then no instance is called orphaned, nor taken as imported. When oned can be
 * asked but does not list its VMs, `note` says so: the probe then tells no orphan from a VM's
 * instance, and no imported instance from a wild one.
 */
async function localVms(): Promise<{ readonly known?: LocalVm[]; readonly note?: string }> {
  let oned: LocalOned;
  try {
    oned = await import("../lib/opennebula/local_oned.ts").then((m) => m.openLocalOned());
  } catch {
    return {};
  }
  try {
    return { known: await oned.vms() };
  } catch (error) {
    return {
      note: `WARNING: oned's VMs cannot be listed (${
        error instanceof Error ? error.message : String(error)
      }): instances whose VM oned no longer has, and instances OpenNebula imported, are not told apart this run`,
    };
  }
}

/**
 * The usage keys the local oned parses in a POLL string, from its version (4.14 renamed them);
 * `legacy` when oned cannot be asked (the probe's arguments do not tell 4.4 from 5.10).
 */
async function onedMonitoringKeys(): Promise<"legacy" | "current"> {
  try {
    const { localOnedVersion } = await import("../lib/opennebula/local_oned.ts");
    const { monitoringKeysFor } = await import("../lib/opennebula/one_api.ts");
    return monitoringKeysFor(await localOnedVersion());
  } catch {
    return "legacy";
  }
}

/** The resources of the sizes of some instances. */
function sizesOf(s: Surveyed, instances: readonly ListedInstance[]) {
  return s.provider.sizes([...new Set(instances.flatMap((i) => i.size ?? []))]);
}

function sizeOf(sizes: ReadonlyMap<string, Size>, instance: ListedInstance): Size | undefined {
  return instance.size === undefined ? undefined : sizes.get(instance.size);
}

/** The local oned of one probe run, opened on first need and once; undefined when it cannot be. */
function onedOfRun(): () => Promise<LocalOned | undefined> {
  let opened: Promise<LocalOned | undefined> | undefined;
  return () =>
    opened ??= import("../lib/opennebula/local_oned.ts").then((m) => m.openLocalOned()).catch(
      () => undefined,
    );
}

/** What a probe asks of oned about a VM it looks at. */
type VmQuestion = (vmId: number) => Promise<AskedVm>;

/** Asks oned about VMs (`one.vm.info`) for one run, each VM at most once. */
function vmQuestions(oned: () => Promise<LocalOned | undefined>): VmQuestion {
  const asked = new Map<number, Promise<AskedVm>>();
  return (vmId) => {
    let answer = asked.get(vmId);
    if (answer === undefined) {
      answer = Promise.all([oned(), import("../lib/opennebula/local_oned.ts")]).then((
        [o, m],
      ) => m.askVm(o, vmId));
      asked.set(vmId, answer);
    }
    return answer;
  };
}

/** Answers about VMs from oned's pool listing (`one.vmpool.info`) a probe already has. */
function poolAnswers(known: readonly LocalVm[] | undefined): VmQuestion {
  const byId = new Map(known?.map((vm) => [vm.id, vm]));
  return (vmId) => {
    if (known === undefined) return Promise.resolve("unanswered");
    const vm = byId.get(vmId);
    if (vm?.state === undefined || vm.lcmState === undefined) return Promise.resolve("unknown");
    const { state, lcmState, deployId } = vm;
    return Promise.resolve({ id: vmId, state, lcmState, ...(deployId ? { deployId } : {}) });
  };
}

/** The ids of the VMs oned has on the host (`one.host.info`); undefined when it cannot say. */
async function hostVmIds(
  hostId: number,
  oned: () => Promise<LocalOned | undefined>,
): Promise<Set<number> | undefined> {
  const o = await oned();
  if (o === undefined) return undefined;
  try {
    return new Set((await o.host(hostId)).vmIds);
  } catch {
    return undefined;
  }
}

/**
 * The host's live instances with at most one per VM: where several carry one VM's marks, oned
 * is asked once for that VM (see {@link resolveShared}).
 */
async function settleShared(
  own: readonly ListedInstance[],
  ask: VmQuestion,
): Promise<ResolvedInstances> {
  const shared = sharedVmIds(own);
  if (shared.length === 0) return { own: [...own], orphans: [], unresolved: [] };
  const { deployIdSettled } = await import("../lib/opennebula/vm_status.ts");
  const deployIds = new Map<number, string | undefined>();
  for (const vmId of shared) {
    const vm = await ask(vmId);
    if (typeof vm === "object" && deployIdSettled(vm)) deployIds.set(vmId, vm.deployId);
  }
  return resolveShared(own, deployIds);
}

/** oned's `STATE` of a VM that is done (terminated, deleted). */
const DONE = 6;
/**
 * How far the cloud's clock and oned's may disagree, in seconds, when an instance's start is
 * compared with its VM's creation.
 */
const CLOCK_SKEW_SECONDS = 300;

/** What {@link endInstancesOfDoneVms} did with instances whose VM is not on the host. */
interface DoneVmsOutcome {
  /** Instances of VMs oned still has (undeployed, stopped, elsewhere) or could not tell of. */
  readonly kept: ListedInstance[];
  /** Instances asked to terminate: their VM is DONE. */
  readonly ended: ListedInstance[];
  /** Instances of VMs oned does not have, or that cannot be the DONE VM's: orphans, left alone. */
  readonly orphans: ListedInstance[];
}

/**
 * Terminates the instances whose VM oned reports DONE: OpenNebula sends the driver nothing when
 * a powered-off or undeployed VM is terminated, so its stopped instance would outlive it. The
 * safety rule: an instance is terminated only when oned answers, for its VM, `STATE` 6 (DONE),
 * and the instance was not started before that VM was created (the id of another life of
 * oned's database). An unknown VM id (an orphan), an error, or an oned that cannot be asked
 * terminate nothing. The request is not waited for; what was done goes to `notes` (stderr).
 */
async function endInstancesOfDoneVms(
  provider: Provider,
  instances: readonly ListedInstance[],
  ask: VmQuestion,
  notes: string[],
): Promise<DoneVmsOutcome> {
  const outcome: DoneVmsOutcome = { kept: [], ended: [], orphans: [] };
  for (const instance of instances) {
    const vmId = instance.ownerVmId!;
    const vm: AskedVm = await ask(vmId);
    if (vm === "unanswered" || (typeof vm === "object" && vm.state !== DONE)) {
      outcome.kept.push(instance);
    } else if (vm === "unknown" || startedBefore(instance, vm)) {
      outcome.orphans.push(instance);
    } else {
      try {
        await provider.requestTerminate(instance.id);
        outcome.ended.push(instance);
        notes.push(`INFO: terminating ${instance.id}: OpenNebula has its VM ${vmId} DONE`);
      } catch (error) {
        outcome.orphans.push(instance);
        notes.push(
          `WARNING: cannot terminate ${instance.id} of VM ${vmId} (DONE): ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
      }
    }
  }
  return outcome;
}

/** Whether an instance was started before a VM was created: then it cannot be that VM's. */
function startedBefore(instance: ListedInstance, vm: OneVmInfo): boolean {
  return instance.launchedAt !== undefined && vm.createdAt !== undefined &&
    instance.launchedAt + CLOCK_SKEW_SECONDS < vm.createdAt;
}

/**
 * The usage figures of the host's VMs, when the host reads them: its running instances among
 * those the probe reports are read, at most once per period.
 */
function usageOf(
  s: Surveyed,
  run: ActionRun,
  reported: readonly ListedInstance[],
): Promise<HostUsage | undefined> {
  return hostUsage(s, run, () => runningTargets(s.provider, reported));
}

/** `im_poll`: the 4.4–5.10 report of the host, its VMs and the wild instances. */
export async function imPoll(argv: readonly string[], run: ActionRun): Promise<Report> {
  const s = await survey("poll", argv, run, true);
  const figures = await figuresOf(s);
  const sorted = sortInstances(s.listed, s.host, s.knownVms);
  const notes: string[] = [...s.notes];
  await adoptAll(s, notes);
  let orphans = sorted.orphans;
  if (s.known !== undefined && orphans.length > 0) {
    // Every poll (MONITORING_INTERVAL) ends the instances of DONE VMs: 4.4-5.10 have no other
    // probe that runs every cycle.
    const done = await endInstancesOfDoneVms(
      s.provider,
      orphans,
      vmQuestions(onedOfRun()),
      notes,
    );
    orphans = [...done.kept, ...done.orphans];
  }
  const settled = await settleShared(sorted.own, poolAnswers(s.known));
  const own = settled.own;
  const wild = sorted.wild;
  const sizes = await sizesOf(s, [...own, ...wild]);
  const keys = s.settings.monitoringKeys ?? await onedMonitoringKeys();
  const usage = await usageOf(s, run, own);
  notes.push(...usage?.notes ?? []);
  const lines = [
    ...legacyHostLines({ hypervisor: s.sectionType, host: s.host, figures }),
    ...orphanLines([...orphans, ...settled.orphans]),
    "VM_POLL=YES",
  ];
  for (const instance of [...own, ...wild]) {
    const template = importTemplate(
      instance,
      s.host,
      s.sectionType,
      sizeOf(sizes, instance),
      "4.14",
    );
    lines.push(...legacyVmLines(
      instance.launchedByDriver ? instance.ownerVmId! : -1,
      instance.id,
      base64(template),
      formatMonitoring(instance, s.provider.factPrefix, keys, usage?.figures.get(instance.id)),
    ));
  }
  return { lines, notes };
}

/** `host_system` (5.12+): totals, orphans, and the wild instances to import. */
export async function hostSystem(argv: readonly string[], run: ActionRun): Promise<Report> {
  const s = await survey("host/system", argv, run, true);
  const figures = await figuresOf(s);
  const { own, wild, orphans } = sortInstances(s.listed, s.host, s.knownVms);
  const notes = [...s.notes];
  await adoptAll(s, notes);
  const settled = await settleShared(own, poolAnswers(s.known));
  const sizes = await sizesOf(s, wild);
  const lines = [
    `HYPERVISOR=${s.sectionType}`,
    "PUBLIC_CLOUD=YES",
    "PRIORITY=-1",
    `TOTALCPU=${figures.totalCpu}`,
    `TOTALMEMORY=${figures.totalMemoryKiB}`,
    ...orphanLines([...orphans, ...settled.orphans]),
  ];
  for (const instance of wild) {
    const template = importTemplate(
      instance,
      s.host,
      s.sectionType,
      sizeOf(sizes, instance),
      "5.12",
    );
    lines.push(vmTemplateLine([
      ["UUID", instance.id],
      ["ID", "-1"],
      ["DEPLOY_ID", instance.id],
      ["TYPE", instance.size ?? ""],
      ["STATE", statusWord(instance)],
      ["IMPORT_TEMPLATE", base64(template)],
      ["VM_NAME", instance.name ?? instance.id],
    ]));
  }
  return { lines, notes };
}

/** `host_monitor` (5.12+): what this host's instances use, and what is left. */
export async function hostMonitor(argv: readonly string[], run: ActionRun): Promise<Report> {
  const s = await survey("host/monitor", argv, run);
  const f = await figuresOf(s);
  return {
    lines: [
      `HYPERVISOR=${s.sectionType}`,
      "PUBLIC_CLOUD=YES",
      `USEDCPU=${f.usedCpu}`,
      `USEDMEMORY=${f.usedMemoryKiB}`,
      `FREECPU=${f.freeCpu}`,
      `FREEMEMORY=${f.freeMemoryKiB}`,
    ],
  };
}

/**
 * `vm_monitor` (5.12+): each VM of this host with its monitoring string, base64. It runs every
 * cycle (`MONITOR_VM`, 30 s by default), so it also ends the instances of DONE VMs: after the
 * listing, oned is asked for the host's VMs (`one.host.info`), and for each VM id a live
 * instance carries that is not among them, for that VM (`one.vm.info`). An instance whose VM
 * oned does not have is an orphan, not reported as a VM.
 */
export async function vmMonitor(argv: readonly string[], run: ActionRun): Promise<Report> {
  const s = await survey("vm/monitor", argv, run);
  const { own } = sortInstances(s.listed, s.host, undefined);
  const oned = onedOfRun();
  const ask = vmQuestions(oned);
  const notes: string[] = [];
  let reported = own;
  const onHost = await hostVmIds(s.hostId, oned);
  if (onHost !== undefined) {
    const elsewhere = own.filter((i) => !onHost.has(i.ownerVmId!));
    const { kept } = await endInstancesOfDoneVms(s.provider, elsewhere, ask, notes);
    reported = own.filter((i) => onHost.has(i.ownerVmId!) || kept.includes(i));
  }
  const settled = await settleShared(reported, ask);
  const usage = await usageOf(s, run, settled.own);
  notes.push(...usage?.notes ?? []);
  return {
    lines: settled.own.map((instance) => {
      // The state travels in vm/status; the monitoring string keeps the usage and the facts.
      const figures = usage?.figures.get(instance.id);
      const monitor = formatMonitoring(instance, s.provider.factPrefix, "current", figures)
        .replace(/^STATE=\S+ ?/, "");
      return vmTemplateLine([
        ["UUID", instance.id],
        ["ID", String(instance.ownerVmId)],
        ["NAME", instance.name ?? instance.id],
        ["DEPLOY_ID", instance.id],
        ["TYPE", instance.size ?? ""],
        ["STATE", statusWord(instance)],
        ["MONITOR", base64(monitor)],
      ]);
    }),
    notes,
  };
}

/** Now, in epoch seconds. */
function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * `vm_status` (5.12+): the VMs whose deploy id or state changed since the last run, and every
 * few minutes the full list, when it can leave out no VM whose instance lives (see
 * `lib/opennebula/vm_status.ts`). The memory between runs is a file in
 * `HYBRID_PROBE_STATE_DIR` (the launcher sets it to the `im/` directory, where 5.12+ keeps its
 * own probes' databases).
 */
export async function vmStatus(argv: readonly string[], run: ActionRun): Promise<Report> {
  const s = await survey("vm/status", argv, run);
  const status = await import("../lib/opennebula/vm_status.ts");
  const dir = Deno.env.get("HYBRID_PROBE_STATE_DIR");
  if (!dir) throw new InvalidInputError("vm/status: HYBRID_PROBE_STATE_DIR is not set");
  const file = `${dir}/status_${s.settings.provider}_${s.hostId}.json`;
  const previous = status.parseStatusMemory(await Deno.readTextFile(file).catch(() => undefined));
  const { own } = sortInstances(s.listed, s.host, undefined);
  const oned = onedOfRun();
  const ask = vmQuestions(oned);
  const settled = await settleShared(own, ask);
  const current: StatusVm[] = settled.own.map((i) => ({
    id: i.ownerVmId!,
    deployId: i.id,
    state: statusWord(i),
  }));
  let full = settled.unresolved.length === 0 && status.fullListDue(previous, nowSeconds());
  if (full) {
    const more = await unlistedVms(s, current, oned, ask);
    if (more === undefined) full = false;
    else current.push(...more);
  }
  const { lines, memory } = status.statusRun(previous, current, nowSeconds(), full);
  try {
    await writeTextAtomically(file, JSON.stringify(memory));
  } catch (error) {
    throw new InvalidInputError(
      `vm/status: cannot keep its state in ${file}: ${
        error instanceof Error ? error.message : error
      }`,
    );
  }
  return { lines };
}

/**
 * What a full list must add to the VMs the listing showed, so that oned takes no VM as missing
 * whose instance lives; undefined when no full list can be sent this run. Asked after the
 * listing, so that a VM deployed meanwhile is seen: the host's VMs (`one.host.info`), and for
 * each one the listing did not show, the VM (`one.vm.info`) and, when oned would take it as
 * missing, its instance (`describe`).
 */
async function unlistedVms(
  s: Surveyed,
  listed: readonly StatusVm[],
  oned: () => Promise<LocalOned | undefined>,
  ask: VmQuestion,
): Promise<StatusVm[] | undefined> {
  const onHost = await hostVmIds(s.hostId, oned);
  if (onHost === undefined) return undefined;
  const { describedCheck, hostVmCheck } = await import("../lib/opennebula/vm_status.ts");
  const shown = new Set(listed.map((vm) => vm.id));
  const added: StatusVm[] = [];
  for (const vmId of onHost) {
    if (shown.has(vmId)) continue;
    const vm = await ask(vmId);
    if (typeof vm !== "object") return undefined;
    const check = hostVmCheck(vm);
    if (check === "postpone") return undefined;
    if (check !== "describe") continue;
    const deployId = vm.deployId!;
    let verdict;
    let state = "UNKNOWN";
    try {
      const instance = await s.provider.describe(deployId);
      state = statusWord(instance);
      verdict = describedCheck({ found: true, state: instance.state }, undefined, 0, 0);
    } catch (error) {
      // Not an id of this cloud: no instance of it can be the VM's.
      if (error instanceof InvalidInputError) continue;
      verdict = describedCheck(
        { found: false, notFound: error instanceof NotFoundError },
        vm.runningSince,
        nowSeconds(),
        s.settings.notFoundGraceSeconds,
      );
    }
    if (verdict === "postpone") return undefined;
    if (verdict === "include") added.push({ id: vmId, deployId, state });
  }
  return added;
}

/**
 * `orphans [--terminate-done] <host>`: this host's instances whose VM oned no longer has, one a
 * line (`<instance id> VM <vm id> <state>`), and the instances carrying a VM's marks that are
 * not the one oned knows. Nothing is changed, except with `--terminate-done`: then the
 * instances whose VM oned reports DONE are asked to terminate (the probes' own rule; the line
 * ends with `terminating`). Fails when oned cannot be asked.
 */
export async function orphans(argv: readonly string[], run: ActionRun): Promise<Report> {
  const terminate = argv[0] === "--terminate-done";
  const rest = terminate ? argv.slice(1) : argv;
  if (rest.length !== 1 || !rest[0]?.trim() || rest[0].startsWith("-")) {
    throw new InvalidInputError(
      `orphans: expected the host name, after --terminate-done or alone; got ${
        JSON.stringify(argv.join(" "))
      }`,
    );
  }
  const host = rest[0];
  const { provider } = await openHost(host, `the orphan listing of host ${host}`, run);
  const { localOnedVms, openLocalOned } = await import("../lib/opennebula/local_oned.ts");
  const known = await localOnedVms();
  const listed = adoptImported(await provider.list(), known);
  const sorted = sortInstances(listed, host, new Set(known.map((vm) => vm.id)));
  const settled = await settleShared(sorted.own, poolAnswers(known));
  const notes: string[] = [];
  let ended: ListedInstance[] = [];
  if (terminate) {
    const oned = await openLocalOned();
    const ask = vmQuestions(() => Promise.resolve(oned));
    ended = (await endInstancesOfDoneVms(provider, sorted.orphans, ask, notes)).ended;
  }
  return {
    lines: [...sorted.orphans, ...settled.orphans].map((i) =>
      `${i.id} VM ${i.ownerVmId} ${i.nativeState}${ended.includes(i) ? " terminating" : ""}`
    ),
    notes,
  };
}
