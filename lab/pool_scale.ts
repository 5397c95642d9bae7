/**
 * What listing large pools costs the built probes (docs/performance.md): a partner host whose
 * user has 10,000 VMs, and a local oned with 50,000, against the stand-ins of the tests
 * (`tests/partner_oned.ts`, full documents of 6.x's size; `tests/oned_xmlrpc.ts`), next to
 * the same probes over pools of 10. Each probe runs as oned runs it, a process of its own
 * measured by `/usr/bin/time -v` (wall time, CPU, peak RSS), and its answer is checked:
 *
 * - `host/monitor` lists the partner's VMs only; its `USEDCPU` must count every one of them.
 * - `host/system` lists the partner's VMs and oned's; its `ORPHANED_INSTANCES` must name
 *   exactly the partner VMs marked for a VM oned does not have.
 *
 * The stand-ins run in this process and share the machine with the probe: wall time includes
 * their answers. Compare ratios with the small pools' row, not milliseconds across machines.
 *
 * Usage: `deno task build`, then `deno run -A lab/pool_scale.ts --help`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { handMadeVm, startPartnerOned } from "../tests/partner_oned.ts";
import { startFakeOned } from "../tests/oned_xmlrpc.ts";
import { parseCli } from "../scripts/cli.ts";

const USAGE = `Usage: deno run -A lab/pool_scale.ts [--partner 10000] [--local 50000] [--runs 3]

Measures the built probes (dist/, run deno task build first) listing a partner user's VMs and
the local oned's VMs, each pool read page by page: wall time, CPU and peak RSS of the probe
process (/usr/bin/time -v), pool calls, next to the same probes over pools of 10.

  --partner N   the partner user's VMs (10000)
  --local N     the local oned's VMs (50000)
  --runs N      runs of each probe; the median is shown (3)

Exit status: 0 measured, 1 a probe failed or answered wrong, 2 bad command line.`;

/** The options, each a number with its default. */
const OPTIONS = {
  partner: { type: "string", default: "10000" },
  local: { type: "string", default: "50000" },
  runs: { type: "string", default: "3" },
} as const;
const { values } = parseCli("pool_scale", USAGE, () => parseArgs({ options: OPTIONS }));
const counts = {
  partner: whole("--partner", values.partner!, 10),
  local: whole("--local", values.local!, 10),
  runs: whole("--runs", values.runs!, 1),
};

/** A whole number at least `least` from the command line, or exit 2. */
function whole(option: string, text: string, least: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < least) {
    console.error(`pool_scale: ${option} wants a whole number of at least ${least}, not "${text}"`);
    Deno.exit(2);
  }
  return n;
}

const DIST = new URL("../dist", import.meta.url).pathname;
const HOST = "scale";
const HOST_ID = 90;
/** Partner VMs marked for a VM oned does not have: host/system must name them as orphans. */
const ORPHANS = 3;

/** One probe run as `/usr/bin/time -v` measured it. */
interface Run {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly rssKiB: number;
  readonly stdout: string;
  readonly partnerCalls: number;
  readonly onedCalls: number;
}

/** What was measured of one probe over one pair of pools (medians). */
interface Row {
  readonly probe: string;
  readonly partner: number;
  readonly local: number;
  readonly partnerCalls: number;
  readonly onedCalls: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly rssKiB: number;
}

/** Seconds of `h:mm:ss` or `m:ss.cc`, as time -v writes the elapsed time. */
function elapsedMs(text: string): number {
  return text.split(":").reduce((total, part) => total * 60 + Number(part), 0) * 1000;
}

/** A figure of time -v's report. */
function figure(report: string, label: string): string {
  const line = report.split("\n").find((l) => l.trim().startsWith(`${label}:`));
  if (line === undefined) throw new Error(`time -v did not report "${label}"`);
  return line.slice(line.indexOf(label) + label.length + 1).trim();
}

