import assert from "node:assert/strict";
import { InvalidInputError } from "../../util/errors.ts";
import { parseConfig } from "../../core/config.ts";
import { redact } from "../../util/redact.ts";
import { clientConfig, roleConfig } from "./api.ts";
import { type Ec2Connection, ec2ListingScope } from "./settings.ts";
import { PROVIDER_KINDS } from "../mod.ts";

const PATH = "/etc/one/hybrid_driver.json";
const ROLE = "arn:aws:iam::111122223333:role/one-burst";

/** The EC2 connection of host `h` configured with these settings. */
function connection(settings: Record<string, unknown>): Ec2Connection {
  return parseConfig(PROVIDER_KINDS, JSON.stringify({ hosts: { h: settings } }), PATH, "h")
    .connection as Ec2Connection;
}

/** The error for a setting of host `h`. */
function refused(key: string, problem: string): InvalidInputError {
  return new InvalidInputError(`Setting "${key}" for host h in ${PATH} ${problem}`);
}

Deno.test("two hosts may share a region and an account, each with its own credentials", () => {
  const text = JSON.stringify({
    defaults: { region: "eu-west-1" },
    hosts: {
      "aws-a": { profile: "ops" },
      "aws-b": { profile: "ops", roleArn: ROLE },
    },
  });
  const a = parseConfig(PROVIDER_KINDS, text, PATH, "aws-a").connection as Ec2Connection;
  const b = parseConfig(PROVIDER_KINDS, text, PATH, "aws-b").connection as Ec2Connection;
  assert.equal(a.region, b.region);
  assert.equal(a.roleArn, undefined);
  assert.equal(b.roleArn, ROLE);
  assert.equal(roleConfig(a), undefined);
  assert.equal(roleConfig(b)?.sourceProfile, "ops");
});

Deno.test("a role is read with its external id, session name and STS endpoint", () => {
  const read = connection({
    accessKeyId: "AKIASOURCE0000000001",
    secretAccessKey: "source/secret/K7MDENG",
    roleArn: ROLE,
    externalId: "one-hybrid-42",
    roleSessionName: "oned@frontend",
    stsEndpoint: "http://127.0.0.1:5000",
  });
  assert.equal(read.roleArn, ROLE);
  const role = roleConfig(read);
  assert.deepEqual(role, {
    roleArn: ROLE,
    externalId: "one-hybrid-42",
    roleSessionName: "oned@frontend",
    sts: {
      endpoint: "http://127.0.0.1:5000",
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 },
    },
  });
  // Static keys are the source of AssumeRole: they stay in the client's configuration.
  assert.deepEqual(clientConfig(read, new Map()).credentials, {
    accessKeyId: "AKIASOURCE0000000001",
    secretAccessKey: "source/secret/K7MDENG",
  });
});

Deno.test("a web-identity token file assumes its role with nothing else", () => {
  const read = connection({
    region: "us-east-2",
    roleArn: "arn:aws-us-gov:iam::111122223333:role/path/oidc",
    webIdentityTokenFile: "/var/lib/one/.aws/token",
  });
  const role = roleConfig(read);
  assert.equal(role?.webIdentityTokenFile, "/var/lib/one/.aws/token");
  assert.equal(role?.sourceProfile, undefined);
  assert.equal(role?.sts.region, "us-east-2");
});

Deno.test("a token file or an external id without roleArn is refused, naming the setting", () => {
  for (
    const [key, value] of Object.entries({
      webIdentityTokenFile: "/var/lib/one/token",
      externalId: "abc",
    })
  ) {
    assert.throws(
      () => connection({ [key]: value }),
      refused(key, 'needs "roleArn" (the role to assume)'),
    );
  }
});

Deno.test("stsEndpoint and roleSessionName may sit in defaults for the hosts that have a role", () => {
  const text = JSON.stringify({
    defaults: { stsEndpoint: "http://127.0.0.1:5000", roleSessionName: "oned" },
    hosts: { keys: { profile: "ops" }, role: { roleArn: ROLE } },
  });
  assert.equal(
    roleConfig(parseConfig(PROVIDER_KINDS, text, PATH, "keys").connection as Ec2Connection),
    undefined,
  );
  const role = roleConfig(
    parseConfig(PROVIDER_KINDS, text, PATH, "role").connection as Ec2Connection,
  );
  assert.equal(role?.sts.endpoint, "http://127.0.0.1:5000");
  assert.equal(role?.roleSessionName, "oned");
});

