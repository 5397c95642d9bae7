import assert from "node:assert/strict";
import { InvalidInputError } from "../errors.ts";
import { parseDeployment, selectSection } from "../opennebula/template.ts";
import { MAX_USER_DATA_BYTES, toLaunchSpec } from "./launch_spec.ts";
import v32 from "../../tests/testdata/deployment_3.2.xml" with { type: "text" };
import v4 from "../../tests/testdata/deployment_4.x_ec2.xml" with { type: "text" };
import v5 from "../../tests/testdata/deployment_5.x_public_cloud.xml" with { type: "text" };
import multiHost from "../../tests/testdata/deployment_multi_host.xml" with { type: "text" };

const BASE = { AMI: "ami-0abcdef1234567890", INSTANCETYPE: "t3.micro" } as const;

function assertInvalid(fn: () => unknown, message: string | RegExp): InvalidInputError {
  let caught: InvalidInputError | undefined;
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${err}`);
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    assert.ok(!/[\r\n]/.test(err.message), "message must be one line");
    assert.ok(!err.message.endsWith("."), "message must not end with a period");
    caught = err;
    return true;
  });
  return caught!;
}

/** Launch spec of BASE plus one attribute. */
function withKey(key: string, value: string) {
  return toLaunchSpec({ ...BASE, [key]: value });
}

function assertRejected(
  key: string,
  values: readonly string[],
  message: (v: string) => string | RegExp,
) {
  for (const value of values) assertInvalid(() => withKey(key, value), message(value));
}

function base64ToText(b64: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
}

Deno.test("toLaunchSpec() needs only AMI and INSTANCETYPE", () => {
  assert.deepEqual(toLaunchSpec(BASE), {
    imageId: "ami-0abcdef1234567890",
    instanceType: "t3.micro",
    tags: {},
  });
});

Deno.test("toLaunchSpec() reads the 5.x fixture's PUBLIC_CLOUD section", () => {
  const section = selectSection(parseDeployment(v5), "ec2", "ec2-eu-west-1");
  assert.deepEqual(toLaunchSpec(section.attributes), {
    imageId: "ami-0abcdef1234567890",
    instanceType: "t3.micro",
    keyName: "oneadmin-eu",
    securityGroupIds: ["sg-0a1b2c3d4e5f60718", "sg-1234abcd"],
    subnetId: "subnet-0f1e2d3c4b5a69788",
    availabilityZone: "eu-west-1b",
    tenancy: "default",
    ebsOptimized: true,
    userData: "IyEvYmluL3NoCmVjaG8gImhlbGxvIGZyb20gT3Blbk5lYnVsYSIgPiAvZXRjL21vdGQK",
    tags: { Project: "alpha", CostCenter: "cc-42" },
  });
});

Deno.test("toLaunchSpec() reads the 3.2 and 4.x fixtures' EC2 sections", () => {
  const old = toLaunchSpec(
    selectSection(parseDeployment(v32), "ec2", "ec2-us-east").attributes,
    {},
    "EC2",
  );
  assert.deepEqual(old, {
    imageId: "ami-1a2b3c4d",
    instanceType: "m1.small",
    keyName: "gsg-keypair",
    tags: {},
  });
  const four = toLaunchSpec(
    selectSection(parseDeployment(v4), "ec2", "ec2-us-east-1").attributes,
    {},
    "EC2",
  );
  assert.deepEqual(four, {
    imageId: "ami-0f1e2d3c",
    instanceType: "m3.large",
    keyName: "alice-us",
    securityGroups: ["default", "db"],
    availabilityZone: "us-east-1c",
    tags: { Project: "billing", Role: "database" },
  });
});

Deno.test("toLaunchSpec() reads the section chosen from several hosts", () => {
  const section = selectSection(parseDeployment(multiHost), "ec2", "ec2-eu-west-1");
  const spec = toLaunchSpec(section.attributes);
  assert.equal(spec.imageId, "ami-0bbbbbbbbbbbbbbb2");
  assert.equal(spec.instanceType, "c5.xlarge");
  assert.equal(spec.keyName, "bob-eu");
});

Deno.test("toLaunchSpec() fills missing keys from defaults, the section winning", () => {
  const spec = toLaunchSpec(
    { AMI: "ami-0abcdef1234567890", INSTANCETYPE: "c5.large", SUBNETID: "" },
    { INSTANCETYPE: "t3.micro", KEYPAIR: "ops", SUBNETID: "subnet-12345678" },
  );
  assert.equal(spec.instanceType, "c5.large");
  assert.equal(spec.keyName, "ops");
  assert.equal(spec.subnetId, "subnet-12345678", "an empty value is filled by the default");
  assert.equal(
    toLaunchSpec({ AMI: "ami-12345678" }, { instancetype: "m5.large" }).instanceType,
    "m5.large",
  );
});

Deno.test("toLaunchSpec() says when a bad value comes from the defaults", () => {
  assertInvalid(
    () => toLaunchSpec({ INSTANCETYPE: "t3.micro" }, { AMI: "ubuntu" }),
    'Invalid PUBLIC_CLOUD attribute AMI (default from the driver configuration): "ubuntu" is not an AMI id (ami-xxxxxxxx)',
  );
});

Deno.test("toLaunchSpec() accepts keys in any case and trims values", () => {
  const spec = toLaunchSpec({ ami: " ami-12345678 ", InstanceType: "t3.nano\n", keypair: " k " });
  assert.deepEqual(spec, {
    imageId: "ami-12345678",
    instanceType: "t3.nano",
    keyName: "k",
    tags: {},
  });
});

Deno.test("toLaunchSpec() names the missing required attribute", () => {
  assertInvalid(
    () => toLaunchSpec({ INSTANCETYPE: "t3.micro" }),
    "PUBLIC_CLOUD attribute AMI is missing",
  );
  assertInvalid(
    () => toLaunchSpec({ AMI: "ami-12345678" }),
    "PUBLIC_CLOUD attribute INSTANCETYPE is missing",
  );
  assertInvalid(
    () => toLaunchSpec({ AMI: "ami-12345678", INSTANCETYPE: "  " }),
    "PUBLIC_CLOUD attribute INSTANCETYPE is empty",
  );
  assertInvalid(
    () => toLaunchSpec({ AMI: "ami-12345678" }, {}, "EC2"),
    "EC2 attribute INSTANCETYPE is missing",
  );
});

Deno.test("toLaunchSpec() checks AMI ids", () => {
  for (const v of ["ami-1a2b3c4d", "ami-0abcdef1234567890"]) {
    assert.equal(withKey("AMI", v).imageId, v);
  }
  assertRejected(
    "AMI",
    [
      "foo",
      "ami-123",
      "ami-0ABCDEF1",
      "ami-0abcdef123456789",
      "ami-0abcdef12345678901",
      "snap-12345678",
      "ami-1234567g",
    ],
    (v) =>
      `Invalid PUBLIC_CLOUD attribute AMI: ${JSON.stringify(v)} is not an AMI id (ami-xxxxxxxx)`,
  );
});

Deno.test("toLaunchSpec() checks instance types", () => {
  const good = [
    "t3.micro",
    "m1.small",
    "m5d.24xlarge",
    "u-6tb1.metal",
    "u-6tb1.112xlarge",
    "m7i-flex.large",
    "mac2-m2pro.metal",
    "m7i.metal-24xl",
    "c6gn.medium",
    "t3a.nano",
    "x2iedn.xlarge",
  ];
  for (const v of good) assert.equal(withKey("INSTANCETYPE", v).instanceType, v);
  assertRejected(
    "INSTANCETYPE",
    [
      "t3micro",
      "t3.",
      ".micro",
      "t3.huge",
      "T3.MICRO",
      "t3.micro.large",
      "3t.micro",
      "t3 .micro",
      "t3.xlarge2",
    ],
    (v) =>
      `Invalid PUBLIC_CLOUD attribute INSTANCETYPE: ${
        JSON.stringify(v)
      } is not an EC2 instance type (e.g. t3.micro)`,
  );
});

Deno.test("toLaunchSpec() checks key pair names", () => {
  assert.equal(withKey("KEYPAIR", "my key-pair_1").keyName, "my key-pair_1");
  assert.equal(withKey("KEYPAIR", "k".repeat(255)).keyName, "k".repeat(255));
  assertRejected(
    "KEYPAIR",
    ["k".repeat(256), "clé"],
    () =>
      /^Invalid PUBLIC_CLOUD attribute KEYPAIR: ".*" is not a key pair name \(1 to 255 printable ASCII characters\)$/,
  );
});

Deno.test("toLaunchSpec() splits security group names", () => {
  assert.deepEqual(withKey("SECURITYGROUPS", "default, web ,ssh").securityGroups, [
    "default",
    "web",
    "ssh",
  ]);
  assert.deepEqual(withKey("SECURITYGROUPS", "default").securityGroups, ["default"]);
  assertInvalid(
    () => withKey("SECURITYGROUPS", "default,,web"),
    "Invalid PUBLIC_CLOUD attribute SECURITYGROUPS: empty item in the comma-separated list",
  );
  assertInvalid(
    () => withKey("SECURITYGROUPS", "web,"),
    "Invalid PUBLIC_CLOUD attribute SECURITYGROUPS: empty item in the comma-separated list",
  );
  assertInvalid(
    () => withKey("SECURITYGROUPS", "default, sg-12345678"),
    'Invalid PUBLIC_CLOUD attribute SECURITYGROUPS: "sg-12345678" is a group id: put ids in SECURITYGROUPIDS',
  );
  assertInvalid(
    () => withKey("SECURITYGROUPS", "défaut"),
    'Invalid PUBLIC_CLOUD attribute SECURITYGROUPS: "défaut" is not a security group name (1 to 255 printable ASCII characters)',
  );
});

Deno.test("toLaunchSpec() checks security group ids", () => {
  assert.deepEqual(
    withKey("SECURITYGROUPIDS", "sg-12345678,sg-0123456789abcdef0").securityGroupIds,
    ["sg-12345678", "sg-0123456789abcdef0"],
  );
  assertInvalid(
    () => withKey("SECURITYGROUPIDS", "sg-12345678, web"),
    'Invalid PUBLIC_CLOUD attribute SECURITYGROUPIDS: "web" is not a security group id (sg-xxxxxxxx)',
  );
  assertRejected(
    "SECURITYGROUPIDS",
    ["sg-123", "sg-XYZ12345", "subnet-12345678"],
    (v) => new RegExp(`"${v}" is not a security group id`),
  );
});

Deno.test("toLaunchSpec() checks subnet ids", () => {
  assert.equal(
    withKey("SUBNETID", "subnet-0f1e2d3c4b5a69788").subnetId,
    "subnet-0f1e2d3c4b5a69788",
  );
  assert.equal(withKey("SUBNETID", "subnet-12345678").subnetId, "subnet-12345678");
  assertRejected(
    "SUBNETID",
    ["subnet-123", "sn-12345678", "vpc-12345678", "subnet-1234567"],
    (v) =>
      `Invalid PUBLIC_CLOUD attribute SUBNETID: ${
        JSON.stringify(v)
      } is not a subnet id (subnet-xxxxxxxx)`,
  );
});

Deno.test("toLaunchSpec() checks private IPv4 addresses", () => {
  for (const ip of ["10.0.1.25", "172.31.255.254", "192.168.0.0", "0.0.0.0"]) {
    assert.equal(withKey("PRIVATEIP", ip).privateIpAddress, ip);
  }
  assertRejected(
    "PRIVATEIP",
    ["10.0.1", "256.1.1.1", "010.0.0.1", "::1", "10.0.0.1/24", "10.0.0.-1", "a.b.c.d", "1.2.3.4.5"],
    (v) =>
      `Invalid PUBLIC_CLOUD attribute PRIVATEIP: ${
        JSON.stringify(v)
      } is not an IPv4 address (e.g. 10.0.1.25)`,
  );
});

Deno.test("toLaunchSpec() checks availability zones, Local Zones included", () => {
  for (
    const zone of [
      "us-east-1a",
      "eu-west-1b",
      "us-gov-west-1a",
      "ap-southeast-2c",
      "us-west-2-lax-1a",
      "us-east-1-wl1-bos-wlz-1",
    ]
  ) {
    assert.equal(withKey("AVAILABILITYZONE", zone).availabilityZone, zone);
  }
  assertRejected(
    "AVAILABILITYZONE",
    ["us-east-1", "US-EAST-1A", "useast1a", "us-east-1aa-", "east-1a"],
    (v) =>
      `Invalid PUBLIC_CLOUD attribute AVAILABILITYZONE: ${
        JSON.stringify(v)
      } is not an availability zone name (e.g. us-east-1a)`,
  );
});

Deno.test("toLaunchSpec() checks placement group names", () => {
  assert.equal(withKey("PLACEMENTGROUP", "hpc-cluster").placementGroup, "hpc-cluster");
  assertRejected(
    "PLACEMENTGROUP",
    ["p".repeat(256), "grüppe"],
    () => /is not a placement group name/,
  );
});

Deno.test("toLaunchSpec() checks tenancy, in any case", () => {
  assert.equal(withKey("TENANCY", "default").tenancy, "default");
  assert.equal(withKey("TENANCY", "Dedicated").tenancy, "dedicated");
  assert.equal(withKey("TENANCY", "HOST").tenancy, "host");
  assertInvalid(
    () => withKey("TENANCY", "shared"),
    'Invalid PUBLIC_CLOUD attribute TENANCY: "shared" is not default, dedicated or host',
  );
});

Deno.test("toLaunchSpec() checks client tokens", () => {
  const token = "one-42-deployment.0-" + "x".repeat(44);
  assert.equal(token.length, 64);
  assert.equal(withKey("CLIENTTOKEN", token).clientToken, token);
  assertRejected(
    "CLIENTTOKEN",
    [token + "y", "tökén"],
    () =>
      /^Invalid PUBLIC_CLOUD attribute CLIENTTOKEN: ".*" is not a client token \(1 to 64 printable ASCII characters\)$/,
  );
});

Deno.test("toLaunchSpec() reads EBS_OPTIMIZED as yes, no, true or false in any case", () => {
  for (const v of ["yes", "YES", "True", "true"]) {
    assert.equal(withKey("EBS_OPTIMIZED", v).ebsOptimized, true);
  }
  for (const v of ["no", "No", "FALSE", "false"]) {
    assert.equal(withKey("EBS_OPTIMIZED", v).ebsOptimized, false);
  }
  assertRejected(
    "EBS_OPTIMIZED",
    ["1", "on", "y"],
    (v) =>
      `Invalid PUBLIC_CLOUD attribute EBS_OPTIMIZED: ${
        JSON.stringify(v)
      } is not yes, no, true or false`,
  );
});

Deno.test("toLaunchSpec() passes base64 user data through as is", () => {
  const b64 = btoa("#cloud-config\npackages: [nginx]\n");
  assert.equal(withKey("USERDATA", b64).userData, b64);
});

Deno.test("toLaunchSpec() joins base64 user data wrapped in lines", () => {
  const b64 = btoa("#!/bin/sh\n" + "echo hello world\n".repeat(10));
  const wrapped = b64.replace(/(.{60})/g, "$1\n");
  assert.ok(wrapped.includes("\n"));
  assert.equal(withKey("USERDATA", wrapped).userData, b64);
});

Deno.test("toLaunchSpec() base64-encodes plain-text user data", () => {
  const script = '#!/bin/bash\necho "héllo" > /tmp/x';
  const spec = withKey("USERDATA", script);
  assert.notEqual(spec.userData, script);
  assert.equal(base64ToText(spec.userData!), script);
});

Deno.test("toLaunchSpec() limits user data to 16 KB without echoing it", () => {
  assert.equal(MAX_USER_DATA_BYTES, 16384);
  const secret = "PASSWORD=hunter2;";
  const fits = secret + "x".repeat(MAX_USER_DATA_BYTES - secret.length);
  assert.equal(base64ToText(withKey("USERDATA", fits).userData!), fits);
  const message =
    "Invalid PUBLIC_CLOUD attribute USERDATA: user data is 16385 bytes, EC2 accepts at most 16384 (16 KB) before base64 encoding";
  const err = assertInvalid(() => withKey("USERDATA", fits + "x"), message);
  assert.ok(!err.message.includes("hunter2"));
  const encoded = btoa(fits + "x");
  assertInvalid(() => withKey("USERDATA", encoded), message);
});

Deno.test("toLaunchSpec() reads TAGS as key=value pairs", () => {
  assert.deepEqual(withKey("TAGS", "Name=web, Team = ops ,Expr=a=b,Empty=").tags, {
    Name: "web",
    Team: "ops",
    Expr: "a=b",
    Empty: "",
  });
  assertInvalid(
    () => withKey("TAGS", "Name=web,ops"),
    'Invalid PUBLIC_CLOUD attribute TAGS: "ops" is not key=value',
  );
  assertInvalid(
    () => withKey("TAGS", "Name=web,,Team=ops"),
    "Invalid PUBLIC_CLOUD attribute TAGS: empty item in the comma-separated list",
  );
  assertInvalid(
    () => withKey("TAGS", "Team=a,Team=b"),
    'Invalid PUBLIC_CLOUD attribute TAGS: tag "Team" is given twice',
  );
});

Deno.test("toLaunchSpec() applies EC2's tag length limits", () => {
  const key128 = "k".repeat(128);
  const value256 = "v".repeat(256);
  assert.equal(withKey("TAGS", `${key128}=${value256}`).tags[key128], value256);
  assertInvalid(
    () => withKey("TAGS", "=value"),
    'Invalid PUBLIC_CLOUD attribute TAGS: tag key "" must have 1 to 128 characters',
  );
  assertInvalid(
    () => withKey("TAGS", `${key128}k=v`),
    /tag key ".*\.\.\." must have 1 to 128 characters$/,
  );
  assertInvalid(
    () => withKey("TAGS", `Team=${value256}v`),
    'Invalid PUBLIC_CLOUD attribute TAGS: the value of tag "Team" is longer than 256 characters',
  );
  // Lengths count characters, not UTF-16 units.
  assert.equal(withKey("TAGS", `Team=${"😀".repeat(256)}`).tags.Team?.length, 512);
});

Deno.test("toLaunchSpec() refuses the aws: and opennebula: tag prefixes", () => {
  for (const key of ["aws:cloudformation:stack", "AWS:x", "Aws:y"]) {
    assertInvalid(
      () => withKey("TAGS", `${key}=v`),
      `Invalid PUBLIC_CLOUD attribute TAGS: tag key "${key}": the aws: prefix is reserved by AWS`,
    );
  }
  for (const key of ["opennebula:vm-id", "OpenNebula:host"]) {
    assertInvalid(
      () => withKey("TAGS", `${key}=1`),
      `Invalid PUBLIC_CLOUD attribute TAGS: tag key "${key}": the opennebula: prefix is reserved for the driver`,
    );
  }
  assert.deepEqual(withKey("TAGS", "team:aws=x").tags, { "team:aws": "x" });
});

Deno.test("toLaunchSpec() keeps room for the driver's own tags within EC2's 50", () => {
  const tags = (n: number, first = "T0") =>
    Array.from({ length: n }, (_, i) => (i === 0 ? `${first}=v` : `T${i}=v`)).join(",");
  // Without Name the driver adds 4 tags (3 ownership tags and Name): 46 fit.
  assert.equal(Object.keys(withKey("TAGS", tags(46)).tags).length, 46);
  assertInvalid(
    () => withKey("TAGS", tags(47)),
    "Invalid PUBLIC_CLOUD attribute TAGS: 47 tags, at most 46 allowed (EC2 allows 50 per instance, the driver adds 4)",
  );
  // With a Name of its own the driver adds only its 3 ownership tags: 47 fit.
  assert.equal(Object.keys(withKey("TAGS", tags(47, "Name")).tags).length, 47);
  assertInvalid(() => withKey("TAGS", tags(48, "Name")), /48 tags, at most 47 allowed/);
});

Deno.test("toLaunchSpec() stores a tag named __proto__ as an ordinary tag", () => {
  const spec = withKey("TAGS", "__proto__=x,constructor=y");
  assert.ok(Object.hasOwn(spec.tags, "__proto__"));
  assert.equal(spec.tags.constructor, "y");
  assert.equal(Object.getPrototypeOf(spec.tags), Object.prototype);
});

Deno.test("toLaunchSpec() refuses BLOCKDEVICEMAPPING and ELASTICIP until they are supported", () => {
  assertInvalid(
    () => withKey("BLOCKDEVICEMAPPING", "/dev/sdh=:20"),
    "PUBLIC_CLOUD attribute BLOCKDEVICEMAPPING is not supported yet: remove it",
  );
  assertInvalid(
    () => toLaunchSpec({ ...BASE, elasticip: "203.0.113.10" }, {}, "EC2"),
    "EC2 attribute ELASTICIP is not supported yet: remove it",
  );
  assertInvalid(
    () => toLaunchSpec(BASE, { ELASTICIP: "eipalloc-12345678" }),
    "PUBLIC_CLOUD attribute ELASTICIP (default from the driver configuration) is not supported yet: remove it",
  );
  assert.deepEqual(withKey("ELASTICIP", " ").tags, {}, "an empty value asks for nothing");
});

Deno.test("toLaunchSpec() ignores selectors and keys it does not know", () => {
  const spec = toLaunchSpec({
    ...BASE,
    HOST: "ec2-us-east-1",
    CLOUD: "ec2-us",
    TYPE: "ec2",
    AKI: "aki-12345678",
    LICENSEPOOL: "pool",
    AUTHORIZEDPORTS: "22",
  });
  assert.deepEqual(spec, { imageId: BASE.AMI, instanceType: BASE.INSTANCETYPE, tags: {} });
});

Deno.test("toLaunchSpec() keeps messages on one line and short", () => {
  const err = assertInvalid(
    () => withKey("AMI", "ami-\n" + "x".repeat(500)),
    /^Invalid PUBLIC_CLOUD attribute AMI: "ami-\\nx+\.\.\." is not an AMI id \(ami-xxxxxxxx\)$/,
  );
  assert.ok(err.message.length < 160);
});
