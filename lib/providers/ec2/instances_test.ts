import assert from "node:assert/strict";
import { STATE_MAP, toInstance, toListedInstance } from "./instances.ts";

Deno.test("toInstance() puts every EC2 state in provider-neutral words, keeping EC2's name", () => {
  const ec2 = ["pending", "running", "stopping", "stopped", "shutting-down", "terminated"] as const;
  const instances = ec2.map((name) => toInstance({ InstanceId: "i-1", State: { Name: name } }));
  assert.deepEqual(
    instances.map((i) => i.state),
    ["pending", "running", "stopping", "stopped", "terminating", "terminated"],
  );
  assert.deepEqual(instances.map((i) => i.nativeState), ec2);
  assert.equal(Object.keys(STATE_MAP).length, ec2.length);
});

Deno.test("toInstance() flattens an SDK instance, leaving out empty facts", () => {
  const instance = toInstance({
    InstanceId: "i-0123456789abcdef0",
    State: { Name: "running", Code: 16 },
    InstanceType: "m5.large",
    ImageId: "ami-0abcdef1234567890",
    PublicIpAddress: "54.1.2.3",
    PrivateIpAddress: "172.31.0.5",
    PublicDnsName: "",
    Placement: { AvailabilityZone: "us-east-1a" },
    SecurityGroups: [{ GroupId: "sg-1", GroupName: "default" }, { GroupName: "web" }],
    LaunchTime: new Date("2026-01-02T03:04:05Z"),
  });
  assert.deepEqual(instance, {
    id: "i-0123456789abcdef0",
    state: "running",
    nativeState: "running",
    memoryKiB: 8 * 1024 * 1024,
    size: "m5.large",
    facts: {
      STATE: "running",
      INSTANCE_TYPE: "m5.large",
      IMAGE_ID: "ami-0abcdef1234567890",
      PUBLIC_IP_ADDRESS: "54.1.2.3",
      PRIVATE_IP_ADDRESS: "172.31.0.5",
      AVAILABILITY_ZONE: "us-east-1a",
      SECURITY_GROUPS: "sg-1,web",
      LAUNCH_TIME: "2026-01-02T03:04:05.000Z",
    },
  });
});

Deno.test("toInstance() reports an unknown state as unknown, keeping EC2's name, and an unknown type without memory", () => {
  const instance = toInstance({
    InstanceId: "i-1",
    State: { Name: "rebooting" as never },
    InstanceType: "x9.mega" as never,
  });
  assert.equal(instance.state, "unknown");
  assert.equal(instance.nativeState, "rebooting");
  assert.equal(instance.memoryKiB, undefined);
});

Deno.test("toListedInstance() keeps the VM id OpenNebula's built-in driver recorded (ONE_ID) on an instance this driver has not marked, and only a numeric one", () => {
  const listed = (tags: Record<string, string>) =>
    toListedInstance({
      InstanceId: "i-0123456789abcdef0",
      State: { Name: "running" },
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    });
  assert.equal(listed({ ONE_ID: "40" }).recordedVmId, 40);
  assert.equal(listed({ ONE_ID: "40" }).launchedByDriver, false);
  assert.equal("recordedVmId" in listed({ ONE_ID: "web" }), false);
  assert.equal("recordedVmId" in listed({}), false);
  const adopted = listed({
    ONE_ID: "40",
    "opennebula:vm-id": "40",
    "opennebula:host": "aws",
    "opennebula:driver": "one-hybrid",
  });
  assert.equal("recordedVmId" in adopted, false);
  assert.deepEqual([adopted.ownerVmId, adopted.ownerHost], [40, "aws"]);
});
