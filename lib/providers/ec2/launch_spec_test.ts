import assert from "node:assert/strict";
import { InvalidInputError } from "../../util/errors.ts";
import { parseDeployment, selectSection } from "../../opennebula/template.ts";
import { MAX_USER_DATA_BYTES, toLaunchSpec } from "./launch_spec.ts";
import v32 from "../../../tests/testdata/deployment_3.2.xml" with { type: "text" };
import v4 from "../../../tests/testdata/deployment_4.x_ec2.xml" with { type: "text" };
import v5 from "../../../tests/testdata/deployment_5.x_public_cloud.xml" with { type: "text" };
import multiHost from "../../../tests/testdata/deployment_multi_host.xml" with { type: "text" };

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
  const { AUTHORIZEDPORTS, ...section32 } =
    selectSection(parseDeployment(v32), "ec2", "ec2-us-east").attributes;
  // 3.2 opened these ports to everyone in the account's default group: not done silently.
  assert.equal(AUTHORIZEDPORTS, "22,80");
  assertInvalid(
    () => toLaunchSpec({ ...section32, AUTHORIZEDPORTS }, {}, "EC2"),
    "AUTHORIZEDPORTS: EC2 attribute of OpenNebula's older EC2 driver, not supported by this driver: open the ports in a security group named in SECURITYGROUPIDS",
  );
  const old = toLaunchSpec(section32, {}, "EC2");
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
  // Without Name the driver adds 5 tags (4 ownership tags and Name): 45 fit.
  assert.equal(Object.keys(withKey("TAGS", tags(45)).tags).length, 45);
  assertInvalid(
    () => withKey("TAGS", tags(46)),
    "Invalid PUBLIC_CLOUD attribute TAGS: 46 tags, at most 45 allowed (EC2 allows 50 per instance, the driver adds 5)",
  );
  // With a Name of its own the driver adds only its 4 ownership tags: 46 fit.
  assert.equal(Object.keys(withKey("TAGS", tags(46, "Name")).tags).length, 46);
  assertInvalid(() => withKey("TAGS", tags(47, "Name")), /47 tags, at most 46 allowed/);
});

Deno.test("toLaunchSpec() stores a tag named __proto__ as an ordinary tag", () => {
  const spec = withKey("TAGS", "__proto__=x,constructor=y");
  assert.ok(Object.hasOwn(spec.tags, "__proto__"));
  assert.equal(spec.tags.constructor, "y");
  assert.equal(Object.getPrototypeOf(spec.tags), Object.prototype);
});

Deno.test("toLaunchSpec() reads BLOCKDEVICEMAPPING in OpenNebula's snapshot:size:delete:type:iops order", () => {
  const spec = withKey(
    "BLOCKDEVICEMAPPING",
    "/dev/sdb=:100:true:gp3 /dev/sdc=snap-0123456789abcdef0::false\n/dev/sdd=:500:yes:io2:20000  /dev/sde=snap-12345678",
  );
  assert.deepEqual(spec.blockDeviceMappings, [
    {
      kind: "ebs",
      deviceName: "/dev/sdb",
      sizeGiB: 100,
      deleteOnTermination: true,
      volumeType: "gp3",
    },
    {
      kind: "ebs",
      deviceName: "/dev/sdc",
      snapshotId: "snap-0123456789abcdef0",
      deleteOnTermination: false,
    },
    {
      kind: "ebs",
      deviceName: "/dev/sdd",
      sizeGiB: 500,
      deleteOnTermination: true,
      volumeType: "io2",
      iops: 20000,
    },
    { kind: "ebs", deviceName: "/dev/sde", snapshotId: "snap-12345678" },
  ]);
});

Deno.test("toLaunchSpec() reads BLOCKDEVICEMAPPING's none and ephemeralN entries", () => {
  assert.deepEqual(
    withKey(
      "BLOCKDEVICEMAPPING",
      "/dev/sdb=none /dev/sdc=ephemeral0 xvdd=Ephemeral23 /dev/sdf=NONE",
    )
      .blockDeviceMappings,
    [
      { kind: "none", deviceName: "/dev/sdb" },
      { kind: "ephemeral", deviceName: "/dev/sdc", virtualName: "ephemeral0" },
      { kind: "ephemeral", deviceName: "xvdd", virtualName: "ephemeral23" },
      { kind: "none", deviceName: "/dev/sdf" },
    ],
  );
  assertInvalid(
    () => withKey("BLOCKDEVICEMAPPING", "/dev/sdc=ephemeral24"),
    'Invalid PUBLIC_CLOUD attribute BLOCKDEVICEMAPPING: entry "/dev/sdc=ephemeral24": "ephemeral24" is not an instance store volume (ephemeral0 to ephemeral23)',
  );
});

