/**
 * What the built actions cost, whole process, measured in one run so that the ratios mean
 * something on a noisy machine (docs/performance.md):
 *
 * - per action: median and p95 wall time, median CPU (user + system) and peak RSS over repeated
 *   runs, next to a bare start-up of the same Deno runtime (an empty script), with the ratio;
 *   the cases run interleaved, one round after another, each action in its own process. The
 *   local endpoint changes state at once, so the time EC2 takes to change state is not counted.
 * - the floor: what start-up is made of (the runtime, `node:` compatibility, the driver's own
 *   modules, the SDK's import, the V8 code cache).
 * - one poll cycle of 1, 100 and 1000 VMs: EC2 calls and total CPU, as independent `poll`
 *   processes without and with shared state (`pollWindowSeconds`), and through the 5.12+ VM
 *   monitor probe that reports every VM of the host.
 *
 * Each process is measured by a small python3 helper with `wait4()`, which gives the child's own
 * CPU time and peak RSS.
 *
 * Usage: `deno task bench --help`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { RunInstancesCommand } from "@aws-sdk/client-ec2";
import { AMAZON_LINUX_AMI, startEc2Endpoint, TEST_CREDENTIALS } from "../tests/ec2_endpoint/mod.ts";
import { clientFor } from "../tests/ec2_endpoint/testing.ts";
import { actionData, vmDeployment } from "../tests/deployments.ts";
import { DIST_VMM, oneBase64, writeLocalConfig } from "../tests/harness.ts";
import { instanceTags } from "../lib/providers/ec2/tags.ts";
import { parseCli } from "../scripts/cli.ts";

const USAGE = `Usage: deno task bench [--runs 15] [--sizes 1,100,1000] [--sample 50] [--json FILE]

Measures the built actions (dist/) against the local endpoint: wall time, CPU and peak memory
of each whole process next to a bare Deno start-up, and the EC2 calls and CPU of a poll cycle.

  --runs N       runs of each action (15)
  --sizes LIST   VMs in the poll cycles (1,100,1000)
  --sample N     at most N independent polls per cycle are run, the rest extrapolated (50)
  --json FILE    also write the figures as JSON

Exit status: 0 measured, 1 failed, 2 bad command line.`;

const { values } = parseCli("bench", USAGE, () =>
  parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "15" },
      sizes: { type: "string", default: "1,100,1000" },
      sample: { type: "string", default: "50" },
      json: { type: "string" },
    },
  }));
const runs = positive("--runs", values.runs!);
const sizes = values.sizes!.split(",").map((s) => positive("--sizes", s));
const sample = positive("--sample", values.sample!);

/** A whole number ≥ 1 from the command line, or exit 2. */
function positive(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`bench: ${option} wants a whole number of at least 1, not "${text}"`);
    Deno.exit(2);
  }
  return n;
}

/** One process as the helper measured it. */
interface Sample {
  readonly code: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly rssKiB: number;
  readonly stdout: string;
}

/** How to run one process. */
interface Invocation {
  readonly cmd: readonly string[];
  readonly env: Record<string, string>;
  readonly stdin?: string;
  readonly cwd?: string;
}

/**
 * The measuring helper: reads one invocation per line, runs it with stdin from a file and
 * stdout and stderr to files, reaps it with wait4() and answers one line of figures.
 */
const HELPER = `
import json, os, subprocess, sys, tempfile, time
for line in sys.stdin:
    req = json.loads(line)
    with tempfile.TemporaryFile() as i, tempfile.TemporaryFile() as o:
        i.write(req.get("stdin", "").encode()); i.seek(0)
        start = time.perf_counter()
        p = subprocess.Popen(req["cmd"], env=req["env"], cwd=req.get("cwd"), stdin=i, stdout=o, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        o.seek(0)
        out = o.read().decode(errors="replace")
    print(json.dumps({"code": p.returncode, "wallMs": wall * 1000, "cpuMs": (ru.ru_utime + ru.ru_stime) * 1000, "rssKiB": ru.ru_maxrss, "stdout": out}), flush=True)
`;

/** Runs invocations one at a time through one python3 helper. */
class Meter {
  readonly #child = new Deno.Command("python3", {
    args: ["-c", HELPER],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  readonly #writer = this.#child.stdin.getWriter();
  readonly #lines = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  #buffer = "";

