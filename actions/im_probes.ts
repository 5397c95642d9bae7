/**
 * The host probes: the cloud reported to OpenNebula's information drivers as one host.
 *
 * - `im_poll` (4.4–5.10, `im/<name>.d/poll`): capacity, then every VM of the host and every
 *   wild instance to import, in one report;
 * - `host_system`, `host_monitor`, `vm_monitor`, `vm_status` (5.12+, `im/<name>-probes.d/`):
 *   the same split the way monitord asks for it;
 * - `orphans <host>`: this host's instances whose VM oned no longer has, for the operator.
 *
 * Each probe makes one listing of the host's account and region (`Provider.list()`), and keeps
 * it for the polls of the host's VMs within `pollWindowSeconds` (`lib/poll_state.ts`). Probes
 * take `... <host_id> <host>` as their last two arguments, as oned passes them.
 *
 * @module
 */

import type { ActionRun, Report } from "../lib/action.ts";
import { writeTextAtomically } from "../lib/atomic_write.ts";
import {
  capacityFromQuota,
  capacityFromTemplate,
  capacityProblem,
  type CapacitySpec,
  holdsCapacity,
  hostFigures,
} from "../lib/capacity.ts";
import { InvalidInputError } from "../lib/errors.ts";
import {
  adoptImported,
  base64,
  importTemplate,
  legacyHostLines,
  legacyVmLines,
  orphanLines,
  parseProbeArgs,
  sortInstances,
  statusWord,
  vmTemplateLine,
} from "../lib/opennebula/im_probes.ts";
import { formatMonitoring } from "../lib/opennebula/monitoring.ts";
import { openHost, sharedPollState } from "../lib/providers.ts";
import type { ListedInstance, Provider, Size } from "../lib/provider.ts";
import type { HostSettings } from "../lib/config.ts";
import type { LocalVm } from "../lib/opennebula/one_api.ts";

/** A host's settings, provider and listing, opened for one probe. */
interface Surveyed {
  readonly host: string;
  readonly hostId: number;
  readonly settings: HostSettings;
  readonly sectionType: string;
  readonly provider: Provider;
  /** The listing, instances OpenNebula imported owned by their VM (when oned was asked). */
  readonly listed: ListedInstance[];
  /** The VM ids oned has, when the probe names orphans and oned could be asked. */
  readonly knownVms: Set<number> | undefined;
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
  );
  const takenAt = Date.now();
  const listed = await provider.list();
  if (settings.pollWindowSeconds > 0) {
    // The VMs' own polls (one process each, 3.2-4.x, or any VM outside this report) are served
    // from this listing within the window. Sharing is only a saving: the report does not fail
    // for it.
    await sharedPollState({ settings, kind }).then((state) =>
      state.record(takenAt, { factPrefix: provider.factPrefix, instances: listed })
    ).catch(() => {});
  }
  const unmarked = listed.some((i) =>
    !i.launchedByDriver && i.state !== "terminated" && i.state !== "terminating"
  );
  const known = namesOrphans || unmarked ? await localVms() : undefined;
  return {
    host,
    hostId,
    settings,
    sectionType: kind.sectionType,
    provider,
    listed: known ? adoptImported(listed, known) : listed,
    knownVms: namesOrphans && known ? new Set(known.map((vm) => vm.id)) : undefined,
  };
}

/**
 * The host's capacity: the driver configuration's, else the `CAPACITY` of the host's template,
 * asked of oned (`one.host.info`) as OpenNebula 5.4+'s EC2 probes did: monitord gives a 5.12+
 * probe only its monitoring configuration, not the host's template; else, for a provider with
 * account quotas (a partner OpenNebula user's), what the quota leaves this host, when it caps
 * both CPU and memory. A host with none fails, saying how to set one.
 */
