/**
 * The fake against the local EC2-compatible endpoint reached through the real SDK: the same
 * requests must give the same answers and errors that `errors.ts` and `lookup.ts` classify the
 * same way, so that what the provider's unit tests prove with the fake holds for the SDK.
 */

import assert from "node:assert/strict";
import type {
  _InstanceType,
  InstanceStateChange,
  InstanceStateName,
  RunInstancesCommandInput,
} from "@aws-sdk/client-ec2";
import {
  AMAZON_LINUX_AMI,
  EIP_ADDRESS_A,
  EIP_ALLOCATION_A,
  startEc2Endpoint,
  TEST_CREDENTIALS,
} from "../ec2_endpoint/mod.ts";
import { CALL_NAMES, clientConfig, type Ec2Api } from "../../lib/providers/ec2/api.ts";
import {
  errorCode,
  isNotFound,
  isTransient,
  toDriverError,
} from "../../lib/providers/ec2/errors.ts";
import { ec2Error, FakeEc2 } from "./ec2_api.ts";
import { isUnsupportedRequest } from "../../lib/providers/ec2/lookup.ts";
import { sdkSender } from "../../lib/providers/ec2/sdk_client.ts";
import type { Ec2Connection } from "../../lib/providers/ec2/settings.ts";
import { instanceTags, launchedForVmFilters } from "../../lib/providers/ec2/tags.ts";

/** What a scenario may do besides calling the API: force an instance into a state. */
interface Side {
  readonly api: Ec2Api;
  setState(id: string, state: InstanceStateName): void;
  /** Makes the next `times` calls of an action fail with EC2's `InternalError` (HTTP 500). */
  failWithServerError(call: "describeInstances", times: number): void;
}

/**
 * Runs a scenario on the fake and on the endpoint; it returns what it observed, with instance
 * ids replaced by labels (`#1`, `#2` in order of launch), and both must be equal. The fake
 * gets `seed`; the endpoint has those resources among its fixtures.
 */
async function sameOnBoth(
  scenario: (side: Side) => Promise<unknown>,
  seed: { addresses?: { publicIp: string; allocationId: string }[] } = {},
): Promise<void> {
  const fake = new FakeEc2();
  for (const address of seed.addresses ?? []) fake.addAddress(address);
  const onFake = await scenario({
    api: fake,
    setState: (id, state) => fake.setState(id, state),
    failWithServerError: (call, times) =>
      fake.failNext(call, ec2Error("InternalError", "An internal error has occurred", 500), times),
  });
  const endpoint = await startEc2Endpoint();
  try {
    const settings: Ec2Connection = {
      useInstanceMetadata: false,
      region: "us-east-1",
      endpoint: endpoint.url,
      accessKeyId: TEST_CREDENTIALS.accessKeyId,
      secretAccessKey: TEST_CREDENTIALS.secretAccessKey,
    };
    const send = sdkSender({
      ...clientConfig(settings),
      // The SDK's default user agent reads the OS release, which needs --allow-sys.
      defaultUserAgentProvider: () => Promise.resolve([["one-hybrid-tests"]]),
    });
    const calls = Object.fromEntries(
      CALL_NAMES.map((name) => [name, (input: unknown) => send(name, input)]),
    );
    const onEndpoint = await scenario({
      api: { ...calls, region: "us-east-1" } as unknown as Ec2Api,
      setState: (id, state) => void endpoint.setInstanceState(id, state),
      failWithServerError: (_call, times) =>
        endpoint.fail("DescribeInstances", { code: "InternalError" }, times),
    });
    assert.deepEqual(onFake, onEndpoint);
  } finally {
    await endpoint.close();
  }
}

/** Replaces instance ids by labels in order of first appearance. */
function labels() {
  const seen = new Map<string, string>();
  return (id: string | undefined) => {
    if (id === undefined) return undefined;
    if (!seen.has(id)) seen.set(id, `#${seen.size + 1}`);
    return seen.get(id);
  };
}

