import assert from "node:assert/strict";
import { InvalidInputError } from "../util/errors.ts";
import { type CloudSection, type Deployment, parseDeployment, selectSection } from "./template.ts";
import v32 from "../../tests/testdata/deployment_3.2.xml" with { type: "text" };
import v4 from "../../tests/testdata/deployment_4.x_ec2.xml" with { type: "text" };
import v5 from "../../tests/testdata/deployment_5.x_public_cloud.xml" with { type: "text" };
import multiHost from "../../tests/testdata/deployment_multi_host.xml" with { type: "text" };
import malformed from "../../tests/testdata/deployment_malformed.xml" with { type: "text" };
import noSection from "../../tests/testdata/deployment_no_section.xml" with { type: "text" };

function assertInvalid(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${err}`);
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    assert.ok(!/[\r\n]/.test(err.message), "message must be one line");
    assert.ok(!err.message.endsWith("."), "message must not end with a period");
    return true;
  });
}

/** A 5.x-style VM whose USER_TEMPLATE holds `sections` (raw XML). */
function vmWith(sections: string, extra = ""): string {
  return `<VM><ID>1</ID><NAME>t</NAME>${extra}<TEMPLATE><CPU><![CDATA[1]]></CPU></TEMPLATE>` +
    `<USER_TEMPLATE>${sections}</USER_TEMPLATE></VM>`;
}

function ec2(host: string | undefined, ami: string, type = "ec2"): string {
  const hostXml = host === undefined ? "" : `<HOST><![CDATA[${host}]]></HOST>`;
  return `<PUBLIC_CLOUD><AMI><![CDATA[${ami}]]></AMI>${hostXml}` +
    `<TYPE><![CDATA[${type}]]></TYPE></PUBLIC_CLOUD>`;
}

function amiOf(section: CloudSection): string | undefined {
  return section.attributes.AMI;
}

Deno.test("parseDeployment() reads an OpenNebula 3.2 <TEMPLATE> file", () => {
  const d = parseDeployment(v32);
  assert.equal(d.format, "template");
  assert.equal(d.vmId, 7);
  assert.equal(d.name, "web-7");
  assert.equal(d.cpu, 1);
  assert.equal(d.memoryMiB, 1700);
  assert.equal(d.vcpu, undefined);
  assert.equal(d.lcmState, undefined);
  assert.equal(d.deployId, undefined);
  assert.equal(d.startTime, undefined);
  assert.deepEqual(d.sections, [
    {
      type: "ec2",
      origin: "EC2",
      attributes: {
        AMI: "ami-1a2b3c4d",
        AUTHORIZEDPORTS: "22,80",
        CLOUD: "ec2-us-east",
        INSTANCETYPE: "m1.small",
        KEYPAIR: "gsg-keypair",
      },
    },
    {
      type: "ec2",
      origin: "EC2",
      attributes: {
        AMI: "ami-5e6f7a8b",
        CLOUD: "ec2-eu-west",
        INSTANCETYPE: "m1.large",
        KEYPAIR: "eu-keypair",
      },
    },
  ]);
  assert.equal(d.context?.HOSTNAME, "web-7");
  assert.equal(d.context?.TARGET, "hdb");
});

Deno.test("selectSection() matches the legacy CLOUD attribute of 3.2 EC2 sections", () => {
  const d = parseDeployment(v32);
  assert.equal(amiOf(selectSection(d, "ec2", "ec2-eu-west")), "ami-5e6f7a8b");
  assert.equal(amiOf(selectSection(d, "ec2", "ec2-us-east")), "ami-1a2b3c4d");
});

Deno.test("selectSection() names 3.2 EC2 sections and their CLOUD when none matches", () => {
  assertInvalid(
    () => selectSection(parseDeployment(v32), "ec2", "ec2-ap"),
    "No EC2 section for host ec2-ap (found CLOUD=ec2-us-east, ec2-eu-west)",
  );
});

Deno.test("parseDeployment() reads an OpenNebula 4.x <VM> with USER_TEMPLATE/EC2", () => {
  const d = parseDeployment(v4);
  assert.equal(d.format, "vm");
  assert.equal(d.vmId, 12);
  assert.equal(d.name, "db-12");
  assert.equal(d.lcmState, 2);
  assert.equal(d.startTime, 1446633012);
  assert.equal(d.deployId, undefined, "an empty DEPLOY_ID is no deploy id");
  // VM/CPU and VM/MEMORY are usage figures in 4.x; the sizes come from TEMPLATE.
  assert.equal(d.cpu, 2);
  assert.equal(d.vcpu, 2);
  assert.equal(d.memoryMiB, 4096);
  assert.equal(d.sections.length, 1);
  assert.deepEqual(d.sections[0], {
    type: "ec2",
    origin: "EC2",
    attributes: {
      AMI: "ami-0f1e2d3c",
      AVAILABILITYZONE: "us-east-1c",
      INSTANCETYPE: "m3.large",
      KEYPAIR: "alice-us",
      SECURITYGROUPS: "default, db",
      TAGS: "Project=billing,Role=database",
    },
  });
  assert.equal(d.context?.NETWORK, "YES");
});

Deno.test("selectSection() uses a lone section for any host, whatever HOST it names", () => {
  const d4 = parseDeployment(v4);
  assert.equal(amiOf(selectSection(d4, "ec2", "ec2-anywhere")), "ami-0f1e2d3c");
  const named = parseDeployment(vmWith(ec2("ec2-us", "ami-11111111")));
  assert.equal(amiOf(selectSection(named, "ec2", "ec2-eu")), "ami-11111111");
});

Deno.test("parseDeployment() reads a 5.x USER_TEMPLATE/PUBLIC_CLOUD section with TYPE", () => {
  const d = parseDeployment(v5);
  assert.equal(d.vmId, 42);
  assert.equal(d.name, "web-42");
  assert.equal(d.lcmState, 2);
  assert.equal(d.startTime, 1568131215);
  assert.equal(d.cpu, 0.5);
  assert.equal(d.vcpu, 2);
  assert.equal(d.memoryMiB, 1024);
  assert.equal(d.deployId, undefined);
  assert.equal(d.sections.length, 1);
  const section = selectSection(d, "ec2", "ec2-eu-west-1");
  assert.equal(section.type, "ec2");
  assert.equal(section.origin, "PUBLIC_CLOUD");
  assert.equal(section.attributes.TYPE, undefined, "TYPE is not an attribute");
  assert.equal(section.attributes.SUBNETID, "subnet-0f1e2d3c4b5a69788");
  assert.equal(section.attributes.SECURITYGROUPIDS, "sg-0a1b2c3d4e5f60718, sg-1234abcd");
  assert.deepEqual(Object.keys(d.context ?? {}), [
    "DISK_ID",
    "NETWORK",
    "SSH_PUBLIC_KEY",
    "TARGET",
    "TOKEN",
  ]);
});

Deno.test("selectSection() prefers the section whose HOST matches", () => {
  const d = parseDeployment(multiHost);
  assert.equal(amiOf(selectSection(d, "ec2", "ec2-eu-west-1")), "ami-0bbbbbbbbbbbbbbb2");
  assert.equal(amiOf(selectSection(d, "ec2", "ec2-us-east-1")), "ami-0aaaaaaaaaaaaaaa1");
  assert.equal(amiOf(selectSection(d, "ec2", "ec2-ap-southeast-2")), "ami-0ccccccccccccccc3");
});

Deno.test("selectSection() compares TYPE and HOST without regard to case", () => {
  const d = parseDeployment(multiHost);
  // The eu-west-1 section is written TYPE="EC2".
  assert.equal(d.sections[2]?.type, "ec2");
  assert.equal(amiOf(selectSection(d, "EC2", "EC2-EU-WEST-1")), "ami-0bbbbbbbbbbbbbbb2");
});

Deno.test("selectSection() ignores sections of another TYPE", () => {
  const d = parseDeployment(multiHost);
  assert.deepEqual(d.sections.map((s) => s.type), ["ec2", "opennebula", "ec2", "ec2"]);
  assertInvalid(
    () => selectSection(d, "ec2", "remote-one"),
    "No PUBLIC_CLOUD section of TYPE ec2 for host remote-one " +
      "(found HOST=ec2-us-east-1, ec2-eu-west-1, ec2-ap-southeast-2)",
  );
  assert.equal(selectSection(d, "opennebula", "remote-one").attributes.TEMPLATE_ID, "4");
  // A lone section of the other type is used for any host, like a lone ec2 section.
  assert.equal(selectSection(d, "opennebula", "ec2-eu-west-1").attributes.HOST, "remote-one");
});

Deno.test("selectSection() says what it found when no section names the host", () => {
  const d = parseDeployment(vmWith(ec2("ec2-us", "ami-11111111") + ec2("ec2-ap", "ami-22222222")));
  assertInvalid(
    () => selectSection(d, "ec2", "ec2-eu"),
    "No PUBLIC_CLOUD section of TYPE ec2 for host ec2-eu (found HOST=ec2-us, ec2-ap)",
  );
  const mixed = parseDeployment(
    vmWith(ec2("ec2-us", "ami-11111111") + ec2(undefined, "ami-22222222")),
  );
  assertInvalid(
    () => selectSection(mixed, "ec2", "ec2-eu"),
    "No PUBLIC_CLOUD section of TYPE ec2 for host ec2-eu (found HOST=ec2-us; no HOST)",
  );
});

Deno.test("selectSection() reports a deployment file without any section", () => {
  const d = parseDeployment(noSection);
  assert.deepEqual(d.sections, []);
  assert.equal(d.vmId, 64);
  assert.equal(d.memoryMiB, 768);
  assertInvalid(
    () => selectSection(d, "ec2", "ec2-us-east-1"),
    "The deployment file has no PUBLIC_CLOUD section of TYPE ec2",
  );
  const other = parseDeployment(vmWith(ec2("remote", "x", "opennebula")));
  assertInvalid(
    () => selectSection(other, "ec2", "remote"),
    "The deployment file has no PUBLIC_CLOUD section of TYPE ec2 (found TYPE opennebula)",
  );
});

Deno.test("selectSection() prefers a HOST match to a legacy CLOUD match", () => {
  const d = parseDeployment(vmWith(
    `<EC2><AMI>ami-11111111</AMI><CLOUD>ec2-us</CLOUD></EC2>` +
      `<EC2><AMI>ami-22222222</AMI><HOST>ec2-us</HOST></EC2>`,
  ));
  assert.equal(amiOf(selectSection(d, "ec2", "ec2-us")), "ami-22222222");
});

Deno.test("selectSection() refuses two different sections for the same host", () => {
  const d = parseDeployment(vmWith(ec2("ec2-us", "ami-11111111") + ec2("ec2-us", "ami-22222222")));
  assertInvalid(
    () => selectSection(d, "ec2", "ec2-us"),
    "2 different PUBLIC_CLOUD sections of TYPE ec2 have HOST=ec2-us: keep one",
  );
  const same = parseDeployment(
    vmWith(ec2("ec2-us", "ami-11111111") + ec2("ec2-us", "ami-11111111")),
  );
  assert.equal(amiOf(selectSection(same, "ec2", "ec2-us")), "ami-11111111");
});

Deno.test("parseDeployment() reads a VM being resumed, with its DEPLOY_ID", () => {
  const d = parseDeployment(multiHost);
  assert.equal(d.lcmState, 20);
  assert.equal(d.deployId, "i-0123456789abcdef0");
  assert.equal(d.vmId, 57);
  assert.equal(d.vcpu, undefined);
});

Deno.test("parseDeployment() falls back to the last deploy id in HISTORY_RECORDS", () => {
  const history = `<DEPLOY_ID></DEPLOY_ID><HISTORY_RECORDS>` +
    `<HISTORY><SEQ>0</SEQ><DEPLOY_ID>i-00000000000000001</DEPLOY_ID></HISTORY>` +
    `<HISTORY><SEQ>1</SEQ><DEPLOY_ID>i-00000000000000002</DEPLOY_ID></HISTORY>` +
    `<HISTORY><SEQ>2</SEQ><DEPLOY_ID></DEPLOY_ID></HISTORY></HISTORY_RECORDS>`;
  const d = parseDeployment(`<VM><ID>3</ID>${history}<TEMPLATE/></VM>`);
  assert.equal(d.deployId, "i-00000000000000002");
});

Deno.test("parseDeployment() reads CDATA and plain text alike", () => {
  const cdata = parseDeployment(vmWith(
    `<PUBLIC_CLOUD><TYPE><![CDATA[ec2]]></TYPE><AMI><![CDATA[ami-0abc1234]]></AMI>` +
      `<TAGS><![CDATA[a=<b>&c]]></TAGS></PUBLIC_CLOUD>`,
  ));
  const plain = parseDeployment(vmWith(
    `<PUBLIC_CLOUD><TYPE>ec2</TYPE><AMI> ami-0abc1234 </AMI>` +
      `<TAGS>a=&lt;b&gt;&amp;c</TAGS></PUBLIC_CLOUD>`,
  ));
  assert.deepEqual(plain.sections, cdata.sections);
  assert.deepEqual(cdata.sections[0]?.attributes, { AMI: "ami-0abc1234", TAGS: "a=<b>&c" });
});

Deno.test("parseDeployment() accepts attribute names in any case", () => {
  const d = parseDeployment(
    `<VM><ID>1</ID><template><cpu>2</cpu><context><Hostname>x</Hostname></context></template>` +
      `<user_template><public_cloud><type>EC2</type><ami>ami-0abc1234</ami><Host>h</Host>` +
      `</public_cloud><ec2><instanceType>t3.micro</instanceType></ec2></user_template></VM>`,
  );
  assert.equal(d.cpu, 2);
  assert.deepEqual(d.context, { HOSTNAME: "x" });
  assert.deepEqual(d.sections, [
    { type: "ec2", origin: "PUBLIC_CLOUD", attributes: { AMI: "ami-0abc1234", HOST: "h" } },
    { type: "ec2", origin: "EC2", attributes: { INSTANCETYPE: "t3.micro" } },
  ]);
});

Deno.test("parseDeployment() finds sections under TEMPLATE and USER_TEMPLATE in document order", () => {
  const d = parseDeployment(
    `<VM><ID>1</ID><TEMPLATE>${ec2("a", "ami-11111111")}</TEMPLATE>` +
      `<USER_TEMPLATE>${ec2("b", "ami-22222222")}<EC2><AMI>ami-33333333</AMI></EC2>` +
      `</USER_TEMPLATE></VM>`,
  );
  assert.deepEqual(d.sections.map(amiOf), ["ami-11111111", "ami-22222222", "ami-33333333"]);
});

Deno.test("parseDeployment() ignores a single-valued PUBLIC_CLOUD attribute", () => {
  const d = parseDeployment(vmWith(`<PUBLIC_CLOUD><![CDATA[YES]]></PUBLIC_CLOUD>`));
  assert.deepEqual(d.sections, []);
});

Deno.test("parseDeployment() rejects a PUBLIC_CLOUD section without TYPE, naming it", () => {
  assertInvalid(
    () =>
      parseDeployment(
        vmWith(ec2("ec2-us", "ami-11111111") + `<PUBLIC_CLOUD><AMI>x</AMI></PUBLIC_CLOUD>`),
      ),
    "Cannot read deployment file: PUBLIC_CLOUD section 2 of USER_TEMPLATE has no TYPE",
  );
  assertInvalid(
    () => parseDeployment(vmWith(`<PUBLIC_CLOUD><HOST>ec2-us</HOST><TYPE> </TYPE></PUBLIC_CLOUD>`)),
    "Cannot read deployment file: PUBLIC_CLOUD section 1 of USER_TEMPLATE (HOST=ec2-us) has no TYPE",
  );
});

Deno.test("parseDeployment() rejects a section that repeats an attribute", () => {
  assertInvalid(
    () => parseDeployment(vmWith(`<EC2><AMI>ami-11111111</AMI><ami>ami-22222222</ami></EC2>`)),
    "Cannot read deployment file: EC2 section 1 of USER_TEMPLATE has attribute AMI twice",
  );
});

Deno.test("parseDeployment() rejects malformed XML with its position", () => {
  assertInvalid(
    () => parseDeployment(malformed),
    "Cannot read deployment file: invalid XML at line 54, column 21: unterminated CDATA section",
  );
  assertInvalid(
    () => parseDeployment("<VM><ID>1</ID></MV>"),
    "Cannot read deployment file: invalid XML at line 1, column 15: " +
      "mismatched end tag </MV>, expected </VM>",
  );
});

Deno.test("parseDeployment() rejects an unexpected root element", () => {
  assertInvalid(
    () => parseDeployment("<FOO><ID>1</ID></FOO>"),
    "Cannot read deployment file: unexpected root element <FOO>",
  );
  assertInvalid(
    () => parseDeployment("<VMM_DRIVER_ACTION_DATA/>"),
    "Cannot read deployment file: unexpected root element <VMM_DRIVER_ACTION_DATA>",
  );
  assertInvalid(
    () => parseDeployment("<VM><ID>1</ID></VM>"),
    "Cannot read deployment file: <VM> has no <TEMPLATE>",
  );
});

Deno.test("parseDeployment() leaves out numbers that are absent, zero-time or not numbers", () => {
  const d: Deployment = parseDeployment(
    `<VM><ID>x</ID><LCM_STATE></LCM_STATE><STIME>0</STIME>` +
      `<TEMPLATE><CPU>lots</CPU><MEMORY>1.5</MEMORY></TEMPLATE></VM>`,
  );
  assert.deepEqual(d, { format: "vm", sections: [] });
});

Deno.test("selectSection() keeps its message on one line whatever the host names contain", () => {
  const d = parseDeployment(vmWith(ec2("a\nb", "ami-11111111") + ec2("c", "ami-22222222")));
  assertInvalid(
    () => selectSection(d, "ec2", "x\ny"),
    "No PUBLIC_CLOUD section of TYPE ec2 for host x?y (found HOST=a?b, c)",
  );
});
