import assert from "node:assert/strict";
import { startFakeOned } from "../../tests/oned_xmlrpc.ts";
import { hostInfo, NO_EXISTS, OneApiError, oneCall, vmInfo, vmPool } from "./one_api.ts";
import { XmlRpcClient, XmlRpcError } from "../one_xmlrpc/xmlrpc.ts";

Deno.test("vmInfo() sends one.vm.info(session, id) and reads the VM's states, deploy id, creation and running start", async () => {
  await using oned = await startFakeOned();
  oned.setVm(42, {
    state: 3,
    lcmState: 18,
    deployId: "i-0123456789abcdef0",
    stime: 1_700_000_000,
    rstime: 1_700_000_500,
  });
  const client = new XmlRpcClient(oned.url, { label: "oned" });
  assert.deepEqual(await vmInfo(client, oned.session, 42), {
    id: 42,
    state: 3,
    lcmState: 18,
    deployId: "i-0123456789abcdef0",
    createdAt: 1_700_000_000,
    runningSince: 1_700_000_500,
  });
  assert.deepEqual(oned.calls, [{ method: "one.vm.info", params: [oned.session, 42] }]);
});

Deno.test("vmInfo() fails with oned's error code and message for a wrong session or an unknown VM", async () => {
  await using oned = await startFakeOned();
  const client = new XmlRpcClient(oned.url, { label: "oned" });
  oned.setVm(42, { state: 3, lcmState: 12 });
  await assert.rejects(
    vmInfo(client, "oneadmin:wrong", 42),
    (e: unknown) =>
      e instanceof OneApiError && e.code === "256" &&
      e.message ===
        `oned at ${oned.url} answered one.vm.info with error 256: [VirtualMachineInfo] User couldn't be authenticated, aborting call.`,
  );
  await assert.rejects(
    vmInfo(client, oned.session, 43),
    (e: unknown) =>
      e instanceof OneApiError && e.code === "1024" &&
      e.message ===
        `oned at ${oned.url} answered one.vm.info with error 1024: [VirtualMachineInfo] Error getting virtual machine [43].`,
  );
});

Deno.test("vmInfo() refuses a VM document without LCM_STATE", async () => {
  await using oned = await startFakeOned();
  oned.setVm(42, { state: 3, lcmState: 12 });
  oned.misbehave("no-lcm-state");
  await assert.rejects(
    vmInfo(new XmlRpcClient(oned.url, { label: "oned" }), oned.session, 42),
    (e: unknown) =>
      e instanceof XmlRpcError && e.code === "InvalidResponse" &&
      e.message ===
        `oned at ${oned.url} answered one.vm.info for VM 42 with a VM document without a numeric LCM_STATE`,
  );
});

Deno.test("oneCall() refuses an answer that is not OpenNebula's [success, result, code] array", async () => {
  const { promise, resolve } = Promise.withResolvers<number>();
  let body = "<int>1</int>";
  await using _server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: ({ port }) => resolve(port) },
    () =>
      new Response(
        `<methodResponse><params><param><value>${body}</value></param></params></methodResponse>`,
      ),
  );
  const client = new XmlRpcClient(`http://127.0.0.1:${await promise}/RPC2`, { label: "oned" });
  const message =
    `oned at ${client.url} answered one.vm.info with something other than [success, result, error code]`;
  await assert.rejects(oneCall(client, "one.vm.info", "u:p", 1), { message });
  body = "<array><data><value><string>yes</string></value></data></array>";
  await assert.rejects(oneCall(client, "one.vm.info", "u:p", 1), { message });
  body = "<array><data><value><boolean>1</boolean></value><value><string>&lt;HOST/&gt;</string>" +
    "</value><value><i4>0</i4></value></data></array>";
  await assert.rejects(vmInfo(client, "u:p", 1), {
    message:
      `oned at ${client.url} answered one.vm.info for VM 1 with a <HOST> document instead of <VM>`,
  });
  body = "<array><data><value><boolean>1</boolean></value><value><string>&lt;VM&gt;&lt;ID&gt;2" +
    "&lt;/ID&gt;&lt;STATE&gt;3&lt;/STATE&gt;&lt;LCM_STATE&gt;3&lt;/LCM_STATE&gt;&lt;/VM&gt;</string>" +
    "</value><value><i4>0</i4></value></data></array>";
  await assert.rejects(vmInfo(client, "u:p", 1), {
    message: `oned at ${client.url} answered one.vm.info for VM 1 with the document of VM 2`,
  });
});

