/**
 * The built actions, run as separate processes the way oned runs them, against the local
 * EC2-compatible endpoint: exit code, stdout and stderr checked exactly.
 */

import assert from "node:assert/strict";
import {
  DEFAULT_SECURITY_GROUP,
  DEREGISTERED_AMI,
  type Ec2Endpoint,
  startEc2Endpoint,
  SUBNET_A,
  TEST_CREDENTIALS,
  UBUNTU_AMI,
} from "./ec2_endpoint/mod.ts";
import { AMAZON_LINUX_AMI } from "./ec2_endpoint/mod.ts";
import {
  actionData,
  type Section,
  templateDeployment,
  vmDeployment,
  writeDeployment as writeDeploymentFile,
} from "./deployments.ts";
import {
  type ActionResult,
  deployedId,
  DIST_VMM,
  failureLine,
  fenced,
  FIXTURE_SECTION,
  instanceOf as endpointInstance,
  monitoringPairs,
  oneBase64,
  runAction,
  sharedTest as test,
  writeLocalConfig,
} from "./harness.ts";

const HOST = "aws-test";
const SECTION = { ...FIXTURE_SECTION, TAGS: "team=web,env=burst" };

const tmp = await Deno.makeTempDir({ prefix: "hybrid-actions-" });
const home = `${tmp}/home`;
await Deno.mkdir(home);
const ep: Ec2Endpoint = await startEc2Endpoint({ timing: { pendingMs: 200, shuttingDownMs: 200 } });
const configPath = `${tmp}/hybrid_driver.json`;
await writeLocalConfig(configPath, ep.url, TEST_CREDENTIALS, {
  defaults: { notFoundRetrySeconds: 1, statePollSeconds: 0.1 },
  hosts: { [HOST]: {}, "aws-small": { template: { INSTANCETYPE: "t3.small" } } },
});
const ENV = { HOME: home, HYBRID_DRIVER_CONFIG: configPath };
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

/** Writes a deployment file where oned would, and returns its path. */
const writeDeployment = (vmId: number, xml: string) => writeDeploymentFile(tmp, vmId, xml);
const instanceOf = (id: string) => endpointInstance(ep, id);

/** Deploys a 5.x VM as oned 5.x does (path argument plus base64 stdin). */
async function deploy(
  vmId: number,
  section: Section = SECTION,
  host = HOST,
): Promise<ActionResult> {
  const xml = vmDeployment(vmId, section);
  const path = await writeDeployment(vmId, xml);
  return runAction("deploy", [path, host, String(vmId), host], { stdin: oneBase64(xml), env: ENV });
}

/** Asserts a failure as the contract wants it, with this line (or a line matching it). */
function assertFailure(result: ActionResult, message: string | RegExp): void {
  const line = failureLine(result);
  if (typeof message === "string") assert.equal(line, message);
  else assert.match(line, message);
}

/** Parses a monitoring string into pairs, checking that it is one line of KEY=VALUE. */
function pairs(stdout: string): Record<string, string> {
  assert.match(stdout, /^\S+=\S*( \S+=\S*)*\n$/);
  return monitoringPairs(stdout);
}