/** The median of numbers. */
function median(numbers: readonly number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Measures the probes over a partner pool and a local pool of these sizes. */
async function measure(partnerVms: number, localVms: number): Promise<Row[]> {
  const tmp = await Deno.makeTempDir({ prefix: "hybrid-pool-scale-" });
  await using partner = await startPartnerOned({ password: "Scale-s3cret" });
  await using oned = await startFakeOned({ user: "oneadmin", password: "scale-pass" });
  try {
    // Every partner VM is the driver's, for a VM of this host; the first ORPHANS for VMs oned
    // does not have. oned has the others on this host, and the rest of its VMs elsewhere.
    for (let i = 0; i < partnerVms; i++) {
      const vmId = 1_000_000 + i;
      partner.vms.set(
        i,
        handMadeVm(i, {
          name: `one-${vmId}-${HOST}`,
          user: {
            REMOTE_OPENNEBULA: "YES",
            REMOTE_OPENNEBULA_VM_ID: String(vmId),
            ONE_HYBRID_HOST: HOST,
            ONE_HYBRID_DRIVER: "one-hybrid",
          },
        }),
      );
      if (i >= ORPHANS) {
        oned.setVm(vmId, { state: 3, lcmState: 3, deployId: `opennebula-hybrid-${i}`, host: HOST });
      }
    }
    for (let vmId = 0; vmId < localVms - (partnerVms - ORPHANS); vmId++) {
      oned.setVm(vmId, { state: 3, lcmState: 3, deployId: `i-${vmId}`, host: "kvm-1" });
    }
    oned.setHost(HOST_ID, HOST);
    await Deno.writeTextFile(`${tmp}/one_auth`, "oneadmin:scale-pass\n");
    const config = `${tmp}/hybrid_driver.json`;
    // A capacity far above what the VMs use: the probes report, never refuse.
    const capacity = { vcpus: 1_000_000, memoryGiB: 1_000_000 };
    const host = { provider: "opennebula", endpoint: partner.url, capacity };
    const account = { user: "partner", password: "Scale-s3cret" };
    const settings = { hosts: { [HOST]: { ...host, ...account } } };
    await Deno.writeTextFile(config, JSON.stringify(settings), { mode: 0o600 });
    const env = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: tmp,
      HYBRID_DRIVER_CONFIG: config,
      ONE_XMLRPC: oned.url,
      ONE_AUTH: `${tmp}/one_auth`,
    };
    const run = async (path: string): Promise<Run> => {
      const dir = `${DIST}/im/provider-probes.d/${path}`;
      const probe = [...Deno.readDirSync(dir)].map((e) => e.name).find((n) =>
        n.startsWith("probe")
      );
      if (probe === undefined) throw new Error(`no probe in ${dir}: run deno task build first`);
      const [partnerBefore, onedBefore] = [partner.calls.length, oned.calls.length];
      const output = await new Deno.Command("/usr/bin/time", {
        args: ["-v", `./${probe}`, "provider", "/var/lib/one//datastores", "4124", "20"]
          .concat([String(HOST_ID), HOST]),
        cwd: dir,
        env,
        clearEnv: true,
        stdin: "null",
      }).output();
      const stdout = new TextDecoder().decode(output.stdout);
      const report = new TextDecoder().decode(output.stderr);
      if (!output.success) throw new Error(`${path} failed: ${stdout}${report}`);
      return {
        wallMs: elapsedMs(figure(report, "Elapsed (wall clock) time (h:mm:ss or m:ss)")),
        cpuMs: (Number(figure(report, "User time (seconds)")) +
          Number(figure(report, "System time (seconds)"))) * 1000,
        rssKiB: Number(figure(report, "Maximum resident set size (kbytes)")),
        stdout,
        partnerCalls: partner.calls.length - partnerBefore,
        onedCalls: oned.calls.length - onedBefore,
      };
    };
    const expected: Record<string, (stdout: string) => boolean> = {
      "host/monitor": (out) => out.includes(`\nUSEDCPU=${partnerVms * 100}\n`),
      "host/system": (out) => {
        const named = /^ORPHANED_INSTANCES="([^"]*)"$/m.exec(out)?.[1]?.split(",") ?? [];
        const orphans = Array.from({ length: ORPHANS }, (_, i) => `opennebula-hybrid-${i}`);
        return named.sort().join() === orphans.join();
      },
    };
    const rows: Row[] = [];
    for (const [probe, right] of Object.entries(expected)) {
      const runs: Run[] = [];
      for (let i = 0; i < counts.runs; i++) {
        const result = await run(probe);
        if (!right(result.stdout)) {
          throw new Error(
            `${probe} over ${partnerVms}/${localVms} VMs answered:\n${result.stdout}`,
          );
        }
        runs.push(result);
      }
      rows.push({
        probe,
        partner: partnerVms,
        local: localVms,
        partnerCalls: median(runs.map((r) => r.partnerCalls)),
        onedCalls: median(runs.map((r) => r.onedCalls)),
        wallMs: median(runs.map((r) => r.wallMs)),
        cpuMs: median(runs.map((r) => r.cpuMs)),
        rssKiB: median(runs.map((r) => r.rssKiB)),
      });
    }
    return rows;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

const rows = [...await measure(10, 10), ...await measure(counts.partner, counts.local)];
const small = new Map(rows.filter((r) => r.partner === 10).map((r) => [r.probe, r]));
console.log(
  "| probe | partner VMs | local VMs | calls (partner + oned) | wall | CPU | peak RSS | x small |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  const base = small.get(r.probe)!;
  console.log(
    `| ${r.probe} | ${r.partner} | ${r.local} | ${r.partnerCalls} + ${r.onedCalls} | ${
      Math.round(r.wallMs)
    } ms | ${Math.round(r.cpuMs)} ms | ${Math.round(r.rssKiB / 1024)} MB | x${
      (r.wallMs / base.wallMs).toFixed(1)
    } |`,
  );
}
