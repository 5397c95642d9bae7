/**
 * Several accounts behind one front-end, against moto, whose STS answers `AssumeRole` and
 * `AssumeRoleWithWebIdentity` with keys of the role's account and whose EC2 files each
 * instance under the account of the keys that launched it. The built `dist/` actions run as
 * oned 5.x runs them; what the role's keys did is read back from moto (instance owners, the
 * roles moto's STS handed out), never from the driver's own view.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { SimulatedVm } from "./one_vmm.ts";
import { fenced, oneBase64, runAction, sharedTest as test } from "./harness.ts";
import { actionData } from "./deployments.ts";
import { useMoto } from "./moto.ts";

const MAIN_ACCOUNT = "123456789012"; // moto's account for keys it does not know
const BURST_ACCOUNT = "111111111111";
const OIDC_ACCOUNT = "222222222222";
const BURST_ROLE = `arn:aws:iam::${BURST_ACCOUNT}:role/one-burst`;
const OIDC_ROLE = `arn:aws:iam::${OIDC_ACCOUNT}:role/one-oidc`;
const KEYS = { accessKeyId: "AKIAMOTOEXAMPLE00002", secretAccessKey: "motoSecret/K7MDENG/x2" };

const moto = await useMoto();
await moto.reset();
const tmp = await Deno.makeTempDir({ prefix: "hybrid-accounts-" });
const tokenFile = `${tmp}/oidc-token`;
await Deno.writeTextFile(tokenFile, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvbmVhZG1pbiJ9.c2lnbmF0dXJl\n");
const config = `${tmp}/hybrid_driver.json`;
await Deno.writeTextFile(
  config,
  JSON.stringify({
    defaults: {
      region: "us-east-1",
      endpoint: moto.url,
      stsEndpoint: moto.url,
      statePollSeconds: 0.1,
      notFoundRetrySeconds: 1,
    },
    hosts: {
      "aws-main": { ...KEYS },
      "aws-burst": {
        ...KEYS,
        roleArn: BURST_ROLE,
        externalId: "one-hybrid-burst",
        roleSessionName: "oned-burst",
      },
      "aws-oidc": { roleArn: OIDC_ROLE, webIdentityTokenFile: tokenFile },
      "aws-no-token": { roleArn: OIDC_ROLE, webIdentityTokenFile: `${tmp}/missing-token` },
    },
  }),
  { mode: 0o600 },
);
const ENV = { HOME: tmp, HYBRID_DRIVER_CONFIG: config };
const clients: EC2Client[] = [];
globalThis.addEventListener("unload", () => {
  for (const client of clients) client.destroy();
  moto.kill();
  Deno.removeSync(tmp, { recursive: true });
});

/** An SDK client that sees moto as one account (moto's `x-moto-account-id` header). */
function clientOf(account: string): EC2Client {
  const client = new EC2Client({
    region: "us-east-1",
    endpoint: moto.url,
    credentials: { ...KEYS }, // a copy: the SDK marks the object it is given
    defaultUserAgentProvider: () => Promise.resolve([["one-hybrid-tests"]]),
  });
  client.middlewareStack.add((next) => (args) => {
    (args.request as { headers: Record<string, string> }).headers["x-moto-account-id"] = account;
    return next(args);
  }, { step: "build" });
  clients.push(client);
  return client;
}

/** The owner account and id of every instance one account sees. */
async function ownersIn(account: string): Promise<Map<string, string>> {
  const out = await clientOf(account).send(new DescribeInstancesCommand({}));
  return new Map(
    (out.Reservations ?? []).flatMap((r) =>
      (r.Instances ?? []).map((i) => [i.InstanceId!, r.OwnerId!] as const)
    ),
  );
}

/** The roles moto's STS handed out, from its own record of them. */
async function assumedRoles(): Promise<Record<string, string | null>[]> {
  const response = await fetch(`${moto.url}/moto-api/data.json`);
  const data = await response.json();
  return data.sts?.AssumedRole ?? [];
}

const AMI =
  (await clientOf(MAIN_ACCOUNT).send(new DescribeImagesCommand({ Owners: ["amazon"] }))).Images
    ?.find((i) => i.RootDeviceType === "ebs" && i.Architecture === "x86_64")?.ImageId ?? "";
assert.match(AMI, /^ami-/, "moto lists a default x86_64 EBS image");
const SECTION = { AMI, INSTANCETYPE: "t3.micro" };

const vm = (id: number, host: string) => new SimulatedVm("5.x", id, host, SECTION, tmp, ENV);

test("two hosts on two accounts: the host with a role launches in the role's account, with the role's keys", async () => {
  const main = vm(901, "aws-main");
  const burst = vm(902, "aws-burst");
  assert.match(await main.deploy(), /^DEPLOY SUCCESS 901 i-[0-9a-f]{17}$/);
  assert.match(await burst.deploy(), /^DEPLOY SUCCESS 902 i-[0-9a-f]{17}$/);

  const inMain = await ownersIn(MAIN_ACCOUNT);
  const inBurst = await ownersIn(BURST_ACCOUNT);
  assert.equal(inMain.get(main.deployId!), MAIN_ACCOUNT);
  assert.equal(
    inMain.has(burst.deployId!),
    false,
    "the role's instance is not in the keys' account",
  );
  assert.equal(inBurst.get(burst.deployId!), BURST_ACCOUNT);
  assert.equal(inBurst.has(main.deployId!), false);

  const role = (await assumedRoles()).find((r) => r.role_arn === BURST_ROLE);
  assert.ok(role, "moto's STS handed out the burst role");
  assert.equal(role.external_id, "one-hybrid-burst");
  assert.equal(role.session_name, "oned-burst");
  assert.equal(role.account_id, BURST_ACCOUNT);

  // Each host keeps to its account: poll finds its own instance, and the other host's is unknown.
  assert.match(await burst.poll(), /^POLL SUCCESS 902 STATE=a /);
  const crossed = await runAction("poll", [burst.deployId!, "aws-main", "902", "aws-main"], {
    stdin: oneBase64(actionData(902, "aws-main", burst.deployId!)),
    env: ENV,
  });
  assert.equal(crossed.code, 1);
  assert.match(crossed.stdout, /InvalidInstanceID\.NotFound/);
  assert.equal(await burst.terminate(true), "CANCEL SUCCESS 902 -");
});

