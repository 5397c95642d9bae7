/**
 * CPU and network figures of EC2 VMs read from CloudWatch, against moto (which has CloudWatch,
 * and gives an instance's `AWS/EC2` metrics only once they are put): the built probes and polls
 * of hosts with `"cloudWatch": true`, CloudWatch reached through a proxy that counts its
 * requests, so that "at most one GetMetricData per host and period, paged past 166 instances"
 * is counted, not assumed.
 */

import assert from "node:assert/strict";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import {
  DescribeImagesCommand,
  EC2Client,
  type EC2ClientConfig,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { actionData, vmDeployment } from "./deployments.ts";
import {
  type ActionResult,
  deployedId,
  oneBase64,
  runAction,
  runProcess,
  sharedTest as test,
  writeLocalConfig,
} from "./harness.ts";
import { useMoto } from "./moto.ts";

const CREDENTIALS = { accessKeyId: "AKIAMOTOEXAMPLE00021", secretAccessKey: "motoSecret/cw/x21" };
const REGION = "eu-central-1";
const PERIOD_MS = 300_000;
const DIST = new URL("../dist/im", import.meta.url).pathname;
const MONITOR_CONFIG = "<MONITOR_CONFIGURATION><HOST_ID>0</HOST_ID></MONITOR_CONFIGURATION>";

/** A proxy in front of moto that counts each request's action and how many metrics it asks. */
function countingProxy(target: string) {
  const calls: { action: string; metrics: number }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const body = await request.text();
    const action = /\.(\w+)$/.exec(request.headers.get("x-amz-target") ?? "")?.[1] ?? "?";
    let metrics = 0;
    try {
      metrics = JSON.parse(body).MetricDataQueries?.length ?? 0;
    } catch { /* not GetMetricData's JSON */ }
    calls.push({ action, metrics });
    const headers = new Headers(request.headers);
    for (const name of ["host", "content-length", "connection"]) headers.delete(name);
    const answer = await fetch(`${target}/`, { method: request.method, headers, body });
    return new Response(await answer.arrayBuffer(), {
      status: answer.status,
      headers: { "content-type": answer.headers.get("content-type") ?? "application/json" },
    });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, calls };
}

const moto = await useMoto();
await moto.reset();
const proxy = countingProxy(moto.url);
const sdk: EC2ClientConfig = {
  region: REGION,
  endpoint: moto.url,
  credentials: CREDENTIALS,
  // The default user agent reads os.release(), which needs --allow-sys.
  defaultUserAgentProvider: () => Promise.resolve([["one-hybrid-tests"]]),
};
const ec2 = new EC2Client(sdk);
const cloudWatch = new CloudWatchClient(sdk);
const tmp = await Deno.makeTempDir({ prefix: "hybrid-cloudwatch-" });
globalThis.addEventListener("unload", () => {
  ec2.destroy();
  cloudWatch.destroy();
  moto.kill();
  Deno.removeSync(tmp, { recursive: true });
});
const STATE = `${tmp}/state`;
const reads = { cloudWatch: true, cloudWatchEndpoint: proxy.url };
const config = await writeLocalConfig(`${tmp}/hybrid_driver.json`, moto.url, CREDENTIALS, {
  defaults: { region: REGION, statePollSeconds: 0.1, pollStateDir: STATE },
  hosts: {
    "cw-a": { ...reads, capacity: { "t3.micro": 4 } },
    "cw-off": { cloudWatchEndpoint: proxy.url, capacity: { "t3.micro": 4 } },
    "cw-many": { ...reads, capacity: { "t3.micro": 300 } },
  },
});
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };

const images = await ec2.send(new DescribeImagesCommand({ Owners: ["amazon"] }));
const AMI = images.Images?.find((i) => i.RootDeviceType === "ebs" && i.Architecture === "x86_64")
  ?.ImageId ?? "";
assert.match(AMI, /^ami-/, "moto lists a default x86_64 EBS image");

/** Deploys a t3.micro VM (2 vCPUs) through the built deploy action. */
async function deploy(vmId: number, host: string): Promise<string> {
  const xml = vmDeployment(vmId, { AMI, INSTANCETYPE: "t3.micro" });
  const file = `${tmp}/deployment.${vmId}`;
  await Deno.writeTextFile(file, xml);
  return deployedId(
    await runAction("deploy", [file, host, String(vmId), host], {
      stdin: oneBase64(xml),
      env: ENV,
    }),
  );
}