Deno.test("toLaunchSpec() accepts the device names EC2 documents and no others", () => {
  for (
    const device of [
      "/dev/sda1",
      "/dev/sdf",
      "/dev/sdp15",
      "/dev/xvda",
      "/dev/xvdba",
      "/dev/hdb1",
      "xvdh",
    ]
  ) {
    assert.equal(
      withKey("BLOCKDEVICEMAPPING", `${device}=none`).blockDeviceMappings?.[0]?.deviceName,
      device,
    );
  }
  for (
    const device of ["/dev/sda16", "/dev/nvme1n1", "/dev/sd", "/dev/xvdabc", "sdb/", "/mnt/sdb", ""]
  ) {
    assertInvalid(
      () => withKey("BLOCKDEVICEMAPPING", `${device}=none`),
      `Invalid PUBLIC_CLOUD attribute BLOCKDEVICEMAPPING: entry ${
        JSON.stringify(`${device}=none`)
      }: ${JSON.stringify(device)} is not an EC2 device name (e.g. /dev/sdf, /dev/xvdb)`,
    );
  }
});

Deno.test("toLaunchSpec() applies each EBS volume type's size limits", () => {
  const sized = (size: number, type: string, iops = "") =>
    withKey("BLOCKDEVICEMAPPING", `/dev/sdb=:${size}::${type}${iops}`).blockDeviceMappings?.[0];
  const fits: [number, string, string?][] = [
    [1, "gp2"],
    [16384, "gp2"],
    [65536, "gp3"],
    [4, "io1", ":100"],
    [16384, "io1", ":100"],
    [65536, "io2", ":100"],
    [125, "st1"],
    [16384, "sc1"],
    [1, "standard"],
    [1024, "standard"],
  ];
  for (const [size, type, iops] of fits) assert.equal(sized(size, type, iops)?.kind, "ebs");
  const refused: [number, string, string, string?][] = [
    [0, "gp2", "1 to 16384"],
    [16385, "gp2", "1 to 16384"],
    [65537, "gp3", "1 to 65536"],
    [3, "io1", "4 to 16384", ":100"],
    [16385, "io1", "4 to 16384", ":100"],
    [65537, "io2", "4 to 65536", ":100"],
    [124, "st1", "125 to 16384"],
    [16385, "sc1", "125 to 16384"],
    [1025, "standard", "1 to 1024"],
  ];
  for (const [size, type, range, iops] of refused) {
    assertInvalid(
      () => sized(size, type, iops),
      new RegExp(`: size "${size}" is not a whole number of GiB from ${range} for ${type}$`),
    );
  }
  // Without a type, EC2 (or the AMI) decides: only the widest range applies.
  assert.equal(
    withKey("BLOCKDEVICEMAPPING", "/dev/sdb=:65536").blockDeviceMappings?.[0]?.kind,
    "ebs",
  );
  assertInvalid(() => withKey("BLOCKDEVICEMAPPING", "/dev/sdb=:65537"), /from 1 to 65536$/);
  assertInvalid(
    () => withKey("BLOCKDEVICEMAPPING", "/dev/sdb=:1.5"),
    /size "1\.5" is not a whole number/,
  );
  assertInvalid(
    () => withKey("BLOCKDEVICEMAPPING", "/dev/sdb=:-1"),
    /size "-1" is not a whole number/,
  );
});

