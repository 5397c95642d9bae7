/**
 * A real OpenNebula front-end for the real-OpenNebula suite: oned, monitord and the scheduler of
 * a release built from OpenNebula's own source by `tests/real_oned/build_opennebula.sh`, run from
 * a fresh copy of the cached self-contained tree (`ONE_LOCATION`), with the driver installed by
 * `dist/install.sh` and configured with exactly the lines the installer prints.
 *
 * Only what a test run needs is changed in OpenNebula's own configuration: its ports (free ones
 * on 127.0.0.1), and shorter scheduler and probe periods so that a run takes minutes.
 *
 * @module
 */

import { child, childText, parseXml, type XmlElement } from "../../lib/util/xml.ts";
import { XmlRpcClient } from "../../lib/one_xmlrpc/xmlrpc.ts";
import { oneCall } from "../../lib/one_xmlrpc/one_rpc.ts";
import { LCM_STATE_NAMES, VM_STATE_NAMES } from "../../lib/one_xmlrpc/one_states.ts";

/** Where build_opennebula.sh caches front-ends. */
export const CACHE = Deno.env.get("ONE_HYBRID_ONED_CACHE") ??
  `${Deno.env.get("HOME") ?? "/root"}/.cache/one-hybrid/opennebula`;
const DIST = new URL("../../dist", import.meta.url).pathname;

/** A release built in the cache. */
export interface BuiltRelease {
  /** `6.10.0`. */
  readonly release: string;
  /** Its self-contained tree. */
  readonly prefix: string;
}

/**
 * The releases built in the cache (`CACHE/<release>/.built`), oldest first; `ONE_HYBRID_ONED_RELEASES`
 * (comma-separated) narrows them.
 */
export function cachedReleases(): BuiltRelease[] {
  const wanted = Deno.env.get("ONE_HYBRID_ONED_RELEASES")?.split(",").map((r) => r.trim());
  const found: BuiltRelease[] = [];
  try {
    for (const entry of Deno.readDirSync(CACHE)) {
      if (!entry.isDirectory || !/^\d+\.\d+\.\d+/.test(entry.name)) continue;
      if (wanted && !wanted.includes(entry.name)) continue;
      try {
        Deno.statSync(`${CACHE}/${entry.name}/.built`);
        found.push({ release: entry.name, prefix: `${CACHE}/${entry.name}` });
      } catch { /* not built whole */ }
    }
  } catch { /* no cache */ }
  const key = (r: string) => r.split(".").map((n) => n.padStart(4, "0")).join(".");
  return found.sort((a, b) => key(a.release).localeCompare(key(b.release)));
}

/** What a command printed. */
export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The configuration blocks and host command the installer printed. */
export interface InstallerLines {
  /** Each "add this to FILE:" block: the file and the lines. */
  readonly blocks: { file: string; text: string }[];
  /** The `onehost create ...` command. */
  readonly hostCommand: string;
  /** The commands to run after the restart (the indented lines after "Then ..."), in order. */
  readonly commands: string[];
  /** Everything it printed. */
  readonly output: string;
}