test("a host with a web-identity token file launches in its role's account", async () => {
  const oidc = vm(903, "aws-oidc");
  assert.match(await oidc.deploy(), /^DEPLOY SUCCESS 903 i-[0-9a-f]{17}$/);
  assert.equal((await ownersIn(OIDC_ACCOUNT)).get(oidc.deployId!), OIDC_ACCOUNT);
  assert.equal((await ownersIn(MAIN_ACCOUNT)).has(oidc.deployId!), false);
  assert.ok((await assumedRoles()).some((r) => r.role_arn === OIDC_ROLE));
});

test("a missing web-identity token file fails the action naming the role and the file", async () => {
  const id = "i-0123456789abcdef0";
  const result = await runAction("poll", [id, "aws-no-token", "904", "aws-no-token"], {
    stdin: oneBase64(actionData(904, "aws-no-token", id)),
    env: ENV,
  });
  const line =
    `Cannot list the instances: cannot assume role ${OIDC_ROLE} for host aws-no-token, region us-east-1: cannot read web identity token file ${tmp}/missing-token: no such file`;
  assert.equal(result.code, 1);
  assert.equal(result.stdout, `${line}\n`);
  assert.equal(result.stderr, fenced(line));
});

test("the secret key and session token moto's STS hands out never reach the output, even when EC2 echoes them", async () => {
  // An EC2 endpoint that answers AuthFailure quoting the role's secret key (read from moto's
  // record of the roles it handed out) and the session token it was sent.
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    await request.body?.cancel();
    const token = request.headers.get("x-amz-security-token") ?? "none";
    const keyId = /Credential=([A-Z0-9]+)\//.exec(request.headers.get("authorization") ?? "")?.[1];
    const secret = (await assumedRoles()).find((r) => r.access_key_id === keyId)
      ?.secret_access_key ?? "unknown";
    seen.push({ token, secret });
    return new Response(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>AuthFailure</Code><Message>Key ${secret} with token ${token} was not accepted</Message></Error></Errors><RequestID>0f1e2d3c-aaaa-bbbb-cccc-000000000001</RequestID></Response>`,
      { status: 401, headers: { "content-type": "text/xml;charset=UTF-8" } },
    );
  });
  const seen: { token: string; secret: string }[] = [];
  try {
    const echoConfig = `${tmp}/echo.json`;
    await Deno.writeTextFile(
      echoConfig,
      JSON.stringify({
        hosts: {
          "aws-echo": {
            ...KEYS,
            region: "us-east-1",
            endpoint: `http://127.0.0.1:${server.addr.port}`,
            stsEndpoint: moto.url,
            roleArn: BURST_ROLE,
            notFoundRetrySeconds: 1,
          },
        },
      }),
      { mode: 0o600 },
    );
    const id = "i-0123456789abcdef1";
    const result = await runAction("poll", [id, "aws-echo", "905", "aws-echo"], {
      stdin: oneBase64(actionData(905, "aws-echo", id)),
      env: { HOME: tmp, HYBRID_DRIVER_CONFIG: echoConfig },
    });
    assert.ok(seen.length >= 1);
    const { token, secret } = seen[0]!;
    assert.notEqual(secret, "unknown", "the request was signed with keys moto's STS handed out");
    assert.ok(token.length > 20, "the request carried the role's session token");
    const line =
      `Cannot list the instances: AuthFailure: Key *** with token *** was not accepted (host aws-echo, region us-east-1)`;
    assert.equal(result.code, 1);
    assert.equal(result.stdout, `${line}\n`);
    assert.equal(result.stderr, fenced(line));
  } finally {
    await server.shutdown();
  }
});

test("a configuration holding secrets is refused while others may read it, and accepted at 0600", async () => {
  const path = `${tmp}/loose.json`;
  await Deno.writeTextFile(
    path,
    JSON.stringify({ hosts: { "aws-main": { ...KEYS, region: "us-east-1", endpoint: moto.url } } }),
  );
  await Deno.chmod(path, 0o644);
  const main = vm(906, "aws-main");
  assert.match(await main.deploy(), /^DEPLOY SUCCESS 906 i-[0-9a-f]{17}$/);
  const args = [main.deployId!, "aws-main", "906", "aws-main"];
  const stdin = oneBase64(actionData(906, "aws-main", main.deployId!));
  const env = { HOME: tmp, HYBRID_DRIVER_CONFIG: path };
  const loose = await runAction("poll", args, { stdin, env });
  const line =
    `Driver configuration ${path} holds secrets and is readable by other users (mode 0644); run: chmod 600 ${path}`;
  assert.equal(loose.code, 1);
  assert.equal(loose.stdout, `${line}\n`);
  assert.equal(loose.stderr, fenced(line));
  await Deno.chmod(path, 0o600);
  const tight = await runAction("poll", args, { stdin, env });
  assert.equal(tight.stderr, "");
  assert.equal(tight.code, 0);
  assert.match(tight.stdout, /^STATE=a /);
});