Deno.test("toLaunchSpec() requires IOPS for io1 and io2 and allows them for gp3 only", () => {
  assert.equal(
    withKey("BLOCKDEVICEMAPPING", "/dev/sdb=:10::gp3:3000").blockDeviceMappings?.[0]?.kind,
    "ebs",
  );
  assertInvalid(
    () => withKey("BLOCKDEVICEMAPPING", "/dev/sdb=:10::io1"),
    'Invalid PUBLIC_CLOUD attribute BLOCKDEVICEMAPPING: entry "/dev/sdb=:10::io1": volume type io1 needs IOPS',
  );
  assertInvalid(
    () => withKey("BLOCKDEVICEMAPPING", "/dev/sdb=:10::io2:"),
    /volume type io2 needs IOPS$/,
  );
  assertInvalid(
    () => withKey("BLOCKDEVICEMAPPING", "/dev/sdb=:10::gp2:3000"),
    /: IOPS apply to volume types io1, io2 or gp3 only, not gp2$/,
  );
  assertInvalid(
    () => withKey("BLOCKDEVICEMAPPING", "/dev/sdb=:10:::3000"),
    /: IOPS apply to volume types io1, io2 or gp3 only$/,
  );
  assertInvalid(
    () => withKey("BLOCKDEVICEMAPPING", "/dev/sdb=:10::gp3:2999"),
    /: IOPS "2999" is not a whole number from 3000 to 80000 for gp3$/,
  );
  assertInvalid(
    () => withKey("BLOCKDEVICEMAPPING", "/dev/sdb=:10::io1:64001"),
    /: IOPS "64001" is not a whole number from 100 to 64000 for io1$/,
  );
  assert.equal(
    withKey("BLOCKDEVICEMAPPING", "/dev/sdb=:1000::io2:256000").blockDeviceMappings?.[0]?.kind,
    "ebs",
  );
});

Deno.test("toLaunchSpec() refuses malformed BLOCKDEVICEMAPPING entries, naming the entry", () => {
  const cases: [string, string][] = [
    ["/dev/sdb", '"/dev/sdb": not device=volume (e.g. /dev/sdf=:100:true:gp3)'],
    ["/dev/sdb=", '"/dev/sdb=": nothing after ='],
    ["/dev/sdb=::::", '"/dev/sdb=::::": every part is empty'],
    [
      "/dev/sdb=:1:true:gp3:3000:x",
      '"/dev/sdb=:1:true:gp3:3000:x": more than 5 parts (snapshot:size:delete:type:iops)',
    ],
    [
      "/dev/sdb=snap-xyz:10",
      '"/dev/sdb=snap-xyz:10": "snap-xyz" is not a snapshot id (snap-xxxxxxxx)',
    ],
    [
      "/dev/sdb=vol-12345678",
      '"/dev/sdb=vol-12345678": "vol-12345678" is not a snapshot id (snap-xxxxxxxx)',
    ],
    [
      "/dev/sdb=:10:maybe",
      '"/dev/sdb=:10:maybe": delete-on-termination "maybe" is not true, false, yes or no',
    ],
    [
      "/dev/sdb=:10::gp4",
      '"/dev/sdb=:10::gp4": volume type "gp4" is not standard, gp2, gp3, io1, io2, st1, sc1',
    ],
  ];
  for (const [entry, problem] of cases) {
    assertInvalid(
      () => withKey("BLOCKDEVICEMAPPING", `/dev/sdf=none ${entry}`),
      `Invalid PUBLIC_CLOUD attribute BLOCKDEVICEMAPPING: entry ${problem}`,
    );
  }
  assertInvalid(
    () => withKey("BLOCKDEVICEMAPPING", "/dev/sdb=none sdb=:10"),
    'Invalid PUBLIC_CLOUD attribute BLOCKDEVICEMAPPING: device "sdb" is mapped twice',
  );
  assert.equal(withKey("BLOCKDEVICEMAPPING", " \n ").blockDeviceMappings, undefined);
});

Deno.test("toLaunchSpec() reads volume types and flags in any case", () => {
  assert.deepEqual(
    withKey("BLOCKDEVICEMAPPING", "/dev/sdb=:10:TRUE:GP3:3000").blockDeviceMappings,
    [
      {
        kind: "ebs",
        deviceName: "/dev/sdb",
        sizeGiB: 10,
        deleteOnTermination: true,
        volumeType: "gp3",
        iops: 3000,
      },
    ],
  );
});