/** The major and minor release as one number: 6.10 is 610. */
export function releaseNumber(release: string): number {
  const [major, minor] = release.split(".").map(Number);
  return major! * 100 + minor!;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<Ran> {
  const process = new Deno.Command(command, {
    args,
    env,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = process.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await process.output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Replaces one line of a configuration file that matches, failing when none does. */
async function edit(
  path: string,
  pattern: RegExp,
  replacement: string | ((match: string) => string),
): Promise<void> {
  const text = await Deno.readTextFile(path);
  if (!pattern.test(text)) throw new Error(`${path}: no line matches ${pattern}`);
  await Deno.writeTextFile(
    path,
    typeof replacement === "string"
      ? text.replace(pattern, replacement)
      : text.replace(pattern, replacement),
  );
}

/**
 * Reads what the installer printed: each "add this to FILE:" (or "... FILE as well:") block up to
 * the next blank line after it, and the `onehost create` line.
 */
export function parseInstallerOutput(output: string): InstallerLines {
  const lines = output.split("\n");
  const blocks: { file: string; text: string }[] = [];
  let hostCommand = "";
  const then = lines.findIndex((l) => l.startsWith("Then "));
  const commands = then < 0
    ? []
    : lines.slice(then).filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim());
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const add = line.match(/add this to (\S+?)(?: as well)?:$/);
    if (add) {
      let j = i + 1;
      while (j < lines.length && lines[j]!.trim() === "") j++;
      const block: string[] = [];
      while (j < lines.length && lines[j]!.trim() !== "") block.push(lines[j++]!);
      blocks.push({ file: add[1]!, text: block.join("\n") });
      i = j;
    }
    const create = line.trim().match(/^(onehost create .*)$/);
    if (create) hostCommand = create[1]!;
  }
  return { blocks, hostCommand, commands, output };
}

/** A running front-end. */
export class Frontend {
  readonly release: string;
  /** Its `ONE_LOCATION`. */
  readonly location: string;
  /** The environment oneadmin's shell has: what oned, its drivers and the CLI run with. */
  readonly env: Record<string, string>;
  readonly rpc: XmlRpcClient;
  readonly session: string;
  #installed: InstallerLines | undefined;

  private constructor(release: string, location: string, env: Record<string, string>) {
    this.release = release;
    this.location = location;
    this.env = env;
    this.rpc = new XmlRpcClient(env.ONE_XMLRPC!, { label: "oned", timeoutMs: 30_000 });
    this.session = Deno.readTextFileSync(env.ONE_AUTH!).trim();
  }

  /** What the installer printed. */
  get installed(): InstallerLines {
    if (!this.#installed) throw new Error("the driver is not installed");
    return this.#installed;
  }

  /**
   * Copies a cached release into `dir`, gives it free ports, and prepares oneadmin's
   * environment. Nothing runs yet.
   */
  static async prepare(built: BuiltRelease, dir: string): Promise<Frontend> {
    const location = `${dir}/one`;
    const copied = await run("cp", ["-a", built.prefix, location], {});
    if (copied.code !== 0) throw new Error(`cp: ${copied.stderr}`);
    await Deno.mkdir(`${dir}/home/.one`, { recursive: true });
    const auth = `${dir}/home/.one/one_auth`;
    await Deno.writeTextFile(auth, `oneadmin:${crypto.randomUUID()}\n`, { mode: 0o600 });
    const port = freePort();
    const monitorPort = freePort();
    const etc = `${location}/etc`;
    await edit(`${etc}/oned.conf`, /^PORT = 2633$/m, `PORT = ${port}`);
    await edit(
      `${etc}/oned.conf`,
      /^LISTEN_ADDRESS = "0\.0\.0\.0"$/m,
      'LISTEN_ADDRESS = "127.0.0.1"',
    );
    await edit(`${etc}/monitord.conf`, /^(\s*)PORT(\s*)= 4124,/m, `$1PORT$2= ${monitorPort},`);
    // 6.x listens on "0.0.0.0", 7.x on "::".
    await edit(`${etc}/monitord.conf`, /^(\s*ADDRESS\s*)= "(0\.0\.0\.0|::)",/m, '$1= "127.0.0.1",');
    // Probe periods short enough for a test run; the 6.x defaults are 600/120/5/30/180 s.
    await edit(`${etc}/monitord.conf`, /SYSTEM_HOST(\s*)= 600/, "SYSTEM_HOST$1= 20");
    await edit(`${etc}/monitord.conf`, /MONITOR_HOST(\s*)= 120/, "MONITOR_HOST$1= 10");
    await edit(`${etc}/monitord.conf`, /MONITOR_VM(\s*)= 30/, "MONITOR_VM$1= 10");
    await edit(`${etc}/monitord.conf`, /SYNC_STATE_VM(\s*)= 180/, "SYNC_STATE_VM$1= 30");
    // A host in ERROR is tried again after MONITORING_INTERVAL_HOST (180 s by default).
    await edit(
      `${etc}/monitord.conf`,
      /^#MONITORING_INTERVAL_HOST = 180$/m,
      "MONITORING_INTERVAL_HOST = 30",
    );
    // The hook manager's two ports, so that front-ends can run side by side.
    await edit(
      `${etc}/oned.conf`,
      /ARGUMENTS = "-p 2101 -l 2102 -b 127\.0\.0\.1"/,
      `ARGUMENTS = "-p ${freePort()} -l ${freePort()} -b 127.0.0.1"`,
    );
    if (releaseNumber(built.release) < 600) {
      // 5.12's monitord enables the vCenter IM, whose Ruby needs the rbvmomi gem (not in
      // Debian): its failure stops monitord from starting any driver.
      await edit(
        `${etc}/monitord.conf`,
        /^IM_MAD = \[\n(\s*NAME\s*= "vcenter",[^\]]*)\]/m,
        (m: string) => m.replace(/^/gm, "#"),
      );
    }
    if (releaseNumber(built.release) >= 700) {
      // 7.x schedules inside oned: a placement window opens for up to 10 s, failures retry
      // after 60 s.
      await edit(`${etc}/oned.conf`, /^SCHED_MAX_WND_TIME\s*= \d+/m, "SCHED_MAX_WND_TIME   = 2");
      await edit(`${etc}/oned.conf`, /^SCHED_RETRY_TIME = \d+/m, "SCHED_RETRY_TIME = 10");
    } else {
      await edit(`${etc}/sched.conf`, /localhost:2633/, `127.0.0.1:${port}`);
      await edit(`${etc}/sched.conf`, /^SCHED_INTERVAL = \d+/m, "SCHED_INTERVAL = 3");
    }
    const env: Record<string, string> = {
      PATH: `${location}/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
      HOME: `${dir}/home`,
      ONE_LOCATION: location,
      ONE_AUTH: auth,
      ONE_XMLRPC: `http://127.0.0.1:${port}/RPC2`,
      LANG: "C.UTF-8",
      // 7.x's Ruby programs require load_opennebula_paths before adding lib/ruby themselves.
      RUBYLIB: `${location}/lib/ruby`,
    };
    return new Frontend(built.release, location, env);
  }

  /**
   * Installs `dist/` (or another build) with its installer and applies exactly the lines it
   * prints: each block is appended to the file it names, which must be this front-end's own
   * (`$ONE_LOCATION/etc`). What `dist/`'s installer printed is kept as {@link installed}.
   */
  async installDriver(
    host: string,
    extraArgs: string[] = [],
    dist = DIST,
  ): Promise<InstallerLines> {
    const ran = await run(
      "sh",
      [
        `${dist}/install.sh`,
        "--remotes",
        `${this.location}/var/remotes`,
        "--host",
        host,
        ...extraArgs,
      ],
      this.env,
    );
    if (ran.code !== 0) throw new Error(`install.sh failed: ${ran.stderr}${ran.stdout}`);
    const lines = parseInstallerOutput(ran.stdout);
    for (const block of lines.blocks) {
      if (!block.file.startsWith(`${this.location}/etc/`)) {
        throw new Error(
          `install.sh says to edit ${block.file}, not this self-contained front-end's ${this.location}/etc/`,
        );
      }
      await Deno.writeTextFile(block.file, `\n${block.text}\n`, { append: true });
    }
    if (dist === DIST) this.#installed = lines;
    return lines;
  }

  /**
   * Turns on OpenNebula's own dummy drivers (the `dummy` IM_MAD of monitord.conf and VM_MAD of
   * oned.conf, shipped commented out), for hosts that run VMs without a hypervisor: a partner
   * cloud's hosts in the suite. Before {@link start}.
   */
  async enableDummyDrivers(): Promise<void> {
    const etc = `${this.location}/etc`;
    await edit(
      `${etc}/monitord.conf`,
      /^# IM_MAD = \[\n#\s+NAME\s+= "dummy",[^\]]*# \]/m,
      (block) => block.replace(/^# /gm, ""),
    );
    await edit(
      `${etc}/oned.conf`,
      /^#VM_MAD = \[ NAME="dummy",[^\]]*\]/m,
      (block) => block.replace(/^#/gm, ""),
    );
    // 6.x's datastore driver monitors only the system datastores of the TMs after -s; 7.x lists
    // dummy there already.
    const datastoreMad = await Deno.readTextFile(`${etc}/oned.conf`);
    if (!/ -s dummy,/.test(datastoreMad)) {
      await edit(`${etc}/oned.conf`, /(DATASTORE_MAD = \[[^\]]* -s )/, "$1dummy,");
    }
    // A shared system datastore (the dummy TM's) is first monitored after this interval, and
    // the scheduler places nothing on it before: 300 s by default, MANAGER_TIMER (15 s) at least.
    await edit(
      `${etc}/oned.conf`,
      /^MONITORING_INTERVAL_DATASTORE = 300$/m,
      "MONITORING_INTERVAL_DATASTORE = 15",
    );
  }

  /** Starts OpenNebula (`one start`) and waits until oned answers. */
  async start(): Promise<void> {
    const ran = await run(`${this.location}/bin/one`, ["start"], this.env);
    // onehem-server needs gems the suite does not install; oned and the scheduler start anyway.
    if (ran.code !== 0 && !/onehem/.test(ran.stdout + ran.stderr)) {
      throw new Error(`one start failed: ${ran.stdout}${ran.stderr}`);
    }
    const deadline = Date.now() + 180_000;
    for (;;) {
      try {
        await oneCall(this.rpc, "one.system.version", this.session);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`oned did not answer within 180 s: ${error}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** Stops OpenNebula; whatever is left is killed. */
  async stop(): Promise<void> {
    await run(`${this.location}/bin/one`, ["stop"], this.env).catch(() => {});
    // Probe clients run detached from oned (setsid): end those of this front-end.
    await run("pkill", ["-9", "-f", this.location], {}).catch(() => {});
  }

  /**
   * Runs the commands the installer printed for after the restart, as an operator pastes them
   * into oneadmin's shell (`sh -e`, in a directory of its own), for one host name: the first
   * time all of them, later only the `onehost create` line. Returns the new host's id.
   */
  async createHost(host: string, first: boolean): Promise<number> {
    const { commands, hostCommand } = this.installed;
    const script = (first ? commands : [hostCommand]).map((c) =>
      c === hostCommand ? c.replace(/^onehost create \S+/, `onehost create ${host}`) : c
    );
    const dir = `${this.env.HOME}/commands`;
    await Deno.mkdir(dir, { recursive: true });
    const ran = await run("sh", ["-ec", `cd ${dir}\n${script.join("\n")}`], this.env);
    if (ran.code !== 0) {
      throw new Error(
        `the printed commands failed: ${ran.stderr}${ran.stdout}\n${script.join("\n")}`,
      );
    }
    const id = ran.stdout.match(/ID: (\d+)\s*$/)?.[1];
    if (id === undefined) throw new Error(`onehost create printed ${ran.stdout}`);
    return Number(id);
  }

  /** Runs an OpenNebula CLI command as oneadmin. */
  cli(command: string, ...args: string[]): Promise<Ran> {
    return run(`${this.location}/bin/${command}`, args, this.env);
  }

  /** Runs a CLI command that must succeed; returns its stdout. */
  async must(command: string, ...args: string[]): Promise<string> {
    const ran = await this.cli(command, ...args);
    if (ran.code !== 0) {
      throw new Error(
        `${command} ${args.join(" ")} failed (${ran.code}): ${ran.stderr}${ran.stdout}`,
      );
    }
    return ran.stdout;
  }

  /** Calls the XML-RPC API as oneadmin. */
  call(method: string, ...params: (string | number | boolean)[]) {
    return oneCall(this.rpc, method, this.session, ...params);
  }

  /** A VM's XML (`one.vm.info`). */
  async vm(id: number): Promise<XmlElement> {
    return parseXml(String(await this.call("one.vm.info", id)));
  }

  /** A host's XML (`one.host.info`). */
  async host(id: number): Promise<XmlElement> {
    return parseXml(String(await this.call("one.host.info", id)));
  }

  /** Every VM oned has (not DONE): id, STATE, LCM_STATE and DEPLOY_ID. */
  async vms(): Promise<VmView[]> {
    const pool = parseXml(String(await this.call("one.vmpool.info", -2, -1, -1, -1)));
    return pool.children.filter((e) => e.name === "VM").map(vmView);
  }

  /** The VM's log, `var/vms/<id>/vm.log`. */
  vmLog(id: number): Promise<string> {
    return Deno.readTextFile(`${this.location}/var/vms/${id}/vm.log`).catch(() => "");
  }

  /** Waits until a VM's log has a line matching `pattern`. */
  async waitLog(id: number, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = await this.vmLog(id);
      if (pattern.test(log)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `VM ${id}'s log has no ${pattern} after ${timeoutMs / 1000} s:\n${tail(log)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Waits until a VM is in a state (`STATE`/`LCM_STATE` names), failing with its log. */
  async waitVm(id: number, wanted: string, timeoutMs = 120_000): Promise<VmView> {
    const deadline = Date.now() + timeoutMs;
    let last: VmView | undefined;
    for (;;) {
      last = vmView(await this.vm(id));
      if (last.state === wanted || last.lcmState === wanted) return last;
      if (last.lcmState.endsWith("FAILURE") || last.state === "FAILED") {
        throw new Error(
          `VM ${id} is ${last.state}/${last.lcmState}, not ${wanted}; its log:\n${
            tail(await this.vmLog(id))
          }`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `VM ${id} is ${last.state}/${last.lcmState} after ${
            timeoutMs / 1000
          } s, not ${wanted}; its log:\n${tail(await this.vmLog(id))}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Waits until a host is in a state (`MONITORED`, `ERROR`, ...). */
  async waitHost(id: number, wanted: string, timeoutMs = 120_000): Promise<XmlElement> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const host = await this.host(id);
      const state = HOST_STATES[Number(childText(host, "STATE"))] ?? "?";
      if (state === wanted) return host;
      if (Date.now() > deadline) {
        const monitor = await Deno.readTextFile(`${this.location}/var/monitor.log`).catch(() => "");
        throw new Error(
          `host ${id} is ${state} after ${timeoutMs / 1000} s, not ${wanted}; error: ${
            child(host, "TEMPLATE") && childText(child(host, "TEMPLATE")!, "ERROR")
          }; monitor.log:\n${tail(monitor)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** oned's host states, by number (6.x, 7.x). */
export const HOST_STATES = [
  "INIT",
  "MONITORING_MONITORED",
  "MONITORED",
  "ERROR",
  "DISABLED",
  "MONITORING_ERROR",
  "MONITORING_INIT",
  "MONITORING_DISABLED",
  "OFFLINE",
];

/** What the suite reads of a VM. */
export interface VmView {
  readonly id: number;
  readonly state: string;
  readonly lcmState: string;
  readonly deployId: string;
}

/** A VM element's id, states and deploy id. */
export function vmView(vm: XmlElement): VmView {
  const state = VM_STATE_NAMES[Number(childText(vm, "STATE"))] ?? "?";
  const lcm = Number(childText(vm, "LCM_STATE"));
  return {
    id: Number(childText(vm, "ID")),
    state,
    lcmState: state === "ACTIVE" ? (LCM_STATE_NAMES[lcm] ?? String(lcm)) : state,
    deployId: childText(vm, "DEPLOY_ID") ?? "",
  };
}

/** The last lines of a log. */
export function tail(text: string, lines = 15): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