Deno.test("vmPool() asks one.vmpool.info for every user's VMs in any state but DONE, a page of rows at a time, and reads their ids, deploy ids and hosts", async () => {
  await using oned = await startFakeOned();
  oned.setVm(3, { state: 3, lcmState: 3, deployId: "i-0abc", host: "aws-east" });
  oned.setVm(8, { state: 8, lcmState: 0 });
  oned.setVm(9, { state: 6, lcmState: 0 });
  const client = new XmlRpcClient(oned.url, { label: "oned" });
  // In oned's order: 5.8+ lists the newest VM first (API_LIST_ORDER DESC).
  assert.deepEqual(await vmPool(client, oned.session), [
    { id: 8, host: "aws-test", state: 8, lcmState: 0 },
    { id: 3, deployId: "i-0abc", host: "aws-east", state: 3, lcmState: 3 },
  ]);
  // The first page of rows (offset 0, 100 rows) holds them all.
  assert.deepEqual(oned.calls, [{
    method: "one.vmpool.info",
    params: [oned.session, -2, 0, -100, -1],
  }]);
  await assert.rejects(
    vmPool(client, "oneadmin:wrong"),
    (e: unknown) => e instanceof OneApiError && e.code === "256",
  );
});

Deno.test("vmPool() refuses an answer that is not a VM_POOL of numeric ids", async () => {
  await using oned = await startFakeOned();
  oned.misbehave("not-xmlrpc");
  const client = new XmlRpcClient(oned.url, { label: "oned" });
  await assert.rejects(vmPool(client, oned.session), XmlRpcError);
});

Deno.test("vmInfo() answers a DONE VM with STATE 6, as oned keeps done VMs", async () => {
  await using oned = await startFakeOned();
  oned.setVm(9, { state: 6, lcmState: 0, deployId: "i-0abc" });
  const client = new XmlRpcClient(oned.url, { label: "oned" });
  const vm = await vmInfo(client, oned.session, 9);
  assert.equal(vm.state, 6);
  assert.equal(vm.deployId, "i-0abc");
});

Deno.test("hostInfo() sends one.host.info(session, id) and reads the host's VM ids (<VMS>) and CAPACITY", async () => {
  await using oned = await startFakeOned();
  oned.setHost(3, "aws");
  oned.setHost(4, "other");
  oned.setVm(10, { state: 3, lcmState: 3, deployId: "i-1", host: "aws" });
  oned.setVm(11, { state: 8, lcmState: 0, deployId: "i-2", host: "aws" });
  oned.setVm(12, { state: 9, lcmState: 0, deployId: "i-3", host: "aws" }); // undeployed
  oned.setVm(13, { state: 6, lcmState: 0, deployId: "i-4", host: "aws" }); // done
  oned.setVm(14, { state: 3, lcmState: 3, deployId: "i-5", host: "other" });
  const client = new XmlRpcClient(oned.url, { label: "oned" });
  assert.deepEqual(await hostInfo(client, oned.session, 3), { id: 3, vmIds: [10, 11] });
  oned.setHostCapacity(3, { T3_MICRO: "4" });
  assert.deepEqual(await hostInfo(client, oned.session, 3), {
    id: 3,
    vmIds: [10, 11],
    capacity: { T3_MICRO: "4" },
  });
  assert.deepEqual(oned.calls[0], { method: "one.host.info", params: [oned.session, 3] });
  await assert.rejects(
    hostInfo(client, oned.session, 7),
    (e: unknown) => e instanceof OneApiError && e.code === NO_EXISTS,
  );
});

Deno.test("hostInfo() refuses a HOST document of another host or without VMS", async () => {
  const { promise, resolve } = Promise.withResolvers<number>();
  let doc = "<HOST><ID>4</ID><VMS/></HOST>";
  await using _server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: ({ port }) => resolve(port) },
    () =>
      new Response(
        "<methodResponse><params><param><value><array><data><value><boolean>1</boolean></value>" +
          `<value><string>${
            doc.replace(/</g, "&lt;")
          }</string></value><value><i4>0</i4></value></data></array></value></param></params></methodResponse>`,
      ),
  );
  const client = new XmlRpcClient(`http://127.0.0.1:${await promise}/RPC2`, { label: "oned" });
  await assert.rejects(
    hostInfo(client, "a:b", 3),
    /answered one.host.info for host 3 with the document of host 4/,
  );
  doc = "<HOST><ID>3</ID><TEMPLATE/></HOST>";
  await assert.rejects(hostInfo(client, "a:b", 3), /a HOST document without VMS/);
  doc = "<HOST><ID>3</ID><VMS><ID>x</ID></VMS></HOST>";
  await assert.rejects(hostInfo(client, "a:b", 3), /a VM id that is not a number/);
});