Deno.test("toLaunchSpec() reads ELASTICIP as an IPv4 address or an allocation id", () => {
  assert.deepEqual(withKey("ELASTICIP", "203.0.113.10").elasticIp, { publicIp: "203.0.113.10" });
  assert.deepEqual(withKey("ELASTICIP", "eipalloc-0123456789abcdef0").elasticIp, {
    allocationId: "eipalloc-0123456789abcdef0",
  });
  assert.deepEqual(
    toLaunchSpec({ ...BASE, elasticip: "eipalloc-12345678" }, {}, "EC2").elasticIp,
    { allocationId: "eipalloc-12345678" },
  );
  assert.deepEqual(toLaunchSpec(BASE, { ELASTICIP: "198.51.100.7" }).elasticIp, {
    publicIp: "198.51.100.7",
  });
  assert.equal(withKey("ELASTICIP", " ").elasticIp, undefined, "an empty value asks for nothing");
  // Which addresses are public is the cloud's to say: EC2-compatible clouds (and moto) hand
  // out Elastic IPs from ranges EC2 would call private.
  for (const ip of ["10.1.2.3", "127.62.146.144", "192.168.1.1"]) {
    assert.deepEqual(withKey("ELASTICIP", ip).elasticIp, { publicIp: ip });
  }
  for (const value of ["203.0.113", "2001:db8::1", "eip-12345678", "my-eip"]) {
    assertInvalid(
      () => withKey("ELASTICIP", value),
      `Invalid PUBLIC_CLOUD attribute ELASTICIP: "${value}" is neither an IPv4 address nor an allocation id (eipalloc-xxxxxxxx)`,
    );
  }
  assertInvalid(
    () => toLaunchSpec(BASE, { ELASTICIP: "eipalloc-xyz" }),
    'Invalid PUBLIC_CLOUD attribute ELASTICIP (default from the driver configuration): "eipalloc-xyz" is not an allocation id (eipalloc-xxxxxxxx)',
  );
});

Deno.test("toLaunchSpec() reads IAMINSTANCEPROFILE as a name or an instance-profile ARN", () => {
  assert.deepEqual(withKey("IAMINSTANCEPROFILE", "web-role_1+=,.@").iamInstanceProfile, {
    name: "web-role_1+=,.@",
  });
  for (
    const arn of [
      "arn:aws:iam::123456789012:instance-profile/web",
      "arn:aws:iam::123456789012:instance-profile/team/app/web",
      "arn:aws-us-gov:iam::123456789012:instance-profile/web",
      "arn:aws-cn:iam::123456789012:instance-profile/web",
    ]
  ) {
    assert.deepEqual(withKey("IAMINSTANCEPROFILE", arn).iamInstanceProfile, { arn });
  }
  assertRejected(
    "IAMINSTANCEPROFILE",
    [
      "arn:aws:iam::12345:instance-profile/web",
      "arn:aws:iam::123456789012:role/web",
      "arn:aws:iam::123456789012:instance-profile/",
    ],
    (v) =>
      `Invalid PUBLIC_CLOUD attribute IAMINSTANCEPROFILE: ${
        JSON.stringify(v)
      } is not an instance profile ARN (arn:aws:iam::<account>:instance-profile/<name>)`,
  );
  assertRejected(
    "IAMINSTANCEPROFILE",
    ["web role", "p".repeat(129), "rôle"],
    () => /is not an instance profile name \(1 to 128 letters, digits or \+=,\.@_-\) or ARN$/,
  );
});

