import assert from "node:assert/strict";
import { startFakeOned } from "../../tests/oned_xmlrpc.ts";
import { XmlRpcClient } from "../one_xmlrpc/xmlrpc.ts";
import { DriverError } from "../util/errors.ts";
import { redact } from "../util/redact.ts";
import { readHostTemplate } from "./host_template.ts";

const SECRET = "hostTmplSecret/K7MDENG/bPxRfiCY00000001";
const ATTRIBUTES = {
  REGION_NAME: "eu-west-1",
  EC2_ACCESS: "AKIAHOSTTEMPLATE0001",
  EC2_SECRET: SECRET,
};
const REQUEST = {
  host: "aws",
  encrypted: ["EC2_ACCESS", "EC2_SECRET"],
  secrets: ["EC2_SECRET"],
};

Deno.test("5.10+: one one.host.info(session, id, true) gives the template decrypted by oned", async () => {
  await using oned = await startFakeOned();
  oned.setHost(3, "aws");
  oned.setHostCapacity(3, { T3_MICRO: "4" });
  await oned.setHostAttributes(3, ATTRIBUTES);
  assert.notEqual(oned.storedHostAttributes(3).EC2_SECRET, SECRET, "oned keeps it encrypted");
  const client = new XmlRpcClient(oned.url, { label: "oned" });
  const template = await readHostTemplate(client, oned.session, { ...REQUEST, hostId: 3 });
  assert.deepEqual(template, {
    hostId: 3,
    attributes: { ...ATTRIBUTES, PUBLIC_CLOUD: "YES" },
    sections: { CAPACITY: { T3_MICRO: "4" } },
  });
  assert.deepEqual(oned.calls, [{ method: "one.host.info", params: [oned.session, 3, true] }]);
  assert.equal(redact(`secret ${SECRET}`), "secret ***");
});

Deno.test("without the host's id, it is found by name in one.hostpool.info first", async () => {
  await using oned = await startFakeOned();
  oned.setHost(1, "kvm-1");
  oned.setHost(4, "aws");
  await oned.setHostAttributes(4, ATTRIBUTES);
  const client = new XmlRpcClient(oned.url, { label: "oned" });
  const template = await readHostTemplate(client, oned.session, REQUEST);
  assert.equal(template?.hostId, 4);
  assert.equal(template?.attributes.EC2_SECRET, SECRET);
  assert.deepEqual(template?.storedInClear, []);
  assert.deepEqual(oned.calls.map((c) => c.method), ["one.hostpool.info", "one.host.info"]);
  assert.equal(
    await readHostTemplate(client, oned.session, { ...REQUEST, host: "nope" }),
    undefined,
  );
});

Deno.test("an id that names another host, or none, is not trusted: the host is found by name", async () => {
  await using oned = await startFakeOned();
  oned.setHost(2, "other");
  oned.setHost(4, "aws");
  await oned.setHostAttributes(4, ATTRIBUTES);
  const client = new XmlRpcClient(oned.url, { label: "oned" });
  for (const hostId of [2, 9]) {
    const template = await readHostTemplate(client, oned.session, { ...REQUEST, hostId });
    assert.equal(template?.hostId, 4);
  }
});

Deno.test("5.4–5.8: oned answers EC2_ACCESS and EC2_SECRET encrypted, and they are decrypted with its ONE_KEY (one.system.config)", async () => {
  await using oned = await startFakeOned();
  oned.setVersion("5.8.5");
  oned.setHost(3, "aws");
  await oned.setHostAttributes(3, ATTRIBUTES);
  const client = new XmlRpcClient(oned.url, { label: "oned" });
  const template = await readHostTemplate(client, oned.session, { ...REQUEST, hostId: 3 });
  assert.equal(template?.attributes.EC2_ACCESS, ATTRIBUTES.EC2_ACCESS);
  assert.equal(template?.attributes.EC2_SECRET, SECRET);
  assert.deepEqual(oned.calls.map((c) => c.method), ["one.host.info", "one.system.config"]);
  assert.equal(redact(oned.oneKey), "***", "ONE_KEY is never printed");
});

Deno.test("7.x keeps the keys plain (its oned.conf no longer lists them): nothing to decrypt, one call", async () => {
  await using oned = await startFakeOned();
  oned.setVersion("7.4.0");
  oned.setHost(3, "aws");
  await oned.setHostAttributes(3, ATTRIBUTES);
  assert.equal(oned.storedHostAttributes(3).EC2_SECRET, SECRET);
  const client = new XmlRpcClient(oned.url, { label: "oned" });
  const template = await readHostTemplate(client, oned.session, { ...REQUEST, hostId: 3 });
  assert.equal(template?.attributes.EC2_SECRET, SECRET);
  assert.equal(oned.calls.length, 1);
  assert.equal(template?.storedInClear, undefined, "unknown without the pool's listing");
  const byName = await readHostTemplate(client, oned.session, REQUEST);
  assert.deepEqual(byName?.storedInClear, ["EC2_SECRET"]);
});

Deno.test("the pool's listing tells a secret oned keeps encrypted (5.4–6.x) from one it keeps plain", async () => {
  await using oned = await startFakeOned();
  oned.setHost(3, "aws");
  await oned.setHostAttributes(3, ATTRIBUTES);
  const client = new XmlRpcClient(oned.url, { label: "oned" });
  const template = await readHostTemplate(client, oned.session, REQUEST);
  assert.deepEqual(template?.storedInClear, []);
  assert.equal(template?.attributes.EC2_SECRET, SECRET);
});

Deno.test("a user outside the oneadmin group gets the keys encrypted and no ONE_KEY: a clear error, no key used", async () => {
  for (const version of ["6.10.0", "5.8.5"]) {
    await using oned = await startFakeOned();
    oned.setVersion(version);
    oned.setAdmin(false);
    oned.setHost(3, "aws");
    await oned.setHostAttributes(3, ATTRIBUTES);
    const client = new XmlRpcClient(oned.url, { label: "oned" });
    await assert.rejects(
      readHostTemplate(client, oned.session, { ...REQUEST, hostId: 3 }),
      (error: unknown) => {
        assert.ok(error instanceof DriverError);
        assert.match(
          error.message,
          /^oned answers EC2_ACCESS and EC2_SECRET of host aws's template encrypted and (does not give this user its ONE_KEY|refuses this user its configuration): the driver needs the credentials of the oneadmin group \(ONE_AUTH\) to decrypt them$/,
        );
        return true;
      },
    );
  }
});