async function waitForState(id: string, state: string): Promise<void> {
  for (let i = 0; i < 50 && instanceOf(id).state !== state; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(instanceOf(id).state, state);
}

test("deploy launches one instance, tagged at launch, and prints its id", async () => {
  ep.reset();
  const id = deployedId(await deploy(101));
  const instance = instanceOf(id);
  assert.equal(instance.imageId, AMAZON_LINUX_AMI);
  assert.equal(instance.instanceType, "t3.micro");
  assert.equal(instance.keyName, "one-key");
  assert.equal(instance.subnetId, SUBNET_A);
  assert.deepEqual(instance.securityGroupIds, [DEFAULT_SECURITY_GROUP]);
  assert.match(instance.clientToken ?? "", /^one-101-[0-9a-f]{40}$/);
  assert.deepEqual(instance.tags, {
    "opennebula:vm-id": "101",
    "opennebula:host": HOST,
    "opennebula:driver": "one-hybrid",
    "opennebula:launch-token": instance.clientToken,
    Name: "one-101-web-101",
    team: "web",
    env: "burst",
  });
  for (const tags of Object.values(instance.volumeTags)) {
    assert.equal(tags["opennebula:vm-id"], "101");
  }
  assert.match(instance.clientToken ?? "", /^one-101-[0-9a-f]{40}$/);
  assert.equal(ep.countCalls("RunInstances"), 1);
  const run = ep.calls.find((c) => c.action === "RunInstances")!;
  assert.equal(run.params["TagSpecification.1.ResourceType"], "instance");
});

test("a retried deploy returns the same instance and launches no second one", async () => {
  ep.reset();
  const first = deployedId(await deploy(102));
  const second = deployedId(await deploy(102));
  const third = deployedId(await deploy(102));
  assert.equal(second, first);
  assert.equal(third, first);
  const launched = ep.instances("us-east-1").filter((i) => i.tags["opennebula:vm-id"] === "102");
  assert.equal(launched.length, 1);
});

test("a deploy retried while the first instance is not yet visible still gets that instance", async () => {
  await using slow = await startEc2Endpoint({ timing: { visibilityDelayMs: 1_500 } });
  const config = `${tmp}/slow.json`;
  await writeLocalConfig(config, slow.url, TEST_CREDENTIALS, {
    defaults: { statePollSeconds: 0.1 },
  });

  const path = await writeDeployment(150, vmDeployment(150, SECTION));
  const env = { ...ENV, HYBRID_DRIVER_CONFIG: config };
  const first = deployedId(await runAction("deploy", [path, HOST, "150", HOST], { env }));
  const again = deployedId(await runAction("deploy", [path, HOST, "150", HOST], { env }));
  assert.equal(again, first);
  assert.equal(slow.instances("us-east-1").length, 1);
});

test("a new deployment of the same VM after its instance was terminated launches a new one", async () => {
  ep.reset();
  const first = deployedId(await deploy(103));
  ep.setInstanceState(first, "terminated");
  const second = deployedId(await deploy(103));
  assert.notEqual(second, first);
  assert.equal(
    instanceOf(second).state === "pending" || instanceOf(second).state === "running",
    true,
  );
});

test("a new deployment file of the same VM gets a token of its own", async () => {
  ep.reset();
  const xml = vmDeployment(104, SECTION);
  const first = deployedId(
    await runAction("deploy", [await writeDeployment(104, xml), HOST, "104", HOST], { env: ENV }),
  );
  const next = await writeDeploymentFile(tmp, 104, xml, 1);
  const second = deployedId(await runAction("deploy", [next, HOST, "104", HOST], { env: ENV }));
  assert.notEqual(second, first, "deployment.1 is a new deploy, not a retry of deployment.0");
  const tokens = ep.calls.filter((c) => c.action === "RunInstances").map((c) =>
    c.params.ClientToken
  );
  assert.equal(tokens.length, 2);
  assert.match(tokens[1] ?? "", /^one-104-[0-9a-f]{40}$/);
  assert.notEqual(tokens[1], tokens[0]);
});

test("a retried deploy that finds its instance stopped starts it and returns it", async () => {
  ep.reset();
  const first = deployedId(await deploy(105));
  ep.setInstanceState(first, "stopped");
  assert.equal(deployedId(await deploy(105)), first);
  assert.equal(instanceOf(first).state, "running");
  assert.equal(ep.countCalls("RunInstances"), 1);
});

test("deploy reads the deployment file from base64 stdin when the path is not on this machine", async () => {
  ep.reset();
  const xml = vmDeployment(104, SECTION);
  const result = await runAction(
    "deploy",
    ["/var/lib/one/vms/104/deployment.0", HOST, "104", HOST],
    {
      stdin: oneBase64(xml),
      env: ENV,
    },
  );
  const id = deployedId(result);
  assert.equal(instanceOf(id).tags["opennebula:vm-id"], "104");
});

test("deploy of an OpenNebula 3.2 template with the seed's three arguments", async () => {
  ep.reset();
  const path = await writeDeployment(
    105,
    templateDeployment(105, { ...SECTION, AMI: UBUNTU_AMI, CLOUD: HOST }),
  );
  const id = deployedId(await runAction("deploy", [path, HOST, "105"], { env: ENV }));
  assert.equal(instanceOf(id).imageId, UBUNTU_AMI);
  assert.equal(instanceOf(id).tags.Name, "one-105-legacy-105");
});

test("deploy takes template defaults from the host's configuration", async () => {
  ep.reset();
  const { INSTANCETYPE: _, ...withoutType } = SECTION;
  const id = deployedId(await deploy(106, withoutType, "aws-small"));
  assert.equal(instanceOf(id).instanceType, "t3.small");
  assert.equal(instanceOf(id).tags["opennebula:host"], "aws-small");
});

test("poll reports STATE=a with the instance's facts, MEMORY for 5.x and USEDMEMORY for 3.2", async () => {
  ep.reset();
  const id = deployedId(await deploy(107));
  await waitForState(id, "running");
  const instance = instanceOf(id);
  const describesBefore = ep.countCalls("DescribeInstances");
  const modern = await runAction("poll", [id, HOST, "107", HOST], {
    stdin: oneBase64(actionData(107, HOST, id)),
    env: ENV,
  });
  assert.equal(modern.code, 0);
  assert.equal(modern.stderr, "");
  const got = pairs(modern.stdout);
  assert.ok(modern.stdout.startsWith("STATE=a MEMORY=1048576 AWS_STATE=running "));
  assert.equal(got.AWS_INSTANCE_TYPE, "t3.micro");
  assert.equal(got.AWS_IMAGE_ID, AMAZON_LINUX_AMI);
  assert.equal(got.AWS_PRIVATE_IP_ADDRESS, instance.privateIpAddress);
  assert.equal(got.AWS_PUBLIC_IP_ADDRESS, instance.publicIpAddress);
  assert.equal(got.AWS_AVAILABILITY_ZONE, instance.availabilityZone);
  assert.equal(got.AWS_SUBNET_ID, SUBNET_A);
  assert.equal(got.AWS_SECURITY_GROUPS, DEFAULT_SECURITY_GROUP);
  assert.equal(got.AWS_KEY_NAME, "one-key");
  assert.match(got.AWS_VPC_ID ?? "", /^vpc-[0-9a-f]+$/);
  assert.match(got.AWS_PRIVATE_DNS_NAME ?? "", /^ip-[0-9-]+\./);
  // Launch times are compared to the second: EC2 reports whole seconds.
  assert.equal(
    Math.floor(Date.parse(got.AWS_LAUNCH_TIME ?? "") / 1000),
    Math.floor(instance.launchTime.getTime() / 1000),
  );

  const legacy = await runAction("poll", [id, HOST, "107"], { env: ENV });
  assert.equal(legacy.code, 0);
  assert.ok(legacy.stdout.startsWith("STATE=a USEDMEMORY=1048576 AWS_STATE=running "));
  assert.equal(
    ep.countCalls("DescribeInstances") - describesBefore,
    1,
    "one listing, which serves the second poll too",
  );
});

test("poll reports a stopped instance as STATE=p", async () => {
  ep.reset();
  const id = deployedId(await deploy(108));
  ep.setInstanceState(id, "stopped");
  const result = await runAction("poll", [id, HOST, "108", HOST], { env: ENV });
  assert.equal(result.code, 0);
  assert.ok(result.stdout.startsWith("STATE=p AWS_STATE=stopped "), result.stdout);
});

test("shutdown terminates the instance, and a later poll reports STATE=d", async () => {
  ep.reset();
  const id = deployedId(await deploy(109));
  const result = await runAction("shutdown", [id, HOST, "109", HOST], {
    stdin: oneBase64(actionData(109, HOST, id, { lcmState: 12 })),
    env: ENV,
  });
  assert.deepEqual(result, { code: 0, stdout: "", stderr: "" });
  assert.ok(["shutting-down", "terminated"].includes(instanceOf(id).state));
  await waitForState(id, "terminated");
  const poll = await runAction("poll", [id, HOST, "109", HOST], { env: ENV });
  assert.equal(poll.code, 0);
  assert.ok(poll.stdout.startsWith("STATE=d AWS_STATE=terminated "), poll.stdout);
});

test("cancel terminates, and cancelling again succeeds", async () => {
  ep.reset();
  const id = deployedId(await deploy(110));
  const stdin = oneBase64(actionData(110, HOST, id, { lcmState: 13 }));
  assert.deepEqual(await runAction("cancel", [id, HOST, "110", HOST], { stdin, env: ENV }), {
    code: 0,
    stdout: "",
    stderr: "",
  });
  await waitForState(id, "terminated");
  assert.deepEqual(await runAction("cancel", [id, HOST, "110"], { stdin, env: ENV }), {
    code: 0,
    stdout: "",
    stderr: "",
  });
});

test("shutdown of a deploy id the cloud does not know succeeds after retrying", async () => {
  ep.reset();
  const result = await runAction("shutdown", ["i-0123456789abcdef0", HOST, "111", HOST], {
    stdin: oneBase64(actionData(111, HOST, "i-0123456789abcdef0", { lcmState: 12 })),
    env: ENV,
  });
  assert.deepEqual(result, { code: 0, stdout: "", stderr: "" });
  assert.ok(
    ep.countCalls("TerminateInstances") >= 2,
    "a not-found is asked again before it is believed",
  );
});

test("poll of an unknown deploy id fails, naming InvalidInstanceID.NotFound", async () => {
  ep.reset();
  const result = await runAction("poll", ["i-0123456789abcdef0", HOST, "112", HOST], { env: ENV });
  assertFailure(
    result,
    "Cannot describe i-0123456789abcdef0: InvalidInstanceID.NotFound: The instance ID 'i-0123456789abcdef0' does not exist",
  );
});

test("poll of an unknown deploy id shortly after its deploy fails: not visible yet is not gone", async () => {
  const recent = Math.floor(Date.now() / 1000) - 5;
  const result = await runAction("poll", ["i-0123456789abcdef0", HOST, "114", HOST], {
    stdin: oneBase64(actionData(114, HOST, "i-0123456789abcdef0", { stime: recent })),
    env: ENV,
  });
  assertFailure(
    result,
    "Cannot describe i-0123456789abcdef0: InvalidInstanceID.NotFound: The instance ID 'i-0123456789abcdef0' does not exist",
  );
});

test("poll of an unknown deploy id long after its deploy reports STATE=d", async () => {
  const old = Math.floor(Date.now() / 1000) - 3600;
  const result = await runAction("poll", ["i-0123456789abcdef0", HOST, "113", HOST], {
    stdin: oneBase64(actionData(113, HOST, "i-0123456789abcdef0", { stime: old })),
    env: ENV,
  });
  assert.deepEqual(result, { code: 0, stdout: "STATE=d AWS_STATE=not-found\n", stderr: "" });
});

test("poll while the endpoint is unreachable fails, and never reports the VM gone", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const config = await writeLocalConfig(
    `${tmp}/unreachable.json`,
    `http://127.0.0.1:${port}`,
    TEST_CREDENTIALS,
    { defaults: { actionTimeoutSeconds: 15, stateWaitSeconds: 5 } },
  );
  const old = Math.floor(Date.now() / 1000) - 3600;
  const result = await runAction("poll", ["i-0123456789abcdef0", HOST, "115", HOST], {
    stdin: oneBase64(actionData(115, HOST, "i-0123456789abcdef0", { stime: old })),
    env: { HOME: home, HYBRID_DRIVER_CONFIG: config },
  });
  // Asked again until the 15 s deadline is near, then failed, naming the attempts.
  assert.equal(result.code, 1);
  assert.match(
    result.stdout,
    new RegExp(
      `^Cannot list the instances: DescribeInstances to http://127\\.0\\.0\\.1:${port} could not connect: ECONNREFUSED \\([4-9]\\d* attempts in \\d+\\.\\d s\\)\n$`,
    ),
  );
  assert.equal(result.stderr, fenced(result.stdout.trimEnd()));
});