Deno.test("toLaunchSpec() reads the root volume keys, each error naming its key", () => {
  assert.deepEqual(withKey("ROOTVOLUMESIZE", "40").rootVolume, { sizeGiB: 40 });
  assert.deepEqual(
    toLaunchSpec({ ...BASE, ROOTVOLUMESIZE: "100", ROOTVOLUMETYPE: "io2", ROOTVOLUMEIOPS: "5000" })
      .rootVolume,
    { sizeGiB: 100, volumeType: "io2", iops: 5000 },
  );
  assert.deepEqual(
    toLaunchSpec({ ...BASE, ROOTVOLUMETYPE: "GP3" }, { ROOTVOLUMEDEVICE: "/dev/sda1" }).rootVolume,
    { deviceName: "/dev/sda1", volumeType: "gp3" },
  );
  assert.equal(
    toLaunchSpec(BASE, { ROOTVOLUMEDEVICE: "/dev/xvda" }).rootVolume,
    undefined,
    "a device name alone changes nothing",
  );
  assertInvalid(
    () => toLaunchSpec({ ...BASE, ROOTVOLUMESIZE: "2000", ROOTVOLUMETYPE: "standard" }),
    'Invalid PUBLIC_CLOUD attribute ROOTVOLUMESIZE: size "2000" is not a whole number of GiB from 1 to 1024 for standard',
  );
  assertInvalid(
    () => toLaunchSpec({ ...BASE, ROOTVOLUMESIZE: "20", ROOTVOLUMETYPE: "io1" }),
    "Invalid PUBLIC_CLOUD attribute ROOTVOLUMETYPE: volume type io1 needs IOPS",
  );
  assertInvalid(
    () => toLaunchSpec({ ...BASE, ROOTVOLUMEIOPS: "3000" }),
    "Invalid PUBLIC_CLOUD attribute ROOTVOLUMEIOPS: IOPS apply to volume types io1, io2 or gp3 only",
  );
  assertInvalid(
    () => withKey("ROOTVOLUMETYPE", "fast"),
    'Invalid PUBLIC_CLOUD attribute ROOTVOLUMETYPE: volume type "fast" is not standard, gp2, gp3, io1, io2, st1, sc1',
  );
  for (const hdd of ["st1", "SC1"]) {
    assertInvalid(
      () => withKey("ROOTVOLUMETYPE", hdd),
      `Invalid PUBLIC_CLOUD attribute ROOTVOLUMETYPE: "${hdd}": HDD volumes cannot be root volumes`,
    );
  }
  assertInvalid(
    () => toLaunchSpec({ ...BASE, ROOTVOLUMESIZE: "8", ROOTVOLUMEDEVICE: "/dev/root" }),
    'Invalid PUBLIC_CLOUD attribute ROOTVOLUMEDEVICE: "/dev/root" is not an EC2 device name (e.g. /dev/xvda, /dev/sda1)',
  );
});

Deno.test("toLaunchSpec() refuses a root volume set both by ROOTVOLUME keys and BLOCKDEVICEMAPPING", () => {
  assertInvalid(
    () =>
      toLaunchSpec({
        ...BASE,
        ROOTVOLUMESIZE: "30",
        ROOTVOLUMEDEVICE: "/dev/xvda",
        BLOCKDEVICEMAPPING: "/dev/sdf=none xvda=:20",
      }),
    'Invalid PUBLIC_CLOUD attribute BLOCKDEVICEMAPPING: device "xvda" is the root volume (ROOTVOLUMEDEVICE): set it with the ROOTVOLUME keys or here, not both',
  );
});

Deno.test("toLaunchSpec() reads the IMDS keys", () => {
  assert.equal(toLaunchSpec(BASE).metadataHttpTokens, undefined, "the default is run_input's");
  assert.equal(withKey("METADATA_HTTP_TOKENS", "Optional").metadataHttpTokens, "optional");
  assert.equal(withKey("METADATA_HTTP_TOKENS", "required").metadataHttpTokens, "required");
  assert.equal(
    toLaunchSpec(BASE, { METADATA_HTTP_TOKENS: "optional" }).metadataHttpTokens,
    "optional",
  );
  assertInvalid(
    () => withKey("METADATA_HTTP_TOKENS", "v2"),
    'Invalid PUBLIC_CLOUD attribute METADATA_HTTP_TOKENS: "v2" is not required or optional',
  );
  assert.equal(withKey("METADATA_HOP_LIMIT", "1").metadataHopLimit, 1);
  assert.equal(withKey("METADATA_HOP_LIMIT", "64").metadataHopLimit, 64);
  assertRejected(
    "METADATA_HOP_LIMIT",
    ["0", "65", "2.5", "two"],
    (v) =>
      `Invalid PUBLIC_CLOUD attribute METADATA_HOP_LIMIT: ${
        JSON.stringify(v)
      } is not a whole number of hops from 1 to 64`,
  );
});

