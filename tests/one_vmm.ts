/**
 * Plays OpenNebula's `one_vmm_sh` for the integration tests: builds each action's command
 * line with the argument list, quoting and stdin of one OpenNebula generation, runs it through
 * `/bin/sh -c` from `dist/` as the driver layer does, and turns exit code, stdout and the
 * stderr fence into the protocol reply oned would record (`DEPLOY SUCCESS 42 i-...`,
 * `SAVE FAILURE 42 <message>`). For the generations without action data (3.2, 4.x) it also
 * keeps a stand-in oned's view of the VM up to date, as the real oned changes the VM's state
 * before it sends an action, so that the driver can ask for it.
 *
 * @module
 */

import { actionData, templateDeployment, vmDeployment } from "./deployments.ts";
import { DIST_VMM, oneBase64, runProcess } from "./harness.ts";

/**
 * The generations whose driver layers differ: 3.2 (unquoted arguments, no stdin, the template
 * alone as deployment file, the failure message read from stdout), 4.x (3.8–4.14: unquoted,
 * no stdin, the whole VM as deployment file, the fenced stderr), 5.x (quoted, base64 stdin).
 */
export type OneGeneration = "3.2" | "4.x" | "5.x";

/** What oned tells about a VM over XML-RPC; kept up to date by {@link SimulatedVm}. */
export interface OnedVmView {
  /** Records the VM's states, deploy id and host as oned has them. */
  setVm(
    id: number,
    vm: { state: number; lcmState: number; deployId?: string; host?: string },
  ): void;
}

/** VM states (`STATE`) the simulated oned goes through. */
const STATE = { ACTIVE: 3, SUSPENDED: 5, DONE: 6, POWEROFF: 8, UNDEPLOYED: 9 } as const;

/** LCM states the simulated oned sends with each operation (4.x–5.x numbering). */
const LCM = {
  LCM_INIT: 0,
  BOOT: 2,
  RUNNING: 3,
  SAVE_STOP: 5,
  SHUTDOWN: 12,
  CANCEL: 13,
  /** 3.2's CLEANUP: `onevm delete` of an active VM. */
  CLEANUP: 15,
  SHUTDOWN_POWEROFF: 18,
  BOOT_POWEROFF: 20,
  BOOT_STOPPED: 22,
  CLEANUP_DELETE: 23,
  SHUTDOWN_UNDEPLOY: 29,
  BOOT_UNDEPLOY: 32,
} as const;

/** One action as the driver layer ran it. */
export interface Exchange {
  /** The command line given to the shell. */
  readonly command: string;
  /** The reply line oned records. */
  readonly reply: string;
  /** The exit code. */
  readonly code: number;
  /** What the action printed on stdout. */
  readonly stdout: string;
  /** What the action printed on stderr. */
  readonly stderr: string;
  /**
   * What oned wrote to the action's stdin: nothing (3.2, 4.x), the deployment file, or the
   * action data with the VM's LCM state (5.x), which is what tells shutdown a terminate from a
   * power-off.
   */
  readonly stdinCarried: {
    readonly kind: "nothing" | "deployment" | "action data";
    readonly lcmState?: number;
  };
}

/** A VM as oned tracks it, driving the driver through OpenNebula operations. */
export class SimulatedVm {
  /** The deploy id oned stored, once deployed. */
  deployId: string | undefined;
  /** The VM's state (`STATE`). */
  state: number = STATE.ACTIVE;
  /** The VM's LCM state. */
  lcmState: number = LCM.BOOT;
  /** Replies so far. */
  readonly log: Exchange[] = [];
  #seq = 0;
  readonly #stime = Math.floor(Date.now() / 1000);

  /**
   * @param generation Which OpenNebula generation's driver layer to play.
   * @param id VM id.
   * @param host OpenNebula host name.
   * @param section The template's EC2 section.
   * @param workDir Where oned's files (deployment, checkpoint) go.
   * @param env The driver's environment.
   * @param oned The stand-in oned to keep informed of the VM's state (3.2, 4.x).
   * @param sectionType The section's TYPE: `ec2` (written as 3.2 and 4.x wrote it, `EC2`) or
   * another provider's (`opennebula`, a `PUBLIC_CLOUD` of that TYPE in every generation).
   */
  constructor(
    readonly generation: OneGeneration,
    readonly id: number,
    readonly host: string,
    readonly section: Record<string, string>,
    readonly workDir: string,
    readonly env: Record<string, string>,
    readonly oned?: OnedVmView,
    readonly sectionType = "ec2",
  ) {}