  /** Runs one process and returns its figures. */
  async run(invocation: Invocation): Promise<Sample> {
    await this.#writer.write(new TextEncoder().encode(`${JSON.stringify(invocation)}\n`));
    while (!this.#buffer.includes("\n")) {
      const { value, done } = await this.#lines.read();
      if (done) throw new Error("the measuring helper (python3) stopped");
      this.#buffer += value;
    }
    const end = this.#buffer.indexOf("\n");
    const line = this.#buffer.slice(0, end);
    this.#buffer = this.#buffer.slice(end + 1);
    return JSON.parse(line) as Sample;
  }

  /** Stops the helper. */
  async close(): Promise<void> {
    await this.#writer.close();
    await this.#child.status;
  }
}

/** A percentile of sorted numbers (nearest rank). */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Median and p95 of some numbers. */
function stats(values: readonly number[]): { median: number; p95: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

const timing = { pendingMs: 0, stoppingMs: 0, shuttingDownMs: 0, imageMs: 0 };
const ep = await startEc2Endpoint({ timing });
const tmp = await Deno.makeTempDir({ prefix: "hybrid-bench-" });
/** The plain and TLS servers of the transport rows, shut down at the end. */
const transportServers: Deno.HttpServer[] = [];
const meter = new Meter();
const ec2 = clientFor(ep);
try {
  const mode = (await Deno.readTextFile(new URL("../dist/BUILD_INFO", import.meta.url)))
    .match(/^mode=(\w+)/m)?.[1] ?? "unknown";
  const home = `${tmp}/home`;
  await Deno.mkdir(home);
  const HOST = "aws";
  const config = `${tmp}/config.json`;
  await writeLocalConfig(config, ep.url, TEST_CREDENTIALS, {
    // Each action's own cost: a poll that asks EC2 every time (sharing is the cycles' part).
    defaults: { statePollSeconds: 0.05, pollWindowSeconds: 0 },
  });
  // A runtime directory of the bench's own, for its shared listings.
  const runtimeDir = `${tmp}/run`;
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: home,
    XDG_RUNTIME_DIR: runtimeDir,
  };
  const driverEnv = { ...env, HYBRID_DRIVER_CONFIG: config };
  const action = (
    name: string,
    args: string[],
    stdin = "",
    actionEnv: Record<string, string> = driverEnv,
  ): Invocation => ({ cmd: [`${DIST_VMM}${name}`, ...args], env: actionEnv, stdin });

  /** Launches an instance of the driver's (tagged for a VM of a host) at once, in-process. */
  let launches = 0;
  const launch = async (vmId: number, host = HOST): Promise<string> => {
    const out = await ec2.send(
      new RunInstancesCommand({
        ImageId: AMAZON_LINUX_AMI,
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{
          ResourceType: "instance",
          Tags: instanceTags(vmId, host, undefined, {}, `bench-${launches++}`),
        }],
      }),
    );
    return out.Instances![0]!.InstanceId!;
  };

  // The runtime: the one in dist/ (portable form), else this one (deno compile's is the same).
  const portableRuntime = `${DIST_VMM}.driver/deno`;
  const portable = mode === "portable";
  const runtime = portable ? portableRuntime : Deno.execPath();
  const empty = `${tmp}/empty.js`;
  await Deno.writeTextFile(empty, "");
  const runFlags = ["run", "--quiet", "--no-config", "--no-lock", "--no-remote", "--cached-only"];
  const script = (path: string, extraEnv: Record<string, string> = {}): Invocation => ({
    cmd: [runtime, ...runFlags, "--allow-read", "--allow-env", "--allow-sys", path],
    env: { ...env, ...extraEnv },
  });

  // Per action: the cases run interleaved, one round at a time; each run that changes an
  // instance gets its own, launched beforehand.
  const poll = await launch(7);
  const reboot = await launch(8);
  interface Case {
    readonly name: string;
    readonly code: number;
    /** The invocation of round `r`, prepared before the round. */
    readonly prepare: (r: number) => Promise<Invocation>;
  }
  const deployment = (vmId: number) =>
    vmDeployment(vmId, { AMI: AMAZON_LINUX_AMI, INSTANCETYPE: "t3.micro" });
  /**
   * The actions that ask EC2, named with a suffix, run with an environment; VM ids from
   * `base` up, so that each way has VMs of its own.
   */
  const cloudCases = (suffix: string, caseEnv: Record<string, string>, base: number): Case[] => {
    const saved: { id: string; file: string }[] = [];
    const run = (name: string, args: string[], stdin = "") => action(name, args, stdin, caseEnv);
    const vm = (offset: number, r: number) => base + offset + r;
    const withInstance = (name: string, offset: number, lcmState: number) => async (r: number) => {
      const vmId = vm(offset, r);
      const id = await launch(vmId);
      const data = oneBase64(actionData(vmId, HOST, id, { lcmState }));
      return run(name, [id, HOST, String(vmId), HOST], data);
    };
    return [
      {
        name: `poll (asks EC2)${suffix}`,
        code: 0,
        prepare: () =>
          Promise.resolve(
            run("poll", [poll, HOST, "7", HOST], oneBase64(actionData(7, HOST, poll))),
          ),
      },
      {
        name: `deploy${suffix}`,
        code: 0,
        prepare: async (r) => {
          const vmId = vm(1000, r);
          const file = `${tmp}/deployment.${vmId}`;
          await Deno.writeTextFile(file, deployment(vmId));
          return run("deploy", [file, HOST, String(vmId), HOST], oneBase64(deployment(vmId)));
        },
      },
      { name: `shutdown${suffix}`, code: 0, prepare: withInstance("shutdown", 2000, 12) },
      { name: `cancel${suffix}`, code: 0, prepare: withInstance("cancel", 3000, 13) },
      {
        name: `save${suffix}`,
        code: 0,
        prepare: async (r) => {
          const vmId = vm(4000, r);
          const id = await launch(vmId);
          const file = `${tmp}/checkpoint.${vmId}`;
          saved[r] = { id, file };
          return run("save", [id, file, HOST, String(vmId), HOST]);
        },
      },
      {
        name: `restore${suffix}`,
        code: 0,
        prepare: (r) =>
          Promise.resolve(
            run("restore", [saved[r]!.file, HOST, saved[r]!.id, String(vm(4000, r)), HOST]),
          ),
      },
      {
        name: `reboot${suffix}`,
        code: 0,
        prepare: () =>
          Promise.resolve(
            run("reboot", [reboot, HOST, "8", HOST], oneBase64(actionData(8, HOST, reboot))),
          ),
      },
      {
        name: `reset${suffix}`,
        code: 0,
        prepare: () =>
          Promise.resolve(
            run("reset", [reboot, HOST, "8", HOST], oneBase64(actionData(8, HOST, reboot))),
          ),
      },
    ];
  };
  // A poll served from the account's shared listing: a window longer than the bench, in a
  // runtime directory of its own (round 0, not counted, takes the listing).
  const sharedConfig = `${tmp}/shared.json`;
  await writeLocalConfig(sharedConfig, ep.url, TEST_CREDENTIALS, {
    defaults: { pollWindowSeconds: 300 },
  });
  const sharedEnv = { ...env, XDG_RUNTIME_DIR: `${tmp}/run-shared` };
  const sharedPolls: Case[] = [{
    name: "poll (shared listing)",
    code: 0,
    prepare: () =>
      Promise.resolve(
        action("poll", [poll, HOST, "7", HOST], oneBase64(actionData(7, HOST, poll)), {
          ...sharedEnv,
          HYBRID_DRIVER_CONFIG: sharedConfig,
        }),
      ),
  }];
  const cases: Case[] = [
    { name: "bare deno (empty script)", code: 0, prepare: () => Promise.resolve(script(empty)) },
    {
      name: "poll, bad input",
      code: 1,
      prepare: () => Promise.resolve(action("poll", ["bad", HOST, "7", HOST])),
    },
    {
      name: "attach_disk (unsupported)",
      code: 1,
      prepare: () => Promise.resolve(action("attach_disk", ["x", "y", "z", "w", "v"])),
    },
    ...sharedPolls,
    ...cloudCases("", driverEnv, 0),
  ];

  // The floor: the same runtime running what a process is made of, layer by layer.
  const probeScript = async (name: string, code: string) => {
    const path = `${tmp}/${name}.js`;
    await Deno.writeTextFile(path, code);
    return path;
  };
  const floors: { name: string; invocation: (r: number) => Invocation }[] = [];
  const nodeModule = await probeScript("node_module", 'import "node:module";\n');
  floors.push({ name: "+ a node: module (node:module)", invocation: () => script(nodeModule) });
  if (portable) {
    const js = `${DIST_VMM}.driver/js`;
    floors.push({
      name: "driver, unknown action",
      invocation: () => script(`${js}/main.js`),
    });
    const sdk = await probeScript(
      "sdk",
      `await import(${JSON.stringify(`${js}/sdk/aws_sdk.js`)});\n`,
    );
    floors.push({ name: "SDK import alone", invocation: () => script(sdk) });
    // A request's transport: one fetch on a new connection, plain and over TLS (a certificate
    // for 127.0.0.1 made by openssl; no row when there is no openssl).
    const tls = await localCertificate(tmp);
    if (tls) {
      const answer = () => new Response("ok");
      const plain = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, answer);
      const secure = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {}, cert: tls.cert, key: tls.key },
        answer,
      );
      transportServers.push(plain, secure);
      const fetchOnce = async (name: string, url: string, certFile?: string) => {
        const path = await probeScript(
          name,
          `await (await fetch(${JSON.stringify(url)})).text();\n`,
        );
        return (): Invocation => ({
          cmd: [
            runtime,
            ...runFlags,
            "--allow-net=127.0.0.1",
            ...(certFile ? [`--cert=${certFile}`] : []),
            path,
          ],
          env,
        });
      };
      floors.push({
        name: "one request, plain HTTP",
        invocation: await fetchOnce("plain", `http://127.0.0.1:${plain.addr.port}/`),
      });
      floors.push({
        name: "one request, TLS",
        invocation: await fetchOnce("tls", `https://127.0.0.1:${secure.addr.port}/`, tls.file),
      });
    }
    floors.push({
      name: "poll (asks EC2), no code cache",
      invocation: (r) => ({
        ...action("poll", [poll, HOST, "7", HOST], oneBase64(actionData(7, HOST, poll))),
        env: { ...driverEnv, DENO_DIR: `${tmp}/deno-dir-${r}` },
      }),
    });
  }

  const all: Case[] = [
    ...cases,
    ...floors.map((f) => ({
      name: f.name,
      code: f.name === "driver, unknown action" ? 2 : 0,
      prepare: (r: number) => Promise.resolve(f.invocation(r)),
    })),
  ];
  const samples = new Map<string, Sample[]>(all.map((c) => [c.name, []]));
  const calls = new Map<string, number>(all.map((c) => [c.name, 0]));
  // Round 0 warms the code cache and checks each case once; it is not counted.
  for (let r = 0; r <= runs; r++) {
    for (const c of all) {
      const invocation = await c.prepare(r);
      const before = ep.calls.length;
      const s = await meter.run(invocation);
      if (s.code !== c.code) {
        throw new Error(`${c.name}: exit ${s.code}, expected ${c.code}: ${s.stdout.trim()}`);
      }
      if (r === 0) continue;
      samples.get(c.name)!.push(s);
      calls.set(c.name, calls.get(c.name)! + ep.calls.length - before);
    }
  }

  const bareWall = stats(samples.get(cases[0]!.name)!.map((s) => s.wallMs)).median;
  const rows = all.map((c) => {
    const list = samples.get(c.name)!;
    const wall = stats(list.map((s) => s.wallMs));
    return {
      name: c.name,
      floor: !cases.includes(c),
      wallMedianMs: round(wall.median),
      wallP95Ms: round(wall.p95),
      cpuMedianMs: round(stats(list.map((s) => s.cpuMs)).median),
      rssMedianMB: round(stats(list.map((s) => s.rssKiB)).median / 1024),
      rssPeakMB: round(Math.max(...list.map((s) => s.rssKiB)) / 1024),
      xBare: round(wall.median / bareWall, 2),
      ec2CallsPerRun: round(calls.get(c.name)! / runs, 2),
    };
  });

  console.log(
    `one-hybrid bench: ${Deno.build.target}, dist ${mode}, deno ${Deno.version.deno}, ${runs} runs each (interleaved); whole process`,
  );
  console.log(
    table(
      ["action", "wall med", "p95", "CPU med", "RSS med", "x bare", "EC2 calls"],
      rows.filter((r) => !r.floor).map((r) => [
        r.name,
        `${r.wallMedianMs} ms`,
        `${r.wallP95Ms} ms`,
        `${r.cpuMedianMs} ms`,
        `${r.rssMedianMB} MB`,
        `x${r.xBare}`,
        String(r.ec2CallsPerRun),
      ]),
    ),
  );
  console.log("\nthe floor (same runtime, same run):");
  console.log(
    table(
      ["what runs", "wall med", "CPU med", "RSS med", "x bare"],
      rows.filter((r) => r.floor).map((r) => [
        r.name,
        `${r.wallMedianMs} ms`,
        `${r.cpuMedianMs} ms`,
        `${r.rssMedianMB} MB`,
        `x${r.xBare}`,
      ]),
    ),
  );

  /** Whether this build's configuration knows `pollWindowSeconds` (shared poll state). */
  const sharingUnderstood = async (): Promise<boolean> => {
    const probeConfig = `${tmp}/sharing.json`;
    await writeLocalConfig(probeConfig, ep.url, TEST_CREDENTIALS, {
      defaults: { pollWindowSeconds: 0 },
    });
    const s = await meter.run({
      cmd: [`${DIST_VMM}poll`, poll, HOST, "7", HOST],
      env: { ...env, HYBRID_DRIVER_CONFIG: probeConfig },
    });
    return s.code === 0;
  };

  /** One cycle per size, each way it can be done. */
  const pollCycles = async () => {
    const found: {
      vms: number;
      how: string;
      describeCalls: number | null;
      calls: number | null;
      cpuSeconds: number | null;
      note: string;
    }[] = [];
    const sharing = await sharingUnderstood();
    for (const size of sizes) {
      const host = `cycle-${size}`;
      const ids: string[] = [];
      for (let i = 0; i < size; i++) ids.push(await launch(100_000 * size + i, host));
      const ways = [
        { window: 0, how: "independent polls, no sharing" },
        { window: 20, how: "independent polls, shared state" },
      ];
      for (const { window, how } of ways) {
        if (window > 0 && !sharing) {
          found.push({
            vms: size,
            how,
            describeCalls: null,
            calls: null,
            cpuSeconds: null,
            note: "pollWindowSeconds not understood by this build",
          });
          continue;
        }
        const cycleConfig = `${tmp}/cycle-${size}-${window}.json`;
        await writeLocalConfig(cycleConfig, ep.url, TEST_CREDENTIALS, {
          defaults: sharing ? { pollWindowSeconds: window } : {},
        });
        // A runtime directory of the cycle's own, for its listing.
        const cycleRuntime = `${tmp}/run-cycle-${size}-${window}`;
        const run = Math.min(size, sample);
        const before = ep.calls.length;
        const describesBefore = ep.countCalls("DescribeInstances");
        const started = performance.now();
        let cpuMs = 0;
        for (let i = 0; i < run; i++) {
          // 3.2-4.x: one poll per VM, no stdin.
          const s = await meter.run({
            cmd: [`${DIST_VMM}poll`, ids[i]!, host, String(100_000 * size + i), host],
            env: {
              ...env,
              XDG_RUNTIME_DIR: cycleRuntime,
              HYBRID_DRIVER_CONFIG: cycleConfig,
            },
          });
          if (s.code !== 0) throw new Error(`poll in the cycle of ${size}: ${s.stdout.trim()}`);
          cpuMs += s.cpuMs;
        }
        const seconds = round((performance.now() - started) / 1000);
        const scale = size / run;
        // Shared listings are taken per window, not per poll: their calls are not scaled.
        const callScale = window > 0 ? 1 : scale;
        found.push({
          vms: size,
          how,
          describeCalls: Math.round(
            (ep.countCalls("DescribeInstances") - describesBefore) * callScale,
          ),
          calls: Math.round((ep.calls.length - before) * callScale),
          cpuSeconds: round((cpuMs * scale) / 1000, 2),
          note: run < size
            ? window > 0
              ? `${run} polls run (${seconds} s): calls as made, CPU extrapolated`
              : `extrapolated from ${run} polls`
            : "",
        });
      }
      // 5.12+: the probe that reports every VM of the host, once.
      const probeDir = `${DIST_VMM}../../im/provider-probes.d/vm/monitor`;
      const before = ep.calls.length;
      const describesBefore = ep.countCalls("DescribeInstances");
      const s = await meter.run({
        cmd: [
          "./probe_vm_monitor",
          "provider",
          "/var/lib/one//datastores",
          "4124",
          "20",
          "0",
          host,
        ],
        env: driverEnv,
        cwd: probeDir,
        stdin: "<MONITOR_CONFIGURATION><HOST_ID>0</HOST_ID></MONITOR_CONFIGURATION>",
      });
      if (s.code !== 0) throw new Error(`vm monitor probe of ${size}: ${s.stdout.trim()}`);
      const reported = s.stdout.split("\n").filter((l) => l.startsWith("VM = [")).length;
      found.push({
        vms: size,
        how: "one VM monitor probe (5.12+)",
        describeCalls: ep.countCalls("DescribeInstances") - describesBefore,
        calls: ep.calls.length - before,
        cpuSeconds: round(s.cpuMs / 1000, 2),
        note: `reported ${reported} VMs, ${round(s.rssKiB / 1024)} MB`,
      });
    }
    return found;
  };

  // Poll cycles.
  const cycles = await pollCycles();
  console.log(
    "\none poll cycle (every VM of a host once); sequential whole processes:",
  );
  console.log(
    table(
      ["VMs", "how", "describe calls", "all EC2 calls", "CPU total", "CPU per VM", "note"],
      cycles.map((c) => [
        String(c.vms),
        c.how,
        c.describeCalls === null ? "n/a" : String(c.describeCalls),
        c.calls === null ? "n/a" : String(c.calls),
        c.cpuSeconds === null ? "n/a" : `${c.cpuSeconds} s`,
        c.cpuSeconds === null ? "n/a" : `${round((c.cpuSeconds * 1000) / c.vms, 1)} ms`,
        c.note,
      ]),
    ),
  );

  if (values.json) {
    await Deno.writeTextFile(
      values.json,
      `${
        JSON.stringify(
          {
            target: Deno.build.target,
            mode,
            deno: Deno.version.deno,
            runs,
            actions: rows.filter((r) => !r.floor),
            floor: rows.filter((r) => r.floor),
            pollCycles: cycles,
          },
          null,
          2,
        )
      }\n`,
    );
    console.log(`\nwrote ${values.json}`);
  }
} finally {
  for (const server of transportServers) await server.shutdown();
  await meter.close();
  ec2.destroy();
  await ep.close();
  await Deno.remove(tmp, { recursive: true });
}