test("poll of a deploy id that is not an EC2 id fails without calling the API", async () => {
  ep.reset();
  assertFailure(
    await runAction("poll", ["vm-42", HOST, "114", HOST], { env: ENV }),
    'Invalid deploy id "vm-42": not an EC2 instance id (i-xxxxxxxxxxxxxxxxx)',
  );
  assert.equal(ep.countCalls(), 0);
});

test("deploy without AMI fails, naming the attribute, and calls nothing", async () => {
  ep.reset();
  const { AMI: _, ...withoutAmi } = SECTION;
  assertFailure(await deploy(120, withoutAmi), "PUBLIC_CLOUD attribute AMI is missing");
  assert.equal(ep.countCalls(), 0);
});

test("deploy with a malformed AMI id fails before any API call", async () => {
  ep.reset();
  assertFailure(
    await deploy(121, { ...SECTION, AMI: "ubuntu-22.04" }),
    /^Invalid PUBLIC_CLOUD attribute AMI: "ubuntu-22.04"/,
  );
  assert.equal(ep.countCalls(), 0);
});

test("deploy of an AMI that does not exist fails with InvalidAMIID.NotFound and leaves nothing", async () => {
  ep.reset();
  assertFailure(
    await deploy(122, { ...SECTION, AMI: DEREGISTERED_AMI }),
    /^Cannot launch instance: InvalidAMIID\.NotFound: /,
  );
  assert.equal(ep.instances("us-east-1").length, 0);
});