  /** Where oned keeps this VM's checkpoint. */
  get checkpointFile(): string {
    return `${this.workDir}/datastores/0/${this.id}/checkpoint`;
  }

  /** Deploys (or, with a deploy id after power-off/undeploy, resumes) the VM. */
  async deploy(lcmState: number = LCM.BOOT): Promise<string> {
    this.state = STATE.ACTIVE;
    this.lcmState = lcmState;
    const vm = () =>
      vmDeployment(this.id, this.section, {
        lcmState,
        stime: this.#stime,
        type: this.sectionType,
        ...(this.deployId ? { deployId: this.deployId } : {}),
      });
    const xml = this.generation === "3.2"
      ? templateDeployment(this.id, this.section, this.sectionType)
      : this.generation === "4.x" && this.sectionType === "ec2"
      // 4.x templates name the section EC2 = [ ... ], without a TYPE.
      ? vm().replace("<PUBLIC_CLOUD><TYPE><![CDATA[ec2]]></TYPE>", "<EC2>")
        .replace("</PUBLIC_CLOUD>", "</EC2>")
      : vm();
    const dir = `${this.workDir}/vms/${this.id}`;
    await Deno.mkdir(dir, { recursive: true });
    const file = `${dir}/deployment.${this.#seq++}`;
    await Deno.writeTextFile(file, xml);
    return await this.#deployFile(file, xml);
  }

  /**
   * Runs the last deploy again with the same deployment file and stdin, as one_vmm_sh does
   * when it retries a failed or lost action (`-r N`).
   */
  async retryDeploy(): Promise<string> {
    const file = `${this.workDir}/vms/${this.id}/deployment.${this.#seq - 1}`;
    return await this.#deployFile(file, await Deno.readTextFile(file));
  }