/** How a failed call reads to the driver; `message: false` leaves out EC2's wording. */
async function failure(call: Promise<unknown>, options: { message?: boolean } = {}) {
  const error = await call.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof Error, "the call should have failed");
  const sdk = error as Error & {
    Code?: string;
    $fault?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const driver = toDriverError(error, "Cannot do it", { host: "aws", region: "us-east-1" });
  const withMessage = options.message ?? true;
  // Instance ids differ between the two; where they appear does not.
  const scrub = (text: string) => text.replace(/\bi-[0-9a-f]{8,17}\b/g, "i-…");
  return {
    name: sdk.name,
    Code: sdk.Code,
    fault: sdk.$fault,
    status: sdk.$metadata?.httpStatusCode,
    ...(withMessage ? { message: scrub(sdk.message) } : {}),
    errorCode: errorCode(error),
    isNotFound: isNotFound(error),
    isTransient: isTransient(error),
    isUnsupportedRequest: isUnsupportedRequest(error),
    driverError: driver.constructor.name,
    ...(withMessage ? { driverMessage: scrub(driver.message) } : {}),
  };
}

/** RunInstances as the driver sends it for VM `vmId`, with the token given. */
function launchInput(
  vmId: number,
  token: string,
  instanceType: _InstanceType = "t3.micro",
): RunInstancesCommandInput {
  return {
    ImageId: AMAZON_LINUX_AMI,
    InstanceType: instanceType,
    MinCount: 1,
    MaxCount: 1,
    ClientToken: token,
    TagSpecifications: [{
      ResourceType: "instance" as const,
      Tags: instanceTags(vmId, "aws", "web", {}, token),
    }],
  };
}

Deno.test("the fake's errors for unknown instances, addresses and filters read as the endpoint's SDK errors", async () => {
  const unknown = "i-0123456789abcdef0";
  await sameOnBoth(async ({ api }) => [
    await failure(api.describeInstances({ InstanceIds: [unknown] })),
    await failure(api.terminateInstances({ InstanceIds: [unknown] })),
    await failure(api.describeAddresses({ PublicIps: ["198.51.100.77"] })),
    await failure(api.describeAddresses({ AllocationIds: ["eipalloc-0123456789abcdef9"] })),
    await failure(api.describeInstances({ Filters: [{ Name: "no-such-filter", Values: ["x"] }] })),
    await failure(api.describeImages({ ImageIds: ["ami-0fedcba9876543210"] })),
  ]);
});

Deno.test("the fake's server errors read as the endpoint's after the SDK's retries", async () => {
  await sameOnBoth(async ({ api, failWithServerError }) => {
    failWithServerError("describeInstances", 3);
    return await failure(api.describeInstances({}));
  });
});

Deno.test("the fake deduplicates client tokens and refuses spent or reused ones as the endpoint does", async () => {
  await sameOnBoth(async ({ api, setState }) => {
    const label = labels();
    const first = await api.runInstances(launchInput(7, "tok-7"));
    const id = first.Instances?.[0]?.InstanceId ?? "";
    const again = await api.runInstances(launchInput(7, "tok-7"));
    const mismatch = await failure(api.runInstances(launchInput(7, "tok-7", "t3.small")));
    setState(id, "terminated");
    const spent = await failure(api.runInstances(launchInput(7, "tok-7")));
    return {
      launched: [label(id), first.Instances?.[0]?.State?.Name],
      again: [label(again.Instances?.[0]?.InstanceId), again.Instances?.length],
      mismatch,
      spent,
    };
  });
});

Deno.test("the fake applies the driver's tag and state filters as the endpoint does", async () => {
  await sameOnBoth(async ({ api, setState }) => {
    const label = labels();
    const ids: string[] = [];
    for (const [vmId, token] of [[7, "a"], [8, "b"], [7, "c"], [7, "d"]] as const) {
      const out = await api.runInstances(launchInput(vmId, token));
      ids.push(out.Instances?.[0]?.InstanceId ?? "");
    }
    ids.forEach((id) => label(id));
    setState(ids[2] ?? "", "terminated");
    setState(ids[3] ?? "", "stopped");
    const out = await api.describeInstances({ Filters: launchedForVmFilters(7) });
    const found = out.Reservations?.flatMap((r) => r.Instances ?? []) ?? [];
    return found.map((i) => [label(i.InstanceId), i.State?.Name]).sort();
  });
});

