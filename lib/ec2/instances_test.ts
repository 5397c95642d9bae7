import assert from "node:assert/strict";
import { STATE_MAP, toInstance } from "./instances.ts";

Deno.test("STATE_MAP maps every EC2 state to a provider-neutral state", () => {
  assert.deepEqual(STATE_MAP, {
    pending: "pending",
    running: "running",
    stopping: "stopping",
    stopped: "stopped",
    "shutting-down": "terminating",
    terminated: "terminated",
  });
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