Deno.test("a roleArn that is not an IAM role ARN is refused", () => {
  const problem =
    "must be an IAM role ARN: arn:aws:iam::<12-digit account>:role/<name> (or another partition's arn:aws-...)";
  for (
    const bad of [
      "burst",
      "arn:aws:iam::1234:role/x",
      "arn:aws:iam::111122223333:user/x",
      "arn:aws:sts::111122223333:role/x",
      "arn:azure:iam::111122223333:role/x",
      "arn:aws:iam::111122223333:role/",
      "arn:aws:iam::111122223333:role/a b",
    ]
  ) {
    assert.throws(() => connection({ roleArn: bad }), refused("roleArn", problem), bad);
  }
  assert.equal(
    connection({ roleArn: "arn:aws-cn:iam::111122223333:role/a" }).roleArn,
    "arn:aws-cn:iam::111122223333:role/a",
  );
});

Deno.test("bad combinations with webIdentityTokenFile are refused", () => {
  const base = { roleArn: ROLE, webIdentityTokenFile: "/var/lib/one/token" };
  assert.throws(
    () => connection({ ...base, profile: "ops" }),
    refused("profile", 'must not be given with "webIdentityTokenFile"'),
  );
  assert.throws(
    () => connection({ ...base, accessKeyId: "AKIA1", secretAccessKey: "abcd" }),
    refused("accessKeyId", 'must not be given with "webIdentityTokenFile"'),
  );
  assert.throws(
    () => connection({ ...base, externalId: "abc" }),
    refused("externalId", 'must not be given with "webIdentityTokenFile"'),
  );
  assert.throws(
    () => connection({ ...base, webIdentityTokenFile: "token" }),
    refused("webIdentityTokenFile", "must be an absolute path"),
  );
});

Deno.test("malformed session names, external ids and STS endpoints are refused", () => {
  assert.throws(
    () => connection({ roleArn: ROLE, roleSessionName: "a b" }),
    refused("roleSessionName", "must be 2 to 64 letters, digits or the characters + = , . @ _ -"),
  );
  assert.throws(
    () => connection({ roleArn: ROLE, externalId: "x" }),
    refused("externalId", "must be 2 to 1224 letters, digits or the characters + = , . @ : / _ -"),
  );
  assert.throws(
    () => connection({ roleArn: ROLE, stsEndpoint: "ftp://sts.example.org" }),
    refused("stsEndpoint", "must be an http(s) URL such as https://sts.us-east-1.amazonaws.com"),
  );
  assert.throws(
    () => connection({ roleArn: ROLE, stsEndpoint: "https://u:p@sts.example.org" }),
    refused(
      "stsEndpoint",
      "must not contain a user name or password (put credentials in accessKeyId and secretAccessKey)",
    ),
  );
  assert.throws(
    () => connection({ roleArn: ROLE, stsEndpoint: "https://sts.example.org/?a=1" }),
    refused(
      "stsEndpoint",
      "must be an http(s) URL such as https://sts.us-east-1.amazonaws.com, without a query or fragment",
    ),
  );
});

Deno.test("the source keys of a role are registered as secrets", () => {
  connection({
    accessKeyId: "AKIASOURCE0000000002",
    secretAccessKey: "role/source/SECRET/1",
    sessionToken: "role-source-session-token",
    roleArn: ROLE,
  });
  assert.equal(
    redact("role/source/SECRET/1 role-source-session-token"),
    "*** ***",
  );
});

Deno.test("cloudWatch is off unless set true, and its endpoint is checked like the others", () => {
  assert.equal(connection({}).cloudWatch, undefined);
  assert.equal(connection({ cloudWatch: false }).cloudWatch, undefined);
  assert.deepEqual(
    connection({
      cloudWatch: true,
      cloudWatchEndpoint: "https://monitoring.eu-west-1.amazonaws.com",
    }),
    {
      useInstanceMetadata: false,
      cloudWatchEndpoint: "https://monitoring.eu-west-1.amazonaws.com",
      cloudWatch: true,
    },
  );
  assert.throws(
    () => connection({ cloudWatch: "yes" }),
    refused("cloudWatch", "must be true or false"),
  );
  assert.throws(
    () => connection({ cloudWatchEndpoint: "monitoring.eu-west-1.amazonaws.com" }),
    /Setting "cloudWatchEndpoint" for host h in .* must be an http\(s\) URL such as https:\/\/monitoring\.us-east-1\.amazonaws\.com/,
  );
});

Deno.test("hosts that differ only in their CloudWatch settings share one listing", () => {
  const scope = (settings: Record<string, unknown>) =>
    ec2ListingScope(connection({ region: "eu-west-1", ...settings }), new Map());
  assert.equal(
    scope({ cloudWatch: true, cloudWatchEndpoint: "http://127.0.0.1:5000" }),
    scope({}),
  );
});