const vmA = await deploy(40, "cw-a");
const vmB = await deploy(41, "cw-a");
const vmOff = await deploy(42, "cw-off");

/** The start of the period `n` periods before the current one. */
const periodsAgo = (n: number) => new Date((Math.floor(Date.now() / PERIOD_MS) - n) * PERIOD_MS);

/** Puts datapoints of an instance's `AWS/EC2` metrics into moto, as EC2 would publish them. */
async function publish(id: string, points: [name: string, value: number, periodsAgo: number][]) {
  await cloudWatch.send(
    new PutMetricDataCommand({
      Namespace: "AWS/EC2",
      MetricData: points.map(([name, value, ago]) => ({
        MetricName: name,
        Dimensions: [{ Name: "InstanceId", Value: id }],
        Timestamp: periodsAgo(ago),
        Value: value,
        Unit: name === "CPUUtilization" ? "Percent" : "Bytes",
      })),
    }),
  );
}

await publish(vmA, [
  ["CPUUtilization", 55, 3],
  ["CPUUtilization", 40, 2],
  ["NetworkIn", 1000, 3],
  ["NetworkIn", 500, 2],
  ["NetworkOut", 2000, 2],
]);
await publish(vmB, [["CPUUtilization", 10, 2]]);
await publish(vmOff, [["CPUUtilization", 99, 2], ["NetworkIn", 99, 2]]);

/** Runs a probe of a host from its directory with the IM arguments, as OpenNebula's runners do. */
function probe(dir: string, host: string, stdin = ""): Promise<ActionResult> {
  const [file] = [...Deno.readDirSync(`${DIST}/${dir}`)].map((e) => e.name);
  const args = ["provider", "/var/lib/one//datastores", "4124", "20", "0", host];
  return runProcess(`./${file}`, args, { cwd: `${DIST}/${dir}`, env: ENV, stdin });
}

/** The decoded MONITOR of an instance's entry in a vm/monitor report. */
function monitorOf(stdout: string, id: string): string {
  const entry = stdout.split("\n").find((line) => line.includes(`DEPLOY_ID="${id}"`)) ?? "";
  const encoded = /MONITOR="([A-Za-z0-9+/=]+)"/.exec(entry)?.[1];
  assert.ok(encoded, `no MONITOR for ${id} in ${stdout}`);
  return new TextDecoder().decode(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)));
}

/** The usage pairs of a monitoring string, in order. */
const usage = (line: string) =>
  line.split(" ").filter((p) => /^(CPU|USEDCPU|NETTX|NETRX)=/.test(p)).join(" ");

const getMetricData = () => proxy.calls.filter((c) => c.action === "GetMetricData");

test("on moto, vm/monitor reports each running VM's CPU (CloudWatch's percentage times its vCPUs) and cumulative bytes, with one GetMetricData for the host", async () => {
  const result = await probe("provider-probes.d/vm/monitor", "cw-a", MONITOR_CONFIG);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.equal(result.stderr, "");
  // The latest period's 40 % of a t3.micro's 2 vCPUs: 80, as oned counts one busy CPU as 100.
  assert.equal(usage(monitorOf(result.stdout, vmA)), "CPU=80 NETTX=2000 NETRX=1500");
  assert.equal(usage(monitorOf(result.stdout, vmB)), "CPU=20 NETTX=0 NETRX=0");
  assert.match(monitorOf(result.stdout, vmA), /^MEMORY=1048576 CPU=80 NETTX=2000 NETRX=1500 AWS_/);
  assert.deepEqual(getMetricData(), [{ action: "GetMetricData", metrics: 6 }]);
});

test("on moto, the other probes and polls of the period serve the host's read: the 4.x poll probe and a VM's poll, each in its release's keys, without another GetMetricData", async () => {
  const legacy = await probe("provider.d", "cw-a");
  assert.equal(legacy.code, 0, legacy.stdout + legacy.stderr);
  const pollOfA = /POLL="([^"]*)"/.exec(legacy.stdout.slice(legacy.stdout.indexOf(vmA)))?.[1];
  assert.equal(usage(pollOfA ?? ""), "USEDCPU=80 NETTX=2000 NETRX=1500", legacy.stdout);
  const poll = await runAction("poll", [vmA, "cw-a", "40", "cw-a"], {
    stdin: oneBase64(actionData(40, "cw-a", vmA)),
    env: ENV,
  });
  assert.deepEqual([poll.code, poll.stderr], [0, ""]);
  assert.equal(usage(poll.stdout), "CPU=80 NETTX=2000 NETRX=1500");
  assert.equal(getMetricData().length, 1);
});