Deno.test("the fake changes states and refuses impossible changes as the endpoint does", async () => {
  await sameOnBoth(async ({ api, setState }) => {
    const label = labels();
    const out = await api.runInstances(launchInput(7, "s"));
    const id = out.Instances?.[0]?.InstanceId ?? "";
    label(id);
    const stopPending = await failure(api.stopInstances({ InstanceIds: [id] }));
    setState(id, "running");
    const stopping = await api.stopInstances({ InstanceIds: [id] });
    const startStopping = await failure(api.startInstances({ InstanceIds: [id] }));
    setState(id, "stopped");
    const starting = await api.startInstances({ InstanceIds: [id] });
    const terminating = await api.terminateInstances({ InstanceIds: [id] });
    const change = (c: InstanceStateChange[]) =>
      c.map((i) => [label(i.InstanceId), i.PreviousState, i.CurrentState]);
    return {
      stopPending,
      stopping: change(stopping.StoppingInstances ?? []),
      startStopping,
      starting: change(starting.StartingInstances ?? []),
      terminating: change(terminating.TerminatingInstances ?? []),
    };
  });
});

Deno.test("the fake associates Elastic IPs, and refuses to move one when told not to, as the endpoint does", async () => {
  await sameOnBoth(async ({ api, setState }) => {
    const label = labels();
    const ids: string[] = [];
    for (const token of ["e1", "e2"]) {
      const out = await api.runInstances(launchInput(7, token));
      const id = out.Instances?.[0]?.InstanceId ?? "";
      setState(id, "running");
      ids.push(id);
      label(id);
    }
    const [a = "", b = ""] = ids;
    const holder = async () =>
      label(
        (await api.describeAddresses({ PublicIps: [EIP_ADDRESS_A] })).Addresses?.[0]?.InstanceId,
      );
    const before = await holder();
    await api.associateAddress({
      InstanceId: a,
      AllocationId: EIP_ALLOCATION_A,
      AllowReassociation: false,
    });
    const afterFirst = await holder();
    const refused = await failure(
      api.associateAddress({
        InstanceId: b,
        AllocationId: EIP_ALLOCATION_A,
        AllowReassociation: false,
      }),
      { message: false },
    );
    const afterRefusal = await holder();
    await api.associateAddress({ InstanceId: b, AllocationId: EIP_ALLOCATION_A });
    const publicIp = async (id: string) =>
      (await api.describeInstances({ InstanceIds: [id] })).Reservations?.[0]?.Instances?.[0]
        ?.PublicIpAddress === EIP_ADDRESS_A;
    return {
      before,
      afterFirst,
      refused,
      afterRefusal,
      moved: await holder(),
      onA: await publicIp(a),
      onB: await publicIp(b),
    };
  }, { addresses: [{ publicIp: EIP_ADDRESS_A, allocationId: EIP_ALLOCATION_A }] });
});

Deno.test("the fake describes instance types by filter and by name, in pages, as the endpoint does", async () => {
  await sameOnBoth(async ({ api }) => {
    const wanted = ["i4i.large", "t3.micro", "x9.mega", "m5.large"] as _InstanceType[];
    const first = await api.describeInstanceTypes({
      Filters: [{ Name: "instance-type", Values: wanted }],
      MaxResults: 5,
    });
    const all = await api.describeInstanceTypes({ MaxResults: 5 });
    const second = await api.describeInstanceTypes({ MaxResults: 5, NextToken: all.NextToken });
    const named = await api.describeInstanceTypes({ InstanceTypes: ["m5.large"] });
    return {
      filtered: first.InstanceTypes?.map((t) => [
        t.InstanceType,
        t.VCpuInfo?.DefaultVCpus,
        t.MemoryInfo?.SizeInMiB,
      ]),
      filteredNext: first.NextToken,
      pages: [all.InstanceTypes?.length, second.InstanceTypes?.length, second.NextToken],
      named: named.InstanceTypes?.map((t) => t.InstanceType),
      unknown: await failure(
        api.describeInstanceTypes({ InstanceTypes: ["x9.mega" as _InstanceType] }),
      ),
    };
  });
});
