import assert from "node:assert/strict";
import { parseDeployment, selectSection } from "../../opennebula/template.ts";
import { vmDeployment } from "../../../tests/deployments.ts";
import { launchToken } from "./token.ts";

/** The token deploy derives from a 5.x deployment file of VM 42 on host `aws`. */
function tokenOf(section: Record<string, string>): string {
  const deployment = parseDeployment(
    vmDeployment(42, section, { name: "web", stime: 1_700_000_042 }),
  );
  return launchToken(
    {
      vmId: 42,
      host: "aws",
      deploymentName: "deployment.0",
      ...(deployment.name !== undefined ? { vmName: deployment.name } : {}),
      ...(deployment.startTime !== undefined ? { startTime: deployment.startTime } : {}),
    },
    selectSection(deployment, "ec2", "aws").attributes,
  );
}

const SECTION = { AMI: "ami-0abcdef1234567890", INSTANCETYPE: "t3.micro" };

Deno.test("two deployments that differ only in the EC2 section get different launch tokens", () => {
  // Otherwise a deploy whose template was changed would be answered with (or look up) the
  // instance launched for the old template.
  const token = tokenOf(SECTION);
  assert.equal(tokenOf({ ...SECTION }), token, "the same deployment, the same token");
  assert.notEqual(tokenOf({ ...SECTION, INSTANCETYPE: "t3.large" }), token);
  assert.notEqual(tokenOf({ ...SECTION, AMI: "ami-0fedcba9876543210" }), token);
  assert.notEqual(tokenOf({ ...SECTION, KEYPAIR: "one-key" }), token);
});

Deno.test("the launch token does not depend on the order of the EC2 section's attributes", () => {
  assert.equal(
    tokenOf({ INSTANCETYPE: SECTION.INSTANCETYPE, AMI: SECTION.AMI }),
    tokenOf(SECTION),
  );
});