test("deploy of a malformed deployment file fails with the XML position and calls nothing", async () => {
  ep.reset();
  const path = await writeDeployment(123, "<VM><ID>123</ID><TEMPLATE><CPU>1</TEMPLATE></VM>");
  assertFailure(
    await runAction("deploy", [path, HOST, "123", HOST], { env: ENV }),
    /^Cannot read deployment file: invalid XML at line 1, column \d+: /,
  );
  assert.equal(ep.countCalls(), 0);
});

test("deploy of a missing deployment file with empty stdin fails clearly", async () => {
  ep.reset();
  assertFailure(
    await runAction("deploy", [`${tmp}/vms/124/deployment.0`, HOST, "124", HOST], { env: ENV }),
    `Cannot read deployment file ${tmp}/vms/124/deployment.0: no such file, and standard input is empty`,
  );
  assert.equal(ep.countCalls(), 0);
});

test("deploy to a host the configuration does not list fails and launches nothing", async () => {
  ep.reset();
  const path = await writeDeployment(125, vmDeployment(125, SECTION));
  assertFailure(
    await runAction("deploy", [path, "aws-nowhere", "125", "aws-nowhere"], { env: ENV }),
    `Host "aws-nowhere" is not configured in ${configPath} (configured hosts: ${HOST}, aws-small)`,
  );
  assert.equal(ep.countCalls(), 0);
});

