/**
 * The real-OpenNebula suite: oned, monitord and the scheduler of each release built by
 * `tests/real_oned/build_opennebula.sh` (unpatched, from OpenNebula's own source) drive the
 * installed driver against moto, through OpenNebula's own CLI. Nothing of OpenNebula is a
 * stand-in: the driver is installed by `dist/install.sh` and configured with exactly the lines
 * it prints, the host is created with the printed `onehost create`, and every outcome is read
 * from oned (states, DEPLOY_ID, the VM log) and from moto (instances, their states and tags).
 *
 * Runs for every release in the cache (`ONE_HYBRID_ONED_RELEASES` narrows them); with none
 * built, it registers one ignored test saying so.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { XmlElement } from "../../lib/util/xml.ts";
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { useMoto } from "../moto.ts";
import { decryptOneValue } from "../../lib/opennebula/one_crypt.ts";
import {
  type BuiltRelease,
  cachedReleases,
  type Frontend,
  Frontend as FrontendClass,
  type InstallerLines,
  releaseNumber,
  tail,
  type VmView,
} from "./frontend.ts";
import {
  asPartner,
  createPartnerCloud,
  PARTNER_QUOTA,
  PARTNER_SIZE,
  type PartnerCloud,
  partnerQuota,
  partnerVm,
  partnerVmsNamed,
  waitPartnerVm,
} from "./partner_cloud.ts";

const CREDENTIALS = {
  accessKeyId: "AKIAMOTOEXAMPLE00001",
  secretAccessKey: "motoSecret/K7MDENG/x1",
};
const HOST = "aws-real";
const HOST2 = "aws-real-b";
const DOWN = "aws-down";
/** A host whose region, keys and capacity are in its OpenNebula template, as the built-in driver had them. */
const TEMPLATED = "aws-templated";
/**
 * A host of OpenNebula's built-in EC2 driver (`IM_MAD` and `VM_MAD` `ec2`), driven by this driver
 * built under that name, as docs/install-and-upgrade.md has an upgrade from it do.
 */
const LEGACY = "aws-legacy";
/**
 * The driver's host whose cloud is a partner OpenNebula: a second front-end of the same release
 * (the same oned cannot be its own partner on 7.x, whose oned places one plan at a time: the
 * local deploy's plan would wait for the partner VM's).
 */
const PARTNER = "partner-one";

/**
 * Builds the driver under another name into a directory of its own (`scripts/build.ts --name`),
 * as an operator taking over the built-in EC2 driver's hosts builds it (`--name ec2`).
 */
async function buildAs(name: string, out: string): Promise<string> {
  const built = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "build", "--name", name, "--out", out],
    cwd: new URL("../..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (built.code !== 0) {
    throw new Error(`build --name ${name} failed: ${new TextDecoder().decode(built.stderr)}`);
  }
  return out;
}

/** A test of the suite: sanitizers off, as the front-end and its watcher outlive each test. */
function realTest(name: string, fn: () => Promise<void>, ignore = false): void {
  Deno.test({
    name,
    fn,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    sanitizeExit: false,
  });
}

const releases = cachedReleases();
if (releases.length === 0) {
  realTest(
    "real oned: no OpenNebula build cached (tests/real_oned/build_opennebula.sh 6.10.0 builds one)",
    () => Promise.resolve(),
    true,
  );
}

/** An instance as moto reports it. */
interface CloudInstance {
  readonly id: string;
  readonly state: string;
  readonly tags: Record<string, string>;
}

for (const built of releases) suite(built);

