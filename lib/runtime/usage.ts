/**
 * The usage figures (CPU, network) a monitoring run reports for a host's VMs, when the host's
 * settings ask its cloud's metrics service for them (EC2: `cloudWatch`): served from the host's
 * memory while its last read is younger than a period, else read once for all the host's
 * running instances (`lib/core/usage_state.ts`). Figures are extras: whatever goes wrong with
 * them becomes a note, and the run reports its VMs without them.
 *
 * @module
 */

import type { HostSettings } from "../core/config.ts";
import { pollStateDir } from "../core/poll_state.ts";
import type { ActionTime, ListedInstance, Provider, ProviderKind } from "../core/provider.ts";
import type { VmUsage } from "../core/usage.ts";
import type { UsageTarget } from "../core/usage_state.ts";
import { DeadlineError } from "../util/errors.ts";

/**
 * The longest a run spends on usage figures, in milliseconds, waiting for another process's
 * read included: a third of what a monitoring run may take, so its report is never late.
 */
const USAGE_BUDGET_MS = 10_000;

/** What a run reports of its host's usage. */
export interface HostUsage {
  /** Each instance's figures, by id. */
  readonly figures: ReadonlyMap<string, VmUsage>;
  /** What went wrong, for standard error (`WARNING: ...`). */
  readonly notes: readonly string[];
}

/**
 * The usage figures of a host's VMs for this run; undefined when the host reads none (the
 * default).
 *
 * @param host The host's settings and kind.
 * @param time The run's signal and deadline.
 * @param targets The host's running instances, asked only when the metrics service is read.
 * @returns The figures and notes; never throws.
 */
export async function hostUsage(
  host: { readonly settings: HostSettings; readonly kind: ProviderKind },
  time: ActionTime,
  targets: () => Promise<readonly UsageTarget[]>,
): Promise<HostUsage | undefined> {
  const deadline = Math.min(time.deadline(), Date.now() + USAGE_BUDGET_MS);
  const budget = new AbortController();
  const timer = setTimeout(
    () => budget.abort(new DeadlineError("Timed out while reading the VMs' usage")),
    deadline - Date.now(),
  );
  const signal = AbortSignal.any([time.signal, budget.signal]);
  try {
    const reader = host.kind.usageReader?.(host.settings, { signal, deadline: () => deadline });
    if (reader === undefined) return undefined;
    try {
      // Loaded only for a host that reads usage: the others' runs stay as small as before.
      const { UsageState } = await import("../core/usage_state.ts");
      const state = await UsageState.open({
        dir: pollStateDir(host.settings.pollStateDir),
        kind: host.kind.name,
        scope: host.kind.listingScope(host.settings, Deno.env),
        host: host.settings.host,
        periodSeconds: reader.periodSeconds,
      });
      const served = await state.usage({ targets, read: reader.read }, signal);
      const failed = served.readHere && served.failure !== undefined;
      return {
        figures: served.figures,
        notes: failed ? [`WARNING: no usage from ${reader.service}: ${served.failure}`] : [],
      };
    } catch (error) {
      return {
        figures: new Map(),
        notes: [
          `WARNING: no usage from ${reader.service}: ${
            error instanceof Error ? error.message : String(error)
          }`,
        ],
      };
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The instances of a host whose usage is read: the running (and booting) ones, each with its
 * vCPUs (from the listing, else from its size; unknown when neither says).
 *
 * @param provider The host's provider, for sizes the listing does not give.
 * @param instances The host's instances.
 * @returns The targets.
 */
export async function runningTargets(
  provider: Provider,
  instances: readonly ListedInstance[],
): Promise<UsageTarget[]> {
  const running = instances.filter((i) => i.state === "running" || i.state === "pending");
  const unsized = [
    ...new Set(running.flatMap((i) => i.vcpus === undefined && i.size ? [i.size] : [])),
  ];
  const sizes = unsized.length === 0
    ? new Map()
    : await provider.sizes(unsized).catch(() => new Map());
  return running.map((i) => {
    const vcpus = i.vcpus ?? (i.size === undefined ? undefined : sizes.get(i.size)?.vcpus);
    return { id: i.id, ...(vcpus !== undefined ? { vcpus } : {}) };
  });
}