Deno.test("toLaunchSpec() reads SPOT with one-time and terminate as defaults", () => {
  assert.equal(toLaunchSpec(BASE).spot, undefined);
  assert.equal(withKey("SPOT", "no").spot, undefined);
  assert.deepEqual(withKey("SPOT", "YES").spot, { type: "one-time", interruption: "terminate" });
  assert.deepEqual(
    toLaunchSpec({ ...BASE, SPOT: "yes", SPOTPRICE: "0.0125", SPOTTYPE: "Persistent" }).spot,
    { maxPrice: "0.0125", type: "persistent", interruption: "stop" },
  );
  assert.deepEqual(
    toLaunchSpec({ ...BASE, SPOT: "true", SPOTTYPE: "persistent", SPOTINTERRUPTION: "hibernate" })
      .spot,
    { type: "persistent", interruption: "hibernate" },
  );
  assertInvalid(
    () => withKey("SPOT", "maybe"),
    'Invalid PUBLIC_CLOUD attribute SPOT: "maybe" is not yes, no, true or false',
  );
});

Deno.test("toLaunchSpec() applies AWS's rules between SPOTTYPE and SPOTINTERRUPTION", () => {
  assertInvalid(
    () =>
      toLaunchSpec({ ...BASE, SPOT: "yes", SPOTTYPE: "persistent", SPOTINTERRUPTION: "terminate" }),
    "Invalid PUBLIC_CLOUD attribute SPOTINTERRUPTION: a persistent Spot request needs SPOTINTERRUPTION stop or hibernate",
  );
  for (const behaviour of ["stop", "hibernate"]) {
    assertInvalid(
      () => toLaunchSpec({ ...BASE, SPOT: "yes", SPOTINTERRUPTION: behaviour }),
      `Invalid PUBLIC_CLOUD attribute SPOTINTERRUPTION: ${behaviour} needs SPOTTYPE=persistent (a one-time Spot request can only terminate)`,
    );
  }
  assertInvalid(
    () => toLaunchSpec({ ...BASE, SPOT: "yes", SPOTTYPE: "forever" }),
    'Invalid PUBLIC_CLOUD attribute SPOTTYPE: "forever" is not one-time or persistent',
  );
  assertInvalid(
    () => toLaunchSpec({ ...BASE, SPOT: "yes", SPOTINTERRUPTION: "pause" }),
    'Invalid PUBLIC_CLOUD attribute SPOTINTERRUPTION: "pause" is not terminate, stop or hibernate',
  );
});

Deno.test("toLaunchSpec() checks SPOTPRICE as USD above 0.001", () => {
  for (const price of ["0.0011", "0.05", "3", "12.5"]) {
    assert.equal(toLaunchSpec({ ...BASE, SPOT: "yes", SPOTPRICE: price }).spot?.maxPrice, price);
  }
  for (const price of ["0.001", "0", "-1", "1e3", "$0.05", "0,05", "abc"]) {
    assertInvalid(
      () => toLaunchSpec({ ...BASE, SPOT: "yes", SPOTPRICE: price }),
      `Invalid PUBLIC_CLOUD attribute SPOTPRICE: ${
        JSON.stringify(price)
      } is not a price in USD above 0.001 (e.g. 0.05)`,
    );
  }
});

Deno.test("toLaunchSpec() refuses Spot keys without SPOT=yes unless they are driver defaults", () => {
  for (const key of ["SPOTPRICE", "SPOTTYPE", "SPOTINTERRUPTION"]) {
    assertInvalid(() => withKey(key, "x"), `Invalid PUBLIC_CLOUD attribute ${key}: needs SPOT=yes`);
  }
  assertInvalid(
    () => toLaunchSpec({ ...BASE, SPOT: "no", SPOTPRICE: "0.05" }),
    "Invalid PUBLIC_CLOUD attribute SPOTPRICE: needs SPOT=yes",
  );
  const defaults = { SPOTPRICE: "0.05", SPOTTYPE: "persistent" };
  assert.equal(toLaunchSpec(BASE, defaults).spot, undefined, "unused defaults are ignored");
  assert.deepEqual(toLaunchSpec({ ...BASE, SPOT: "yes" }, defaults).spot, {
    maxPrice: "0.05",
    type: "persistent",
    interruption: "stop",
  });
  assert.deepEqual(toLaunchSpec(BASE, { ...defaults, SPOT: "yes" }).spot?.type, "persistent");
});