test("deploy with no credentials anywhere fails clearly, without waiting on instance metadata", async () => {
  ep.reset();
  const path = await writeDeployment(126, vmDeployment(126, SECTION));
  const result = await runAction("deploy", [path, HOST, "126", HOST], {
    env: {
      HOME: home,
      HYBRID_DRIVER_CONFIG: "",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_EC2: ep.url,
    },
  });
  assertFailure(
    result,
    `Cannot launch instance: no AWS credentials for host ${HOST}, region us-east-1 (looked in the driver configuration, environment variables and shared config/credentials files)`,
  );
  assert.equal(ep.countCalls(), 0);
});

test("deploy with an unknown access key fails with AuthFailure and never prints the secret", async () => {
  ep.reset();
  const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYUNKNOWNKEY";
  const config = await writeLocalConfig(`${tmp}/badkey.json`, ep.url, {
    accessKeyId: "AKIAUNKNOWN000000000",
    secretAccessKey: secret,
  });
  const path = await writeDeployment(127, vmDeployment(127, SECTION));
  const result = await runAction("deploy", [path, HOST, "127", HOST], {
    env: { HOME: home, HYBRID_DRIVER_CONFIG: config },
  });
  assertFailure(
    result,
    /^Cannot launch instance: AuthFailure: .* \(host aws-test, region us-east-1\)$/,
  );
  assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret));
  assert.equal(ep.instances("us-east-1").length, 0);
});

