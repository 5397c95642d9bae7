import assert from "node:assert/strict";
import type * as Sdk from "@aws-sdk/client-ec2";
import type { HostSettings } from "../config.ts";
import type { CallName, Ec2Api } from "./api.ts";
import { Ec2Provider } from "./provider.ts";

const SETTINGS: HostSettings = {
  host: "aws",
  source: "test",
  provider: "ec2",
  connection: { useInstanceMetadata: false },
  template: {},
  actionTimeoutSeconds: 60,
  notFoundGraceSeconds: 600,
  stateWaitSeconds: 5,
  statePollSeconds: 0.05,
  notFoundRetrySeconds: 1,
};

/** EC2 in memory, as far as a test needs it: each call answered by its handler, and logged. */
function fakeApi(handlers: { [K in CallName]?: (input: never) => unknown }) {
  const calls: { name: CallName; input: Record<string, unknown> }[] = [];
  const api: Record<string, unknown> = { region: "us-east-1" };
  for (const name of Object.keys(handlers) as CallName[]) {
    api[name] = (input: Record<string, unknown>) => {
      calls.push({ name, input });
      return Promise.resolve().then(() => (handlers[name] as (i: unknown) => unknown)(input));
    };
  }
  return { api: api as unknown as Ec2Api, calls };
}

/** An instance as DescribeInstances describes it, with the driver's launch tags. */
function described(
  id: string,
  state: string,
  tags: { vmId?: string; host?: string; driver?: string },
): Sdk.Instance {
  const pairs = [
    ["opennebula:vm-id", tags.vmId],
    ["opennebula:host", tags.host],
    ["opennebula:driver", tags.driver],
  ].filter((p): p is [string, string] => p[1] !== undefined);
  return {
    InstanceId: id,
    State: { Name: state as Sdk.InstanceStateName },
    Tags: pairs.map(([Key, Value]) => ({ Key, Value })),
  };
}

const REQUEST = {
  vmId: 7,
  host: "aws",
  deploymentName: "deployment.0",
  section: {
    origin: "PUBLIC_CLOUD",
    attributes: { AMI: "ami-0abcdef1234567890", INSTANCETYPE: "t3.micro" },
  },
  renderContext: () => undefined,
};

Deno.test("findLaunched() keeps only the VM's live instances launched by the driver on its host, when the endpoint ignores the filters", async () => {
  const own = { vmId: "7", host: "aws", driver: "one-hybrid" };
  const everything = [
    described("i-0000000000000000a", "running", own),
    described("i-0000000000000000b", "running", { ...own, vmId: "8" }),
    described("i-0000000000000000c", "stopped", { ...own, host: "aws-other-cloud" }),
    described("i-0000000000000000d", "running", { vmId: "7", host: "aws" }),
    described("i-0000000000000000e", "terminated", own),
    described("i-0000000000000000f", "stopped", own),
  ];
  // Like OpenNebula's econe: the filters are accepted and not applied.
  const { api } = fakeApi({
    describeInstances: () => ({ Reservations: [{ Instances: everything }] }),
  });
  const found = await new Ec2Provider(api, SETTINGS).findLaunched(7, "aws");
  assert.deepEqual(found.map((i) => i.id), ["i-0000000000000000a", "i-0000000000000000f"]);
});

Deno.test("a launch answered with its token's terminated instance moves deploy to the next derived token", async () => {
  // EC2 used to answer a spent token with the terminated instance instead of an error.
  const { api, calls } = fakeApi({
    describeInstances: () => ({ Reservations: [] }),
    runInstances: (input: Sdk.RunInstancesCommandInput) => ({
      Instances: [
        input.ClientToken?.endsWith("-r1")
          ? described("i-00000000000000002", "running", {})
          : described("i-00000000000000001", "terminated", {}),
      ],
    }),
  });
  const launch = new Ec2Provider(api, SETTINGS).prepareLaunch(REQUEST);
  assert.equal((await launch.run()).id, "i-00000000000000002");
  const tokens = calls.filter((c) => c.name === "runInstances").map((c) => c.input.ClientToken);
  assert.equal(tokens[1], `${tokens[0]}-r1`);
  assert.equal(tokens.length, 2);
});

/** An error as the SDK throws it for an EC2 error code. */
const sdkError = (code: string, message: string) =>
  Object.assign(new Error(message), { name: code });

Deno.test("resume() keeps polling through throttling and server errors, and fails at once on others", async () => {
  const answers: (Error | Sdk.Instance)[] = [
    sdkError("RequestLimitExceeded", "Request limit exceeded."),
    sdkError("InternalError", "An internal error has occurred."),
    described("i-0000000000000000a", "running", {}),
  ];
  const { api, calls } = fakeApi({
    startInstances: () => ({ StartingInstances: [] }),
    describeInstances: () => {
      const answer = answers.shift();
      if (answer instanceof Error) throw answer;
      return { Reservations: [{ Instances: answer ? [answer] : [] }] };
    },
  });
  const provider = new Ec2Provider(api, SETTINGS);
  assert.equal((await provider.resume("i-0000000000000000a")).state, "running");
  assert.equal(calls.length, 4);
  answers.push(
    sdkError("UnauthorizedOperation", "You are not authorized to perform this operation."),
  );
  await assert.rejects(
    provider.resume("i-0000000000000000a"),
    {
      message:
        "Cannot describe i-0000000000000000a: UnauthorizedOperation: You are not authorized to perform this operation. (host aws, region us-east-1)",
    },
  );
  assert.equal(calls.length, 6);
});