  async #deployFile(file: string, xml: string): Promise<string> {
    const exchange = await this.#run(
      "deploy",
      [file],
      this.generation === "5.x" ? oneBase64(xml) : "",
    );
    if (exchange.code === 0) {
      this.deployId = exchange.reply.split(" ")[3];
      this.state = STATE.ACTIVE;
      this.lcmState = LCM.RUNNING;
    }
    return exchange.reply;
  }

  /** Polls the VM. */
  poll(): Promise<string> {
    return this.#vmAction("poll", []);
  }

  /** `onevm suspend` (save). */
  save(): Promise<string> {
    this.lcmState = LCM.SAVE_STOP;
    return this.#vmAction("save", [this.checkpointFile], STATE.SUSPENDED);
  }

  /** `onevm resume` of a suspended VM (restore), in the generation's argument form. */
  async restore(): Promise<string> {
    this.state = STATE.ACTIVE;
    this.lcmState = LCM.BOOT_STOPPED;
    const params = this.generation === "3.2"
      ? [this.checkpointFile]
      : [this.checkpointFile, this.host, this.deployId ?? "-"];
    // 4.x+ passes the host itself, before the deploy id; 3.2 gets it appended as usual.
    const exchange = await this.#run(
      "restore",
      params,
      this.#actionData(),
      this.generation === "3.2",
    );
    if (exchange.code === 0) this.lcmState = LCM.RUNNING;
    return exchange.reply;
  }

  /** `onevm reboot`. */
  reboot(): Promise<string> {
    return this.#vmAction("reboot", []);
  }

  /** `onevm reboot --hard` (reset, 4.x and later). */
  reset(): Promise<string> {
    return this.#vmAction("reset", []);
  }

  /** `onevm poweroff` (shutdown in SHUTDOWN_POWEROFF), or `--hard` (cancel). */
  poweroff(hard = false): Promise<string> {
    this.lcmState = LCM.SHUTDOWN_POWEROFF;
    return this.#vmAction(hard ? "cancel" : "shutdown", [], STATE.POWEROFF);
  }

  /** `onevm resume` after power-off (deploy in BOOT_POWEROFF with the deploy id). */
  resumeFromPoweroff(): Promise<string> {
    return this.deploy(LCM.BOOT_POWEROFF);
  }

  /** `onevm undeploy` (shutdown in SHUTDOWN_UNDEPLOY), or `--hard` (cancel). */
  undeploy(hard = false): Promise<string> {
    this.lcmState = LCM.SHUTDOWN_UNDEPLOY;
    return this.#vmAction(hard ? "cancel" : "shutdown", [], STATE.UNDEPLOYED);
  }

  /** `onevm resume` after undeploy (deploy in BOOT_UNDEPLOY with the deploy id). */
  resumeFromUndeploy(): Promise<string> {
    return this.deploy(LCM.BOOT_UNDEPLOY);
  }

  /** `onevm terminate` (shutdown), or `--hard` (cancel); `onevm shutdown` / `cancel` before 5.0. */
  terminate(hard = false): Promise<string> {
    this.lcmState = hard ? LCM.CANCEL : LCM.SHUTDOWN;
    return this.#vmAction(hard ? "cancel" : "shutdown", [], STATE.DONE);
  }

  /**
   * `onevm delete` before 5.0: cancel, sent in CLEANUP (3.2) or CLEANUP_DELETE (4.x) for an
   * active VM; for one powered off (or suspended, stopped, undeployed) oned marks the VM DONE
   * first.
   */
  delete(): Promise<string> {
    if (this.state === STATE.ACTIVE && this.lcmState !== LCM.LCM_INIT) {
      this.lcmState = this.generation === "3.2" ? LCM.CLEANUP : LCM.CLEANUP_DELETE;
    } else {
      this.state = STATE.DONE;
      this.lcmState = LCM.LCM_INIT;
    }
    return this.#vmAction("cancel", [], STATE.DONE);
  }

  /** `onevm migrate` to another host. */
  migrate(destination: string): Promise<string> {
    return this.#vmAction("migrate", [destination]);
  }

  /** Any other action, with its own parameters after the deploy id. */
  other(action: string, params: string[]): Promise<string> {
    return this.#vmAction(action, params);
  }

  #actionData(): string {
    return this.generation === "5.x"
      ? oneBase64(
        actionData(this.id, this.host, this.deployId ?? "", {
          lcmState: this.lcmState,
          stime: this.#stime,
        }),
      )
      : "";
  }

  /**
   * Runs an action about the deployed VM; on success the VM reaches `after` (a state outside
   * ACTIVE, whose LCM state is then LCM_INIT), when given.
   */
  async #vmAction(action: string, params: string[], after?: number): Promise<string> {
    // migrate: <deploy_id> <dest_host> <host> ...; save: <deploy_id> <checkpoint> <host> ...
    const exchange = await this.#run(action, [this.deployId ?? "-", ...params], this.#actionData());
    if (exchange.code === 0 && after !== undefined) {
      this.state = after;
      this.lcmState = LCM.LCM_INIT;
    }
    return exchange.reply;
  }

  /**
   * Runs an action: `<script> <params...> <host> <vmid> <host>` (the action's own parameters,
   * then the host one_vmm_sh adds to most of them, then `<vmid> <host>`), single-quoted from
   * 5.x on. The stand-in oned learns the VM's state first, as the real one sets it before it
   * sends the action.
   */
  async #run(action: string, params: string[], stdin: string, addHost = true): Promise<Exchange> {
    const args = [...params, ...(addHost ? [this.host] : []), String(this.id), this.host];
    const quote = (a: string) => this.generation === "5.x" ? `'${a.replace(/'/g, `'\\''`)}'` : a;
    const command = [`${DIST_VMM}${action}`, ...args].map(quote).join(" ");
    this.oned?.setVm(this.id, {
      state: this.state,
      lcmState: this.lcmState,
      ...(this.deployId ? { deployId: this.deployId } : {}),
    });
    const out = await runProcess("/bin/sh", ["-c", command], { stdin, env: this.env });
    const { stdout, stderr } = out;
    const verb = action.toUpperCase();
    let reply: string;
    if (out.code === 0) {
      reply = `${verb} SUCCESS ${this.id} ${stdout.trim() || "-"}`;
    } else if (this.generation === "3.2") {
      reply = `${verb} FAILURE ${this.id} ${stdout.split("\n")[0] || "-"}`;
    } else {
      const fenced = /ERROR MESSAGE --8<------\n([^\n]*)\n/.exec(stderr)?.[1];
      reply = `${verb} FAILURE ${this.id} ${fenced || "-"}`;
    }
    const stdinCarried = stdin === ""
      ? { kind: "nothing" as const }
      : action === "deploy"
      ? { kind: "deployment" as const }
      : { kind: "action data" as const, lcmState: this.lcmState };
    const exchange = { command, reply, code: out.code, stdout, stderr, stdinCarried };
    this.log.push(exchange);
    return exchange;
  }
}
