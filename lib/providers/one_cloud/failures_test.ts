import assert from "node:assert/strict";
import { inDriverWords, isTransient, isUnknownMethod, lockOf } from "./failures.ts";
import { OneApiError } from "../../one_xmlrpc/one_rpc.ts";
import { XmlRpcError, XmlRpcFault } from "../../one_xmlrpc/xmlrpc.ts";
import { CloudError } from "../../util/errors.ts";
import { parseXml } from "../../util/xml.ts";

const fault = (code: number, text: string) =>
  new XmlRpcFault(code, text, `P answered m with fault ${code}: ${text}`);

Deno.test("fault -505 is xmlrpc-c's timeout: transient, never an unknown method, even worded so; -506 or a 'not defined' fault is", () => {
  const timeout = fault(-505, "Method 'x' not defined after timing out");
  assert.equal(isTransient(timeout), true);
  assert.equal(isUnknownMethod(timeout), false);
  assert.equal(isUnknownMethod(new CloudError("Fault", "wrapped", { cause: timeout })), false);
  const unknown = fault(-506, "Method 'one.vmpool.infoextended' not defined");
  assert.equal(isTransient(unknown), false);
  assert.equal(isUnknownMethod(new CloudError("Fault", "wrapped", { cause: unknown })), true);
  assert.equal(isUnknownMethod(fault(-32601, "no such method")), true);
  assert.equal(
    isUnknownMethod(fault(-501, "Parameter that is supposed to be integer is not")),
    false,
  );
  assert.equal(
    isUnknownMethod(new XmlRpcError("Timeout", "P did not answer m within 10 s")),
    false,
  );
});

Deno.test("REPLICATION is transient, any other refusal of oned is not", () => {
  assert.equal(isTransient(new OneApiError("65536", "P answered m with error 65536: x")), true);
  assert.equal(isTransient(new OneApiError("2048", "P answered m with error 2048: x")), false);
  assert.equal(isTransient(new OneApiError("8192", "P answered m with error 8192: x")), false);
});

Deno.test("a group quota's refusal of a resume is a quota refusal too; an ACTION error without a quota text stays oned's", () => {
  const words = (text: string) =>
    (inDriverWords({
      doing: "Cannot resume X",
      method: "one.vm.action",
      read: false,
      error: new OneApiError("2048", `P answered one.vm.action with error 2048: ${text}`),
    }) as Error).message;
  assert.equal(
    words("[one.vm.action] group [1] limit of 4.5 reached for RUNNING_CPU quota in VM"),
    "Cannot resume X: refused by the partner's quota (RUNNING_CPU), not by the VM's state: P answered one.vm.action with error 2048: [one.vm.action] group [1] limit of 4.5 reached for RUNNING_CPU quota in VM",
  );
  assert.equal(
    words(
      '[one.vm.action] Error performing action "resume": This action is not available for state RUNNING',
    ),
    'Cannot resume X: P answered one.vm.action with error 2048: [one.vm.action] Error performing action "resume": This action is not available for state RUNNING',
  );
});

Deno.test("lockOf() reads a VM's lock, the short form of a 5.8+ listing (level only) included, and nothing from an unlocked VM", () => {
  assert.deepEqual(
    lockOf(
      parseXml(
        "<VM><LOCK><LOCKED>1</LOCKED><OWNER>5</OWNER><TIME>1765148400</TIME><REQ_ID>-1</REQ_ID></LOCK></VM>",
      ),
    ),
    { level: 1, owner: 5, time: 1765148400 },
  );
  assert.deepEqual(lockOf(parseXml("<VM><LOCK><LOCKED>3</LOCKED></LOCK></VM>")), { level: 3 });
  assert.equal(lockOf(parseXml("<VM><ID>1</ID></VM>")), undefined);
  assert.equal(lockOf(parseXml("<VM><LOCK><LOCKED>0</LOCKED></LOCK></VM>")), undefined);
});