async function capacityOf(s: Surveyed): Promise<CapacitySpec> {
  const configured = s.settings.capacity;
  if (configured && Object.keys(configured).length > 0) return configured;
  const attributes = await import("../lib/opennebula/local_oned.ts").then(
    (m) => m.localOnedHostCapacity(s.hostId),
  ).catch(() => undefined);
  if (attributes && Object.keys(attributes).length > 0) return capacityFromTemplate(attributes);
  const where = s.settings.source || "the driver configuration (HYBRID_DRIVER_CONFIG)";
  if (s.provider.quotaCapacity) {
    const quota = await s.provider.quotaCapacity();
    const held = s.listed.filter((i) => holdsCapacity(i, s.host));
    const sizes = await sizesOf(s, held);
    const capacity = capacityFromQuota(
      quota,
      held.map((i) => ({ size: sizeOf(sizes, i), running: true })),
    );
    if (capacityProblem(capacity) === undefined) return capacity;
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

/** The host's figures; a host without capacity fails, saying how to set it. */
async function figuresOf(s: Surveyed) {
  return hostFigures(s.host, await capacityOf(s), s.provider, s.listed);
}

/**
 * The VMs oned has, when it can be asked (credentials in ONE_AUTH or ~/.one/one_auth);
 * undefined otherwise, and then no instance is called orphaned, nor taken as imported.
 */
async function localVms(): Promise<LocalVm[] | undefined> {
  try {
    const { localOnedVms } = await import("../lib/opennebula/local_oned.ts");
    return await localOnedVms();
  } catch {
    return undefined;
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

/** `im_poll`: the 4.4–5.10 report of the host, its VMs and the wild instances. */
export async function imPoll(argv: readonly string[], run: ActionRun): Promise<Report> {
  const s = await survey("poll", argv, run, true);
  const figures = await figuresOf(s);
  const { own, wild, orphans } = sortInstances(s.listed, s.host, s.knownVms);
  const sizes = await sizesOf(s, [...own, ...wild]);
  const keys = s.settings.monitoringKeys ?? await onedMonitoringKeys();
  const lines = [
    ...legacyHostLines({ hypervisor: s.sectionType, host: s.host, figures }),
    ...orphanLines(orphans),
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
      formatMonitoring(instance, s.provider.factPrefix, keys),
    ));
  }
  return { lines };
}

/** `host_system` (5.12+): totals, orphans, and the wild instances to import. */
export async function hostSystem(argv: readonly string[], run: ActionRun): Promise<Report> {
  const s = await survey("host/system", argv, run, true);
  const figures = await figuresOf(s);
  const { wild, orphans } = sortInstances(s.listed, s.host, s.knownVms);
  const sizes = await sizesOf(s, wild);
  const lines = [
    `HYPERVISOR=${s.sectionType}`,
    "PUBLIC_CLOUD=YES",
    "PRIORITY=-1",
    `TOTALCPU=${figures.totalCpu}`,
    `TOTALMEMORY=${figures.totalMemoryKiB}`,
    ...orphanLines(orphans),
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
  return { lines };
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

/** `vm_monitor` (5.12+): each VM of this host with its monitoring string, base64. */
export async function vmMonitor(argv: readonly string[], run: ActionRun): Promise<Report> {
  const s = await survey("vm/monitor", argv, run);
  const { own } = sortInstances(s.listed, s.host, undefined);
  return {
    lines: own.map((instance) => {
      // The state travels in vm/status; the monitoring string keeps the usage and the facts.
      const monitor = formatMonitoring(instance, s.provider.factPrefix, "current")
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
  };
}

/**
 * `vm_status` (5.12+): the VMs whose state changed since the last run, those missing for
 * several runs as `UNKNOWN`, and every few minutes the full list. The memory between runs is
 * a file in `HYBRID_PROBE_STATE_DIR` (the launcher sets it to the `im/` directory, where 5.12+
 * keeps its own probes' databases).
 */
export async function vmStatus(argv: readonly string[], run: ActionRun): Promise<Report> {
  const s = await survey("vm/status", argv, run);
  const { parseStatusMemory, statusRun } = await import("../lib/opennebula/vm_status.ts");
  const dir = Deno.env.get("HYBRID_PROBE_STATE_DIR");
  if (!dir) throw new InvalidInputError("vm/status: HYBRID_PROBE_STATE_DIR is not set");
  const file = `${dir}/status_${s.settings.provider}_${s.hostId}.json`;
  const text = await Deno.readTextFile(file).catch(() => undefined);
  const { own } = sortInstances(s.listed, s.host, undefined);
  const current = own.map((i) => ({ id: i.ownerVmId!, deployId: i.id, state: statusWord(i) }));
  const { lines, memory } = statusRun(
    parseStatusMemory(text),
    current,
    Math.floor(Date.now() / 1000),
  );
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
 * `orphans <host>`: this host's instances whose VM oned no longer has, one a line
 * (`<instance id> VM <vm id> <state>`). Nothing is changed; fails when oned cannot be asked.
 */
export async function orphans(argv: readonly string[], run: ActionRun): Promise<Report> {
  if (argv.length !== 1 || !argv[0]?.trim()) {
    throw new InvalidInputError(
      `orphans: expected one argument, the host name; got ${argv.length}`,
    );
  }
  const host = argv[0];
  const { provider } = await openHost(host, `the orphan listing of host ${host}`, run);
  const { localOnedVms } = await import("../lib/opennebula/local_oned.ts");
  const known = await localOnedVms();
  const listed = adoptImported(await provider.list(), known);
  const found = sortInstances(listed, host, new Set(known.map((vm) => vm.id))).orphans;
  return { lines: found.map((i) => `${i.id} VM ${i.ownerVmId} ${i.nativeState}`) };
}