test("actions work with no driver configuration: environment credentials and AWS_ENDPOINT_URL_EC2", async () => {
  ep.reset();
  const path = await writeDeployment(128, vmDeployment(128, SECTION));
  const env = {
    HOME: home,
    HYBRID_DRIVER_CONFIG: "",
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_EC2: ep.url,
  };
  const id = deployedId(await runAction("deploy", [path, HOST, "128", HOST], { env }));
  const poll = await runAction("poll", [id, HOST, "128", HOST], { env });
  assert.equal(poll.code, 0);
  assert.match(poll.stdout, /^STATE=a /);
});

test("an AWS_REGION that is no region name fails before the SDK or the endpoint sees it", async () => {
  ep.reset();
  const path = await writeDeployment(129, vmDeployment(129, SECTION));
  const env = {
    HOME: home,
    HYBRID_DRIVER_CONFIG: "",
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: "us-east-1/../evil.example",
    AWS_ENDPOINT_URL_EC2: ep.url,
  };
  assertFailure(
    await runAction("deploy", [path, HOST, "129", HOST], { env }),
    "AWS_REGION must be a region name: up to 64 letters, digits, '-', '_' or '.' (e.g. us-east-1)",
  );
  assert.equal(ep.countCalls(), 0);
});

test("a host's profile reads credentials from oneadmin's shared AWS files", async () => {
  ep.reset();
  const profileHome = `${tmp}/profile-home`;
  await Deno.mkdir(`${profileHome}/.aws`, { recursive: true });
  await Deno.writeTextFile(
    `${profileHome}/.aws/credentials`,
    `[burst]\naws_access_key_id = ${TEST_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${TEST_CREDENTIALS.secretAccessKey}\n`,
  );
  const config = `${tmp}/profile.json`;
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      hosts: { "aws-profile": { region: "eu-west-1", profile: "burst", endpoint: ep.url } },
    }),
  );
  const path = await writeDeployment(129, vmDeployment(129, SECTION));
  const result = await runAction("deploy", [path, "aws-profile", "129", "aws-profile"], {
    env: { HOME: profileHome, HYBRID_DRIVER_CONFIG: config },
  });
  const id = deployedId(result);
  assert.ok(
    ep.instances("eu-west-1").some((i) => i.instanceId === id),
    "launched in the profile host's region",
  );
});

test("an action reads all of a large stdin, so oned's writer never sees a broken pipe", async () => {
  const big = actionData(130, HOST, "i-0123456789abcdef0") + `<!--${"x".repeat(300_000)}-->`;
  const result = await runAction("poll", ["not-an-id", HOST, "130", HOST], {
    stdin: oneBase64(big),
    env: ENV,
  });
  assertFailure(
    result,
    'Invalid deploy id "not-an-id": not an EC2 instance id (i-xxxxxxxxxxxxxxxxx)',
  );
});