test("on moto, a host without cloudWatch reports no usage and never asks CloudWatch", async () => {
  const before = proxy.calls.length;
  const result = await probe("provider-probes.d/vm/monitor", "cw-off", MONITOR_CONFIG);
  assert.equal(result.code, 0, result.stdout);
  assert.doesNotMatch(monitorOf(result.stdout, vmOff), /CPU=|NETTX=|NETRX=/);
  const poll = await runAction("poll", [vmOff, "cw-off", "42", "cw-off"], { env: ENV });
  assert.match(poll.stdout, /^STATE=a USEDMEMORY=1048576 AWS_/);
  assert.equal(proxy.calls.length, before);
});

test("on moto, the next period's read adds only what CloudWatch added since: the byte counters keep growing", async () => {
  await publish(vmA, [["NetworkIn", 700, 1], ["CPUUtilization", 30, 1]]);
  // A period later: the host's memory is as old as a period (its file is the driver's own).
  for (const entry of Deno.readDirSync(STATE)) {
    if (!entry.name.endsWith(".usage")) continue;
    const memory = JSON.parse(Deno.readTextFileSync(`${STATE}/${entry.name}`));
    if (memory.host !== "cw-a") continue;
    memory.readAt -= PERIOD_MS;
    Deno.writeTextFileSync(`${STATE}/${entry.name}`, JSON.stringify(memory));
  }
  const result = await probe("provider-probes.d/vm/monitor", "cw-a", MONITOR_CONFIG);
  assert.equal(result.code, 0, result.stdout);
  assert.equal(usage(monitorOf(result.stdout, vmA)), "CPU=60 NETTX=2000 NETRX=2200");
  assert.equal(getMetricData().length, 2);
});

test("on moto, 3.2-4.2 polls of one cycle, run at once, share one read of the host's 200 running instances: two GetMetricData, 166 instances in the first", async () => {
  const launched = await ec2.send(
    new RunInstancesCommand({
      ImageId: AMI,
      InstanceType: "t3.micro",
      MinCount: 200,
      MaxCount: 200,
      TagSpecifications: [{
        ResourceType: "instance",
        Tags: [
          { Key: "opennebula:driver", Value: "one-hybrid" },
          { Key: "opennebula:host", Value: "cw-many" },
          { Key: "opennebula:vm-id", Value: "50" },
        ],
      }],
    }),
  );
  const ids = launched.Instances!.map((i) => i.InstanceId!);
  await publish(ids[199]!, [["CPUUtilization", 25, 2], ["NetworkOut", 42, 2]]);
  const before = getMetricData().length;
  const polls = await Promise.all(
    ids.slice(197).map((id) => runAction("poll", [id, "cw-many", "50", "cw-many"], { env: ENV })),
  );
  for (const poll of polls) assert.deepEqual([poll.code, poll.stderr], [0, ""], poll.stdout);
  assert.equal(usage(polls[2]!.stdout), "USEDCPU=50 NETTX=42 NETRX=0");
  assert.equal(usage(polls[0]!.stdout), "NETTX=0 NETRX=0");
  assert.deepEqual(getMetricData().slice(before).map((c) => c.metrics), [498, 102]);
});

test("on moto, doctor checks that CloudWatch answers a cloudWatch host's GetMetricData (3 metrics), and leaves other hosts' CloudWatch alone", async () => {
  const before = getMetricData().length;
  const doctor = new URL("../dist/vmm/provider/doctor", import.meta.url).pathname;
  const result = await runProcess(doctor, ["cw-a"], { env: ENV });
  assert.equal(result.code, 0, result.stdout);
  assert.match(
    result.stdout,
    /^cw-a +cloudwatch +PASS +GetMetricData answered \(http:\/\/127\.0\.0\.1:\d+\); each$/m,
  );
  assert.deepEqual(getMetricData().slice(before), [{ action: "GetMetricData", metrics: 3 }]);
  const off = await runProcess(doctor, ["cw-off"], { env: ENV });
  assert.doesNotMatch(off.stdout, /^cw-off +cloudwatch/m);
  assert.equal(getMetricData().length, before + 1);
});