/** Registers the suite's tests for one release. */
function suite(built: BuiltRelease): void {
  const R = built.release;
  let fe: Frontend | undefined;
  /** The partner cloud's front-end. */
  let partnerFe: Frontend | undefined;
  let ec2: EC2Client;
  let moto: Awaited<ReturnType<typeof useMoto>>;
  let tmp = "";
  let ami = "";
  let configPath = "";
  /** What the installer of the build named `ec2` printed. */
  let legacyLines: InstallerLines | undefined;
  /** Every state each VM was seen in, by the watcher, in order. */
  const seen = new Map<number, string[]>();
  let watching = true;
  let watcher: Promise<void> = Promise.resolve();
  const hostIds: Record<string, number> = {};

  const front = (): Frontend => {
    if (!fe) throw new Error(`the ${R} front-end did not start`);
    return fe;
  };

  /** The instances moto has for one VM id (any state), by the driver's tags. */
  async function instancesOfVm(vmId: number): Promise<CloudInstance[]> {
    const out = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: "tag:opennebula:vm-id", Values: [String(vmId)] }],
      }),
    );
    return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => ({
      id: i.InstanceId!,
      state: i.State?.Name ?? "?",
      tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key!, t.Value!])),
    }));
  }

  async function instance(id: string): Promise<CloudInstance> {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    const i = out.Reservations?.[0]?.Instances?.[0];
    assert.ok(i, `moto has no instance ${id}`);
    return {
      id,
      state: i.State?.Name ?? "?",
      tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key!, t.Value!])),
    };
  }

  /** Instantiates a VM from the suite's template and returns its id. */
  async function instantiate(name: string): Promise<number> {
    const out = await front().must("onetemplate", "instantiate", "burst", "--name", name);
    const id = Number(out.match(/VM ID: (\d+)/)?.[1]);
    assert.ok(Number.isInteger(id), `onetemplate instantiate printed ${out}`);
    return id;
  }

  /** Waits for a VM's state; then checks the VM's only live instance in moto. */
  async function settle(vmId: number, wanted: string, cloudState: string): Promise<VmView> {
    const vm = await front().waitVm(vmId, wanted);
    const live = (await instancesOfVm(vmId)).filter((i) => i.state !== "terminated");
    assert.equal(live.length, 1, `VM ${vmId} ${wanted}: instances ${JSON.stringify(live)}`);
    assert.equal(live[0]!.id, vm.deployId, `VM ${vmId}'s DEPLOY_ID is its instance`);
    await waitCloud(vm.deployId, cloudState);
    return vm;
  }

  async function waitCloud(id: string, state: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await instance(id);
      if (now.state === state) return;
      if (Date.now() > deadline) assert.fail(`${id} is ${now.state} in moto, not ${state}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** A VM template of the suite's size and EC2 section, with one more line. */
  function ec2Template(name: string, more: string): string {
    return [
      `NAME = "${name}"`,
      'CPU = "1"',
      'VCPU = "1"',
      'MEMORY = "512"',
      `PUBLIC_CLOUD = [ TYPE = "ec2", AMI = "${ami}", INSTANCETYPE = "t3.micro" ]`,
      more,
      "",
    ].join("\n");
  }

  /** Launches a t3.micro without tags, outside the driver; returns its id. */
  async function launchUntagged(userData?: string): Promise<string> {
    const launched = await ec2.send(
      new RunInstancesCommand({
        ImageId: ami,
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        ...(userData !== undefined ? { UserData: userData } : {}),
      }),
    );
    return launched.Instances![0]!.InstanceId!;
  }

  async function onevm(...args: string[]): Promise<string> {
    return await front().must("onevm", ...args);
  }

  realTest(
    `real oned ${R}: installed with its printed lines, the host is MONITORED with its capacity`,
    async () => {
      moto = await useMoto();
      await moto.reset();
      ec2 = new EC2Client({
        region: "us-east-1",
        endpoint: moto.url,
        credentials: { ...CREDENTIALS },
        defaultUserAgentProvider: () => Promise.resolve([["one-hybrid-tests"]]),
      });
      const images = await ec2.send(
        new (await import("@aws-sdk/client-ec2")).DescribeImagesCommand({
          Owners: ["amazon"],
        }),
      );
      ami = images.Images?.find((i) => i.RootDeviceType === "ebs")?.ImageId ?? "";
      assert.match(ami, /^ami-/);
      tmp = await Deno.makeTempDir({ prefix: `hybrid-oned-${R}-` });
      fe = await FrontendClass.prepare(built, tmp);
      const lines = await fe.installDriver(HOST);
      assert.ok(lines.blocks.length >= 1, lines.output);
      // The same driver under the built-in EC2 driver's name, beside it (install-and-upgrade.md):
      // 5.x–6.x ship the built-in driver's directories, which --force moves aside.
      legacyLines = await fe.installDriver(
        LEGACY,
        releaseNumber(R) < 700 ? ["--force"] : [],
        await buildAs("ec2", `${tmp}/dist-ec2`),
      );
      assert.match(legacyLines.hostCommand, /^onehost create \S+ -i ec2 -v ec2\b/);
      configPath = `${fe.location}/etc/hybrid_driver.json`;
      await Deno.mkdir(`${tmp}/partner`);
      partnerFe = await FrontendClass.prepare(built, `${tmp}/partner`);
      await writeConfig(moto.url);
      if (releaseNumber(R) >= 700) {
        // What the driver's documentation tells 7.x operators to add: 7.x's oned.conf no longer
        // lists the EC2 keys as HOST_ENCRYPTED_ATTR (5.10-6.x's did), so oned would keep a
        // host's EC2_SECRET in the clear.
        await Deno.writeTextFile(
          `${fe.location}/etc/oned.conf`,
          '\nHOST_ENCRYPTED_ATTR = "EC2_ACCESS"\nHOST_ENCRYPTED_ATTR = "EC2_SECRET"\n',
          { append: true },
        );
      }
      await fe.start();
      watcher = watch();
      // The host is created with the commands the installer printed.
      hostIds[HOST] = await fe.createHost(HOST, true);
      hostIds[HOST2] = await fe.createHost(HOST2, false);
      const host = await fe.waitHost(hostIds[HOST]!, "MONITORED", 180_000);
      const share = host.children.find((e) => e.name === "HOST_SHARE")!;
      const text = (name: string) => share.children.find((e) => e.name === name)?.text;
      assert.equal(text("TOTAL_CPU"), "800");
      assert.equal(text("TOTAL_MEM"), String(16 * 1024 * 1024));
      await fe.waitHost(hostIds[HOST2]!, "MONITORED", 180_000);
      await Deno.writeTextFile(
        `${tmp}/burst.tmpl`,
        ec2Template("burst", `SCHED_REQUIREMENTS = "NAME = \\"${HOST}\\""`),
      );
      await fe.must("onetemplate", "create", `${tmp}/burst.tmpl`);
    },
  );

  async function writeConfig(endpoint: string, downEndpoint = "http://127.0.0.1:9") {
    const host = {
      region: "us-east-1",
      endpoint,
      // Not the object given to the SDK, which adds a "$source" member to it.
      accessKeyId: CREDENTIALS.accessKeyId,
      secretAccessKey: CREDENTIALS.secretAccessKey,
      capacity: { vcpus: 8, memoryGiB: 16 },
    };
    await Deno.writeTextFile(
      configPath,
      JSON.stringify(
        {
          hosts: {
            [HOST]: host,
            [HOST2]: host,
            [DOWN]: { ...host, endpoint: downEndpoint },
            // Its region, keys and capacity are in its template; the file names the endpoint.
            [TEMPLATED]: { endpoint },
            [LEGACY]: host,
            // No capacity: the partner user's VM quota is the host's.
            [PARTNER]: {
              provider: "opennebula",
              endpoint: partnerFe!.env.ONE_XMLRPC,
              authFile: `${tmp}/partner/partner_auth`,
            },
          },
        },
        null,
        2,
      ),
      { mode: 0o600 },
    );
  }

  /** Samples every VM's state each second, for the "never UNKNOWN" check. */
  async function watch(): Promise<void> {
    while (watching) {
      try {
        for (const vm of await front().vms()) {
          const states = seen.get(vm.id) ?? [];
          const now = `${vm.lcmState} ${vm.deployId}`;
          if (states.at(-1) !== now) states.push(now);
          seen.set(vm.id, states);
        }
      } catch { /* oned busy or stopping */ }
      await new Promise((r) => setTimeout(r, 700));
    }
  }

  realTest(
    `real oned ${R}: deploy, poweroff, resume, poweroff --hard, resume keep one instance`,
    async () => {
      const id = await instantiate("life");
      const first = await settle(id, "RUNNING", "running");
      const cloud = await instance(first.deployId);
      assert.equal(cloud.tags["opennebula:host"], HOST);
      assert.equal(cloud.tags["opennebula:driver"], "one-hybrid");
      await onevm("poweroff", String(id));
      await settle(id, "POWEROFF", "stopped");
      await onevm("resume", String(id));
      assert.equal((await settle(id, "RUNNING", "running")).deployId, first.deployId);
      await onevm("poweroff", "--hard", String(id));
      await settle(id, "POWEROFF", "stopped");
      await onevm("resume", String(id));
      assert.equal((await settle(id, "RUNNING", "running")).deployId, first.deployId);
      // A reboot keeps the VM RUNNING: the VM log says when the driver has done it.
      await onevm("reboot", String(id));
      await front().waitLog(id, /Successfully execute virtualization driver operation: reboot/);
      await settle(id, "RUNNING", "running");
      await onevm("reboot", "--hard", String(id));
      await front().waitLog(id, /Successfully execute virtualization driver operation: reset/);
      assert.equal((await settle(id, "RUNNING", "running")).deployId, first.deployId);
    },
  );

  realTest(
    `real oned ${R}: undeploy and undeploy --hard, suspend, stop: each resumed on its instance`,
    async () => {
      const id = await instantiate("parked");
      const { deployId } = await settle(id, "RUNNING", "running");
      for (
        const [action, parked] of [
          [["undeploy"], "UNDEPLOYED"],
          [["undeploy", "--hard"], "UNDEPLOYED"],
          [["suspend"], "SUSPENDED"],
          [["stop"], "STOPPED"],
        ] as const
      ) {
        await onevm(...action, String(id));
        await front().waitVm(id, parked);
        await waitCloud(deployId, "stopped");
        await onevm("resume", String(id));
        assert.equal(
          (await settle(id, "RUNNING", "running")).deployId,
          deployId,
          `resumed after ${action.join(" ")}`,
        );
      }
      await onevm("terminate", String(id));
      await front().waitVm(id, "DONE");
      await waitCloud(deployId, "terminated");
    },
  );

  realTest(
    `real oned ${R}: migrate is refused by oned, resched keeps the VM on its instance`,
    async () => {
      const id = await instantiate("mover");
      const { deployId } = await settle(id, "RUNNING", "running");
      const migrated = await front().cli("onevm", "migrate", String(id), HOST2);
      if (releaseNumber(R) < 700) {
        // 5.x and 6.x's RequestManagerVirtualMachine refuse to migrate a public cloud VM.
        assert.match(migrated.stderr + migrated.stdout, /Public Cloud/);
      } else {
        // 7.x has no public cloud hosts: a cold migration is save, then restore on the new host,
        // and the instance's host mark follows the VM.
        assert.equal(migrated.code, 0, migrated.stderr);
        await front().waitLog(id, /Successfully execute virtualization driver operation: restore/);
        const vm = await settle(id, "RUNNING", "running");
        assert.equal(vm.deployId, deployId);
        assert.match(JSON.stringify(await front().vm(id)), new RegExp(HOST2));
        assert.equal((await instance(deployId)).tags["opennebula:host"], HOST2);
      }
      await onevm("resched", String(id));
      await new Promise((r) => setTimeout(r, 8000));
      assert.equal((await settle(id, "RUNNING", "running")).deployId, deployId);
      await onevm("terminate", "--hard", String(id));
      await front().waitVm(id, "DONE");
      await waitCloud(deployId, "terminated");
    },
  );

  realTest(
    `real oned ${R}: terminate, terminate --hard and recover --delete leave no instance`,
    async () => {
      const ids = [
        await instantiate("end-1"),
        await instantiate("end-2"),
        await instantiate("end-3"),
      ];
      const deployIds: string[] = [];
      for (const id of ids) deployIds.push((await settle(id, "RUNNING", "running")).deployId);
      await onevm("terminate", String(ids[0]));
      await onevm("terminate", "--hard", String(ids[1]));
      await onevm("recover", "--delete", String(ids[2]));
      for (const [n, id] of ids.entries()) {
        await front().waitVm(id, "DONE");
        await waitCloud(deployIds[n]!, "terminated");
      }
    },
  );

  realTest(
    `real oned ${R}: terminating a powered-off or undeployed VM leaves no instance within one monitoring cycle`,
    async () => {
      const off = await instantiate("off-then-gone");
      const undeployed = await instantiate("undeployed-then-gone");
      const a = (await settle(off, "RUNNING", "running")).deployId;
      const b = (await settle(undeployed, "RUNNING", "running")).deployId;
      await onevm("poweroff", String(off));
      await onevm("undeploy", String(undeployed));
      await front().waitVm(off, "POWEROFF");
      await front().waitVm(undeployed, "UNDEPLOYED");
      await onevm("terminate", String(off));
      await onevm("terminate", String(undeployed));
      await front().waitVm(off, "DONE");
      await front().waitVm(undeployed, "DONE");
      // The suite's MONITOR_VM period is 10 s; one cycle plus the probe's own run.
      await waitCloud(a, "terminated", 40_000);
      await waitCloud(b, "terminated", 40_000);
    },
  );

  realTest(`real oned ${R}: three VMs deployed at once get one instance each`, async () => {
    const ids = await Promise.all(["many-1", "many-2", "many-3"].map(instantiate));
    for (const id of ids) await settle(id, "RUNNING", "running");
    await Promise.all(ids.map((id) => onevm("terminate", String(id))));
    for (const id of ids) await front().waitVm(id, "DONE");
  });

  realTest(
    `real oned ${R}: an instance terminated behind oned's back is never the VM's again`,
    async () => {
      const id = await instantiate("replaced");
      const old = (await settle(id, "RUNNING", "running")).deployId;
      await onevm("poweroff", String(id));
      await settle(id, "POWEROFF", "stopped");
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [old] }));
      await waitCloud(old, "terminated");
      await onevm("resume", String(id));
      const fresh = (await settle(id, "RUNNING", "running")).deployId;
      assert.notEqual(fresh, old);
      // Two full lists and many status runs later, oned still names the new instance.
      const until = Date.now() + 70_000;
      while (Date.now() < until) {
        const vm = (await front().vms()).find((v) => v.id === id);
        assert.equal(vm?.deployId, fresh, `VM ${id} was pointed back at ${vm?.deployId}`);
        assert.equal(vm?.lcmState, "RUNNING");
        await new Promise((r) => setTimeout(r, 1000));
      }
      await onevm("terminate", String(id));
      await front().waitVm(id, "DONE");
    },
  );

  realTest(
    `real oned ${R}: a wild instance is offered, imported, powered off and terminated`,
    async () => {
      const wildId = await launchUntagged();
      if (releaseNumber(R) >= 700) {
        // 7.0 removed importing VMs (onehost importvm, IMPORTED_VMS_ACTIONS): the wild instance
        // is never any VM's, and nothing touches it.
        await new Promise((r) => setTimeout(r, 25_000));
        assert.ok(!(await front().vms()).some((v) => v.deployId === wildId));
        assert.equal((await instance(wildId)).state, "running");
        await ec2.send(new TerminateInstancesCommand({ InstanceIds: [wildId] }));
        return;
      }
      const deadline = Date.now() + 90_000;
      let wilds = "";
      for (;;) {
        const host = await front().host(hostIds[HOST]!);
        wilds = JSON.stringify(host);
        if (wilds.includes(wildId)) break;
        if (Date.now() > deadline) assert.fail(`host ${HOST} never offered ${wildId}`);
        await new Promise((r) => setTimeout(r, 2000));
      }
      await front().must("onehost", "importvm", HOST, wildId);
      const vmId = (await front().vms()).find((v) => v.deployId === wildId)?.id;
      assert.ok(vmId !== undefined, `onehost importvm made no VM of ${wildId}`);
      const vm = await front().waitVm(vmId, "RUNNING");
      assert.equal(vm.deployId, wildId);
      await onevm("poweroff", String(vmId));
      await front().waitVm(vmId, "POWEROFF");
      await waitCloud(wildId, "stopped");
      await onevm("resume", String(vmId));
      await front().waitVm(vmId, "RUNNING");
      await waitCloud(wildId, "running");
      await onevm("terminate", String(vmId));
      await front().waitVm(vmId, "DONE");
      await waitCloud(wildId, "terminated");
    },
  );

  realTest(
    `real oned ${R}: a VM the built-in EC2 driver left running is taken over under its name (ec2): adopted with the driver's tags, counted, powered off, resumed and terminated on its instance`,
    async () => {
      // The built-in driver's deploy: RunInstances without tags, then ONE_ID once it runs.
      const old = await launchUntagged(btoa('ETH0_IP="10.0.0.7"'));
      // Its host, created as the ec2 build's installer prints it.
      const create = legacyLines!.hostCommand.replace(/^onehost create \S+/, "").trim();
      const made = await front().must("onehost", "create", LEGACY, ...create.split(/\s+/));
      hostIds[LEGACY] = Number(made.match(/ID: (\d+)/)?.[1]);
      await front().waitHost(hostIds[LEGACY]!, "MONITORED", 180_000);
      // Its VM: oned has the instance as DEPLOY_ID. Created on hold, so that nothing else places it.
      await Deno.writeTextFile(
        `${tmp}/builtin.tmpl`,
        ec2Template("from-builtin", `DEPLOY_ID = "${old}"`),
      );
      const out = await front().must("onevm", "create", "--hold", `${tmp}/builtin.tmpl`);
      const id = Number(out.match(/ID: (\d+)/)?.[1]);
      assert.ok(Number.isInteger(id), `onevm create printed ${out}`);
      await ec2.send(
        new CreateTagsCommand({ Resources: [old], Tags: [{ Key: "ONE_ID", Value: String(id) }] }),
      );
      // 5.x–6.x import it; 7.x deploys it, and the deploy keeps the deployment's DEPLOY_ID.
      await onevm("deploy", String(id), LEGACY);
      assert.equal((await front().waitVm(id, "RUNNING")).deployId, old);
      const deadline = Date.now() + 90_000;
      while ((await instance(old)).tags["opennebula:driver"] === undefined) {
        if (Date.now() > deadline) assert.fail(`host ${LEGACY} never adopted ${old}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
      assert.deepEqual((await instance(old)).tags, {
        ONE_ID: String(id),
        "opennebula:vm-id": String(id),
        "opennebula:host": LEGACY,
        "opennebula:driver": "one-hybrid",
      });
      await waitUsedCpu(hostIds[LEGACY]!, 200);
      await onevm("poweroff", String(id));
      await settle(id, "POWEROFF", "stopped");
      await onevm("resume", String(id));
      assert.equal((await settle(id, "RUNNING", "running")).deployId, old);
      await onevm("terminate", String(id));
      await front().waitVm(id, "DONE");
      await waitCloud(old, "terminated");
    },
  );

  /** Waits until oned's monitoring of a host says its instances use this CPU (t3.micro: 200). */
  async function waitUsedCpu(hostId: number, cpu: number): Promise<void> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const host = await front().host(hostId);
      const capacity = host.children.find((e) => e.name === "MONITORING")?.children.find((e) =>
        e.name === "CAPACITY"
      );
      const used = capacity?.children.find((e) => e.name === "USED_CPU")?.text;
      if (Number(used) === cpu) return;
      if (Date.now() > deadline) {
        assert.fail(`host ${hostId}'s monitoring has USED_CPU ${used}, not ${cpu}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  realTest(
    `real oned ${R}: a host whose cloud is unreachable goes ERROR with the driver's message and comes back`,
    async () => {
      const id = await front().createHost(DOWN, false);
      const host = await front().waitHost(id, "ERROR", 180_000);
      const error = JSON.stringify(host);
      assert.match(error, /127\.0\.0\.1:9/, `the error names the endpoint: ${error}`);
      await writeConfig(moto.url, moto.url);
      await front().waitHost(id, "MONITORED", 240_000);
      await front().must("onehost", "delete", String(id));
    },
  );

  realTest(
    `real oned ${R}: a host whose region and keys are in its template (onehost update) is monitored and runs a VM; oned keeps the secret encrypted, decrypts it for the driver, and no output of the driver prints it`,
    async () => {
      const one = front();
      const secret = "templatedSecret/K7MDENG/bPxRfiCY0000000001";
      const id = await one.createHost(TEMPLATED, false);
      await Deno.writeTextFile(
        `${tmp}/templated.host`,
        [
          'REGION_NAME = "us-east-1"',
          'EC2_ACCESS = "AKIAMOTOTEMPLATED001"',
          `EC2_SECRET = "${secret}"`,
          'CAPACITY = [ VCPUS = "4", MEMORY_GIB = "8" ]',
          "",
        ].join("\n"),
      );
      await one.must("onehost", "update", String(id), `${tmp}/templated.host`, "--append");
      // What oned keeps: EC2_SECRET encrypted (HOST_ENCRYPTED_ATTR: 6.x's default, 7.x's as
      // the suite's first test configures it) with the key in var/.one/one_key, which the
      // driver's own decryption reads as oned wrote it.
      const template = (await one.host(id)).children.find((e) => e.name === "TEMPLATE")!;
      const stored = template.children.find((e) => e.name === "EC2_SECRET")!.text;
      assert.notEqual(stored, secret);
      const oneKey = await Deno.readTextFile(`${one.location}/var/.one/one_key`);
      assert.equal(await decryptOneValue(stored, oneKey), secret, "oned's own encryption");
      const monitored = await one.waitHost(id, "MONITORED", 240_000);
      const share = monitored.children.find((e) => e.name === "HOST_SHARE")!;
      const total = (name: string) => share.children.find((e) => e.name === name)?.text;
      assert.equal(total("TOTAL_CPU"), "400");
      assert.equal(total("TOTAL_MEM"), String(8 * 1024 * 1024));
      await Deno.writeTextFile(
        `${tmp}/templated.tmpl`,
        [
          'NAME = "templated"',
          'CPU = "1"',
          'VCPU = "1"',
          'MEMORY = "512"',
          `PUBLIC_CLOUD = [ TYPE = "ec2", AMI = "${ami}", INSTANCETYPE = "t3.micro" ]`,
          `SCHED_REQUIREMENTS = "NAME = \\"${TEMPLATED}\\""`,
          "",
        ].join("\n"),
      );
      await one.must("onetemplate", "create", `${tmp}/templated.tmpl`);
      const out = await one.must(
        "onetemplate",
        "instantiate",
        "templated",
        "--name",
        "keys-in-host",
      );
      const vmId = Number(out.match(/VM ID: (\d+)/)?.[1]);
      const vm = await settle(vmId, "RUNNING", "running");
      assert.equal((await instance(vm.deployId)).tags["opennebula:host"], TEMPLATED);
      const mad = one.installed.hostCommand.match(/-v (\S+)/)?.[1];
      const doctor = await one.cli(`../var/remotes/vmm/${mad}/doctor`, TEMPLATED);
      const row = doctor.stdout.replace(/\s+/g, " ");
      assert.match(
        row,
        / sources PASS file \(hosts\.aws-templated\): endpoint; host template: region \(REGION_NAME\), accessKeyId \(EC2_ACCESS\), secretAccessKey \(EC2_SECRET\), capacity \(CAPACITY\); every other setting: its default /,
        doctor.stdout,
      );
      assert.match(
        row,
        / credentials PASS accepted \(accessKeyId AKIAMOTOTEMPLATED001 and its secretAccessKey\)/,
      );
      await onevm("terminate", String(vmId));
      await one.waitVm(vmId, "DONE");
      await waitCloud(vm.deployId, "terminated");
      // The driver's outputs: the VM's log, the probes' (monitord's log), the actions' replies
      // in oned's log (the request log there quotes what the operator sent to onehost update).
      const logs = [
        doctor.stdout + doctor.stderr,
        await one.vmLog(vmId),
        await Deno.readTextFile(`${one.location}/var/monitor.log`).catch(() => ""),
        (await Deno.readTextFile(`${one.location}/var/oned.log`).catch(() => ""))
          .split("\n").filter((line) => !/one\.host\.update/.test(line)).join("\n"),
      ];
      for (const text of logs) assert.ok(!text.includes(secret), tail(text));
      await one.must("onehost", "delete", String(id));
    },
  );

  let partner: PartnerCloud | undefined;
  const partnerCloud = (): PartnerCloud => {
    if (!partner) throw new Error(`the ${R} partner cloud was not made`);
    return partner;
  };
  const pfe = (): Frontend => {
    if (!partnerFe) throw new Error(`the ${R} partner front-end was not prepared`);
    return partnerFe;
  };

  /** The host's TOTAL_CPU and TOTAL_MEM (KiB), as oned has them. */
  async function hostTotals(id: number): Promise<{ cpu: number; memKiB: number }> {
    const share = (await front().host(id)).children.find((e) => e.name === "HOST_SHARE")!;
    const text = (name: string) => share.children.find((e) => e.name === name)?.text;
    return { cpu: Number(text("TOTAL_CPU")), memKiB: Number(text("TOTAL_MEM")) };
  }

  /** Waits until the host's totals are these (each probe run recomputes them). */
  async function waitTotals(id: number, cpu: number, memKiB: number): Promise<void> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const now = await hostTotals(id);
      if (now.cpu === cpu && now.memKiB === memKiB) return;
      if (Date.now() > deadline) {
        assert.fail(
          `host ${id} has TOTAL_CPU ${now.cpu}, TOTAL_MEM ${now.memKiB}, not ${cpu}, ${memKiB}`,
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** The partner VM id a local VM's DEPLOY_ID names. */
  function partnerIdOf(deployId: string): number {
    const id = Number(deployId.match(/^opennebula-hybrid-(\d+)$/)?.[1]);
    assert.ok(Number.isInteger(id), `DEPLOY_ID ${deployId} names no partner VM`);
    return id;
  }

  realTest(
    `real oned ${R}: a partner cloud host (its own oned, a partner user): doctor passes, its capacity is the user's VM quota`,
    async () => {
      await pfe().enableDummyDrivers();
      await pfe().start();
      partner = await createPartnerCloud(pfe(), `${tmp}/partner`);
      await pfe().waitHost(partner.dummyHostId, "MONITORED", 180_000);
      const mad = front().installed.hostCommand.match(/-v (\S+)/)?.[1];
      assert.ok(mad, front().installed.hostCommand);
      const doctor = await front().cli(`../var/remotes/vmm/${mad}/doctor`, PARTNER);
      assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
      assert.match(
        doctor.stdout,
        new RegExp(`accepted \\(user ${partner.user}, id ${partner.userId}\\)`),
      );
      hostIds[PARTNER] = await front().createHost(PARTNER, false);
      await front().waitHost(hostIds[PARTNER]!, "MONITORED", 180_000);
      await waitTotals(hostIds[PARTNER]!, PARTNER_QUOTA.cpu * 100, PARTNER_QUOTA.memoryMiB * 1024);
      await Deno.writeTextFile(
        `${tmp}/partner-burst.tmpl`,
        [
          'NAME = "partner-burst"',
          'CPU = "1"',
          'VCPU = "1"',
          'MEMORY = "512"',
          `PUBLIC_CLOUD = [ TYPE = "opennebula", HOST = "${PARTNER}", TEMPLATE_ID = "${partner.templateId}" ]`,
          'CONTEXT = [ LOCAL_SETTING = "given" ]',
          `SCHED_REQUIREMENTS = "NAME = \\"${PARTNER}\\""`,
          "",
        ].join("\n"),
      );
      await front().must("onetemplate", "create", `${tmp}/partner-burst.tmpl`);
    },
  );

  /** Instantiates a VM of the partner host's template and returns its id. */
  async function instantiatePartner(name: string): Promise<number> {
    const out = await front().must("onetemplate", "instantiate", "partner-burst", "--name", name);
    const id = Number(out.match(/VM ID: (\d+)/)?.[1]);
    assert.ok(Number.isInteger(id), `onetemplate instantiate printed ${out}`);
    return id;
  }

  realTest(
    `real oned ${R}: a partner VM made by hand is taken off the partner host's capacity as oned charges it (CPU, not VCPU)`,
    async () => {
      const p = partnerCloud();
      const id = Number(
        await asPartner(pfe(), p, "one.template.instantiate", p.templateId, "by-hand", false, ""),
      );
      const vm = await waitPartnerVm(pfe(), id, "RUNNING");
      assert.equal(vm.hostname, p.dummyHost);
      assert.deepEqual(await partnerQuota(pfe(), p), {
        vmsUsed: 1,
        cpuUsed: PARTNER_SIZE.cpu,
        memoryUsed: PARTNER_SIZE.memoryMiB,
      });
      await waitTotals(
        hostIds[PARTNER]!,
        (PARTNER_QUOTA.cpu - PARTNER_SIZE.cpu) * 100,
        (PARTNER_QUOTA.memoryMiB - PARTNER_SIZE.memoryMiB) * 1024,
      );
      // The next test's group quota is full with this VM; it ends there.
    },
  );

  realTest(
    `real oned ${R}: a deploy the partner refuses for its group quota fails in one line and leaves no partner VM`,
    async () => {
      const p = partnerCloud();
      await pfe().call(
        "one.group.quota",
        p.groupId,
        `VM = [ MEMORY = "${PARTNER_SIZE.memoryMiB}" ]`,
      );
      const id = await instantiatePartner("refused");
      await front().waitVm(id, "BOOT_FAILURE");
      const log = await front().vmLog(id);
      const line = log.split("\n").find((l) => /Cannot deploy VM/.test(l)) ?? "";
      console.log(`[fact ${R}] refused deploy: ${line}`);
      assert.match(
        line,
        new RegExp(
          `Cannot deploy VM ${id} from partner template ${p.templateId}: .* answered one\\.template\\.instantiate with error \\d+: .*group \\[${p.groupId}\\] limit of ${PARTNER_SIZE.memoryMiB} reached for MEMORY quota`,
        ),
      );
      assert.deepEqual(await partnerVmsNamed(pfe(), `one-${id}-${PARTNER}`), []);
      await onevm("recover", "--delete", String(id));
      // Not waitVm: it fails on the BOOT_FAILURE oned shows until the recover is under way.
      const until = Date.now() + 60_000;
      while ((await front().vms()).some((v) => v.id === id)) {
        if (Date.now() > until) assert.fail(`VM ${id} was not deleted`);
        await new Promise((r) => setTimeout(r, 500));
      }
      await pfe().call("one.group.quota", p.groupId, 'VM = [ MEMORY = "-2" ]');
      const byHand = (await partnerVmsNamed(pfe(), "by-hand"))[0]!;
      await pfe().must("onevm", "terminate", "--hard", String(byHand.id));
      await waitPartnerVm(pfe(), byHand.id, "DONE");
    },
  );

  realTest(
    `real oned ${R}: deploy, poll, poweroff, resume and terminate drive one partner VM on the partner's dummy host to DONE`,
    async () => {
      const p = partnerCloud();
      const id = await instantiatePartner("partner-life");
      const local = await front().waitVm(id, "RUNNING", 180_000);
      const pid = partnerIdOf(local.deployId);
      const vm = await partnerVm(pfe(), pid);
      assert.equal(vm.lcmState, "RUNNING");
      assert.equal(vm.hostname, p.dummyHost);
      assert.equal(vm.owner, p.user);
      assert.equal(vm.group, p.group);
      assert.equal(vm.name, `one-${id}-${PARTNER}`);
      assert.equal(vm.userTemplate.REMOTE_OPENNEBULA, "YES");
      assert.equal(vm.userTemplate.REMOTE_OPENNEBULA_VM_ID, String(id));
      assert.equal(vm.userTemplate.ONE_HYBRID_HOST, PARTNER);
      assert.equal(vm.userTemplate.ONE_HYBRID_DRIVER, "one-hybrid");
      const context = JSON.stringify(
        (await pfe().vm(pid)).children.find((e) => e.name === "TEMPLATE"),
      );
      assert.match(context, /PARTNER_SETTING/);
      assert.match(context, /LOCAL_SETTING/);
      // The probes report the partner VM in the local VM's monitoring.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const named = (e: XmlElement): boolean =>
          (e.name === "ONE_VM_ID" && e.text.trim() === String(pid)) || e.children.some(named);
        if (named(await front().vm(id))) break;
        if (Date.now() > deadline) {
          assert.fail(`VM ${id}'s monitoring never named partner VM ${pid} (ONE_VM_ID)`);
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
      await onevm("poweroff", String(id));
      await front().waitVm(id, "POWEROFF");
      assert.equal((await partnerVm(pfe(), pid)).state, "POWEROFF");
      await onevm("resume", String(id));
      assert.equal((await front().waitVm(id, "RUNNING")).deployId, local.deployId);
      assert.equal((await partnerVm(pfe(), pid)).lcmState, "RUNNING");
      await onevm("terminate", String(id));
      await front().waitVm(id, "DONE");
      await waitPartnerVm(pfe(), pid, "DONE", 30_000);
      const states = [...(await pfe().vmLog(pid)).matchAll(/New (?:LCM )?state is (\w+)/g)];
      console.log(
        `[fact ${R}] partner VM ${pid} passed through: ${states.map((m) => m[1]).join(" ")}`,
      );
      assert.deepEqual(await partnerQuota(pfe(), p), { vmsUsed: 0, cpuUsed: 0, memoryUsed: 0 });
    },
  );

  realTest(
    `real oned ${R}: terminate --hard of a partner host's VM leaves its partner VM DONE`,
    async () => {
      const id = await instantiatePartner("partner-hard");
      const pid = partnerIdOf((await front().waitVm(id, "RUNNING", 180_000)).deployId);
      await onevm("terminate", "--hard", String(id));
      await front().waitVm(id, "DONE");
      await waitPartnerVm(pfe(), pid, "DONE", 30_000);
    },
  );

  realTest(
    `real oned ${R}: the partner's answers as oned sends them (version, failure arrays, codes)`,
    async () => {
      const p = partnerCloud();
      const raw = (method: string, session: string, ...params: (string | number | boolean)[]) =>
        pfe().rpc.call(method, [session, ...params]);
      const session = p.session;
      // Success: [true, result, 0]; from 5.10 a failure is [false, message, code, object id, -1].
      assert.deepEqual(await raw("one.system.version", session), [true, R, 0]);
      assert.deepEqual(await raw("one.vm.info", session, 999999), [
        false,
        "[one.vm.info] Error getting virtual machine [999999].",
        0x400,
        999999,
        -1,
      ]);
      assert.deepEqual(await raw("one.vm.info", `${p.user}:wrong`, -1), [
        false,
        "[one.vm.info] User couldn't be authenticated, aborting call.",
        0x100,
        -1,
        -1,
      ]);
      // A parameter of the wrong type is an XML-RPC fault, not oned's array.
      await assert.rejects(
        raw("one.vm.info", session, "7"),
        /fault -501: Parameter that is supposed to be integer is not/,
      );
      await assert.rejects(
        raw("one.no.such", session),
        /fault -506: Method 'one\.no\.such' not defined/,
      );
      // An action the VM's state does not allow, and an action name of another release.
      const id = Number(
        await asPartner(pfe(), p, "one.template.instantiate", p.templateId, "answers", false, ""),
      );
      await waitPartnerVm(pfe(), id, "RUNNING");
      const notNow = await raw("one.vm.action", session, "resume", id);
      const oldName = await raw("one.vm.action", session, "shutdown-hard", id);
      assert.deepEqual(notNow, [
        false,
        '[one.vm.action] Error performing action "resume": This action is not available for state RUNNING',
        0x800,
        -1,
        -1,
      ]);
      assert.deepEqual(oldName, [
        false,
        '[one.vm.action] Action "shutdown-hard" is not supported',
        0x800,
        -1,
        -1,
      ]);
      await pfe().must("onevm", "terminate", "--hard", String(id));
      await waitPartnerVm(pfe(), id, "DONE");
    },
  );

  realTest(`real oned ${R}: no running VM was ever UNKNOWN; every VM log is clean`, async () => {
    watching = false;
    await watcher;
    const problems: string[] = [];
    for (const [id, states] of seen) {
      if (states.some((s) => s.startsWith("UNKNOWN"))) {
        problems.push(`VM ${id}: ${states.join(" -> ")}`);
      }
      const log = await front().vmLog(id);
      if (/found again/i.test(log)) problems.push(`VM ${id}'s log:\n${tail(log)}`);
    }
    try {
      assert.deepEqual(problems, []);
    } finally {
      await front().stop();
      await partnerFe?.stop();
      ec2.destroy();
      await moto[Symbol.asyncDispose]();
      if (!Deno.env.get("ONE_HYBRID_KEEP")) await Deno.remove(tmp, { recursive: true });
    }
  });
}