test("a failing action still reads stdin that arrives after it is done, so oned's writer never sees a broken pipe", async () => {
  // one_vmm_sh writes the action data while the action runs; exiting first makes the write fail
  // (EPIPE), which oned records as a FAILURE whatever the exit code.
  const result = await runAction("poll", ["not-an-id", HOST, "132", HOST], {
    stdin: oneBase64(actionData(132, HOST, "i-0123456789abcdef0")),
    stdinPauseMs: 500,
    env: ENV,
  });
  assertFailure(
    result,
    'Invalid deploy id "not-an-id": not an EC2 instance id (i-xxxxxxxxxxxxxxxxx)',
  );
});

test("an action that fails before reading stdin, or never reads it, still drains it, so oned's writer never sees a broken pipe", async () => {
  // Only the frame reads stdin here: the wrong arguments fail before the action data is read,
  // and reboot has no use for it. The second half arrives well after either is done.
  assertFailure(
    await runAction("poll", ["i-0123456789abcdef0", HOST], {
      stdin: oneBase64(actionData(134, HOST, "i-0123456789abcdef0")),
      stdinPauseMs: 1_500,
      env: ENV,
    }),
    "Wrong number of arguments for poll: got 2, expected 3 or 4. Usage: poll <deploy_id> <host> <vmid> [<host>]",
  );
  ep.reset();
  const id = deployedId(await deploy(135));
  const rebooted = await runAction("reboot", [id, HOST, "135", HOST], {
    stdin: oneBase64(actionData(135, HOST, id)),
    stdinPauseMs: 1_500,
    env: ENV,
  });
  assert.deepEqual(rebooted, { code: 0, stdout: "", stderr: "" });
  assert.equal(ep.countCalls("RebootInstances"), 1);
});

test("an action that fails on its arguments drains a stdin larger than a pipe buffer, so the shell's writer is not killed by SIGPIPE", async () => {
  // oned's driver layer pipes the action data into the action; a writer whose reader exited
  // first dies of SIGPIPE (141), and oned records a failure whatever the action said. 1 MiB
  // is more than a pipe holds, so the writer blocks until the action reads. The frame drains
  // stdin.
  for (const env of [ENV]) {
    const out = await new Deno.Command("bash", {
      args: [
        "-c",
        'head -c 1048576 /dev/zero | base64 | "$0" "$@" >&2; echo "${PIPESTATUS[*]}"',
        `${DIST_VMM}poll`,
        "i-0123456789abcdef0",
        HOST,
      ],
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(out.stderr);
    assert.equal(
      new TextDecoder().decode(out.stdout),
      "0 0 1\n",
      `exit codes of the pipeline (${output})`,
    );
    assert.match(output, /^Wrong number of arguments for poll: got 2, expected 3 or 4\. /);
  }
});

test("a deploy that reads its deployment from the file still reads all of stdin", async () => {
  ep.reset();
  const xml = vmDeployment(133, SECTION);
  const path = await writeDeployment(133, xml);
  const result = await runAction("deploy", [path, HOST, "133", HOST], {
    stdin: oneBase64(xml),
    stdinPauseMs: 500,
    env: ENV,
  });
  deployedId(result);
});

test("an action with the wrong number of arguments prints its usage", async () => {
  assertFailure(
    await runAction("shutdown", ["i-0123456789abcdef0"], { env: ENV }),
    "Wrong number of arguments for shutdown: got 1, expected 3 or 4. Usage: shutdown <deploy_id> <host> <vmid> [<host>]",
  );
});

test("an action run from a terminal does not wait for stdin", async () => {
  // `script` gives the action a pseudo-terminal as stdin that never closes.
  const command = new Deno.Command("script", {
    args: ["-qec", `${DIST_VMM}poll bad-id ${HOST} 131 ${HOST}`, "/dev/null"],
    env: ENV,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => command.kill(), 10_000);
  const out = await command.output();
  clearTimeout(timer);
  assert.equal(out.code, 1, "finished on its own, with the failure's exit code");
  assert.match(new TextDecoder().decode(out.stdout), /Invalid deploy id "bad-id"/);
});