Deno.test("toLaunchSpec() reads CLOUD_INIT as the context format", () => {
  assert.equal(toLaunchSpec(BASE).contextFormat, undefined);
  assert.equal(withKey("CLOUD_INIT", "yes").contextFormat, "cloud-config");
  assert.equal(withKey("CLOUD_INIT", "NO").contextFormat, "shell");
  assertInvalid(
    () => withKey("CLOUD_INIT", "auto"),
    /CLOUD_INIT: "auto" is not yes, no, true or false$/,
  );
});

Deno.test("toLaunchSpec() accepts the keys OpenNebula uses to select a section", () => {
  const spec = toLaunchSpec({ ...BASE, HOST: "ec2-us-east-1", CLOUD: "ec2-us", TYPE: "ec2" });
  assert.deepEqual(spec, { imageId: BASE.AMI, instanceType: BASE.INSTANCETYPE, tags: {} });
});

Deno.test("toLaunchSpec() refuses a misspelt key, naming the section and the closest known key", () => {
  assertInvalid(
    () => withKey("KEYPAIRR", "ops"),
    "KEYPAIRR: unknown PUBLIC_CLOUD attribute; did you mean KEYPAIR?",
  );
  assertInvalid(
    () => toLaunchSpec({ ...BASE, SUBNET_ID: "subnet-12345678" }, {}, "EC2"),
    "SUBNET_ID: unknown EC2 attribute; did you mean SUBNETID?",
  );
  assertInvalid(
    () => withKey("security_group_ids", "sg-12345678"),
    "SECURITY_GROUP_IDS: unknown PUBLIC_CLOUD attribute; did you mean SECURITYGROUPIDS?",
  );
  assertInvalid(
    () => withKey("AMII", "x"),
    /^AMII: unknown PUBLIC_CLOUD attribute; did you mean AMI\?$/,
  );
});

Deno.test("toLaunchSpec() lists the known keys when no key is close to an unknown one", () => {
  assertInvalid(
    () => withKey("IMAGE", "ami-12345678"),
    /^IMAGE: unknown PUBLIC_CLOUD attribute \(known: AMI, INSTANCETYPE, KEYPAIR, .*, CLOUD_INIT\)$/,
  );
});

Deno.test("toLaunchSpec() refuses the keys of OpenNebula's older drivers it does not support", () => {
  assertInvalid(
    () => withKey("AKI", "aki-12345678"),
    "AKI: PUBLIC_CLOUD attribute of OpenNebula's older EC2 driver, not supported by this driver: kernels come with the AMI; remove it",
  );
  for (const key of ["RAMDISK", "LICENSEPOOL", "AUTHORIZEDPORTS", "USERDATAFILE"]) {
    assertInvalid(
      () => withKey(key, "x"),
      new RegExp(`^${key}: PUBLIC_CLOUD attribute of OpenNebula's older EC2 driver`),
    );
  }
});

Deno.test("toLaunchSpec() refuses an unknown key or a selector among the configuration's defaults", () => {
  assertInvalid(
    () => toLaunchSpec(BASE, { KEYPAIRR: "ops" }),
    "KEYPAIRR (default from the driver configuration): unknown PUBLIC_CLOUD attribute; did you mean KEYPAIR?",
  );
  assertInvalid(
    () => toLaunchSpec(BASE, { HOST: "aws" }),
    "HOST (default from the driver configuration): it selects a template section, it is not a launch setting",
  );
});

Deno.test("toLaunchSpec() checks keys before values, and shortens a long key", () => {
  assertInvalid(() => toLaunchSpec({ AMIS: "ami-12345678" }), /^AMIS: .*did you mean AMI\?$/);
  const err = assertInvalid(() => withKey("X".repeat(5000), "1"), /^X{61}\.\.\.: unknown/);
  assert.ok(err.message.length < 600);
});

Deno.test("toLaunchSpec() keeps messages on one line and short", () => {
  const err = assertInvalid(
    () => withKey("AMI", "ami-\n" + "x".repeat(500)),
    /^Invalid PUBLIC_CLOUD attribute AMI: "ami-\\nx+\.\.\." is not an AMI id \(ami-xxxxxxxx\)$/,
  );
  assert.ok(err.message.length < 160);
});