/**
 * A certificate for 127.0.0.1 issued by a throw-away CA, made by openssl in `dir` (rustls takes
 * no self-signed CA as the server's own): the server's PEM texts and the CA's file, for `--cert`;
 * undefined when openssl cannot make them.
 */
async function localCertificate(
  dir: string,
): Promise<{ cert: string; key: string; file: string } | undefined> {
  const openssl = async (args: string[]) =>
    (await new Deno.Command("openssl", { args, stdout: "null", stderr: "null" }).output()).success;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const ext = `${dir}/leaf.ext`;
  try {
    await Deno.writeTextFile(ext, "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
    const made = await openssl(
      ["req", "-x509", ...ec, "-keyout", `${dir}/ca.key`, "-out", `${dir}/ca.pem`, "-days", "1"]
        .concat(["-subj", "/CN=one-hybrid bench CA"]),
    ) &&
      await openssl(
        ["req", ...ec, "-keyout", `${dir}/key.pem`, "-out", `${dir}/leaf.csr`]
          .concat(["-subj", "/CN=127.0.0.1"]),
      ) &&
      await openssl([
        ...["x509", "-req", "-in", `${dir}/leaf.csr`, "-CA", `${dir}/ca.pem`],
        ...["-CAkey", `${dir}/ca.key`, "-CAcreateserial", "-out", `${dir}/cert.pem`],
        ...["-days", "1", "-extfile", ext],
      ]);
    if (!made) return undefined;
    return {
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
      file: `${dir}/ca.pem`,
    };
  } catch {
    return undefined;
  }
}

/** Rounds to some decimals. */
function round(n: number, decimals = 1): number {
  const f = 10 ** decimals;
  return Math.round(n * f) / f;
}

/** A plain-text table, columns padded (the first left-aligned, the others right-aligned). */
function table(head: string[], body: string[][]): string {
  const rows = [head, ...body];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ")
      .trimEnd();
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
