/**
 * The stand-in partner (`partner_oned.ts`) on the wire, release by release, as oned answers:
 * the shape of a refusal (3, 4 or 5 elements), the names its messages give methods, the type
 * faults of a parameter missing or of another type in every call, and the methods a release
 * has. Raw calls, read with the driver's own XML-RPC reader.
 */

import assert from "node:assert/strict";
import { parseMethodResponse } from "../lib/one_xmlrpc/xmlrpc.ts";
import { startPartnerOned } from "./partner_oned.ts";

/** A parameter as written on the wire: a value, or a typed element of one's own. */
type Raw = string | number | boolean | { readonly xml: string };

function encode(param: Raw): string {
  if (typeof param === "object") return param.xml;
  if (typeof param === "number") return `<int>${param}</int>`;
  if (typeof param === "boolean") return `<boolean>${param ? 1 : 0}</boolean>`;
  return `<string>${param.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</string>`;
}

/** Sends a call as written and returns the raw answer and what it reads as. */
async function rawCall(url: string, method: string, params: readonly Raw[]) {
  const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${
    params.map((p) => `<param><value>${encode(p)}</value></param>`).join("")
  }</params></methodCall>`;
  const response = await fetch(url, { method: "POST", body });
  const text = await response.text();
  return { text, answer: parseMethodResponse(text) };
}

Deno.test("a refused call answers 3 elements up to 5.2, then the object's id from 5.4 and an <i8> replication index from 5.10; an accepted one 3", async () => {
  const expected: [string, unknown[]][] = [
    ["4.14.2", [false, "[VirtualMachineInfo] Error getting virtual machine [999].", 1024]],
    ["5.2.1", [false, "[VirtualMachineInfo] Error getting virtual machine [999].", 1024]],
    ["5.4.15", [false, "[one.vm.info] Error getting virtual machine [999].", 1024, 999]],
    ["5.8.5", [false, "[one.vm.info] Error getting virtual machine [999].", 1024, 999]],
    ["5.10.5", [false, "[one.vm.info] Error getting virtual machine [999].", 1024, 999, -1]],
    ["6.10.0", [false, "[one.vm.info] Error getting virtual machine [999].", 1024, 999, -1]],
  ];
  for (const [release, value] of expected) {
    await using partner = await startPartnerOned({ release });
    const refused = await rawCall(partner.url, "one.vm.info", [partner.session, 999]);
    assert.deepEqual(refused.answer, { ok: true, value }, release);
    assert.equal(refused.text.includes("<i8>-1</i8>"), value.length === 5, release);
    const wrong = await rawCall(partner.url, "one.user.info", ["partner:wrong", -1]);
    assert.equal(wrong.answer.ok && (wrong.answer.value as unknown[]).length, value.length);
    const user = await rawCall(partner.url, "one.user.info", [partner.session, -1]);
    assert.ok(user.answer.ok && Array.isArray(user.answer.value));
    assert.deepEqual((user.answer.value as unknown[]).map((v) => typeof v), [
      "boolean",
      "string",
      "number",
    ]);
  }
});

Deno.test("a parameter missing or of another type is xmlrpc-c's fault -501 in every call, pool and user calls included, not a not-found answer", async () => {
  await using partner = await startPartnerOned();
  const { session } = partner;
  const fault = (faultString: string) => ({ ok: false, faultCode: -501, faultString });
  const cases: [string, Raw[], string][] = [
    ["one.vm.info", [session, "100"], "Parameter that is supposed to be integer is not"],
    ["one.vm.info", [session], "Not enough parameters"],
    [
      "one.vm.action",
      [session, 100, "terminate"],
      "Parameter that is supposed to be a string is not",
    ],
    [
      "one.vm.update",
      [session, 100, "<T/>", "1"],
      "Parameter that is supposed to be integer is not",
    ],
    ["one.vm.rename", [session, 100], "Not enough parameters"],
    [
      "one.vm.snapshotcreate",
      [session, { xml: "<double>100</double>" }, "s"],
      "Parameter that is supposed to be integer is not",
    ],
    ["one.template.info", [session, 7, "yes"], "Parameter that is supposed to be boolean is not"],
    [
      "one.template.instantiate",
      [session, 7, "n", "false", ""],
      "Parameter that is supposed to be boolean is not",
    ],
    // Up to 7.0 the extra template is read together with the hold flag.
    ["one.template.instantiate", [session, 7, "n", false], "Not enough parameters"],
    ["one.vmpool.info", [session, -3, -1, -1], "Not enough parameters"],
    [
      "one.vmpool.infoextended",
      [session, -3, -1, { xml: "<i8>-1</i8>" }, -1],
      "Parameter that is supposed to be integer is not",
    ],
    [
      "one.vmpool.infoextended",
      [session, -3, -1, -1, -1, 5],
      "Parameter that is supposed to be a string is not",
    ],
    ["one.user.info", [session, "me"], "Parameter that is supposed to be integer is not"],
    // The session is read first, before it is authenticated.
    ["one.user.info", [2, -1], "Parameter that is supposed to be a string is not"],
    ["one.user.info", [], "Not enough parameters"],
  ];
  for (const [method, params, text] of cases) {
    const { answer } = await rawCall(partner.url, method, params);
    assert.deepEqual(answer, fault(text), `${method}(${JSON.stringify(params.slice(1))})`);
  }
  // A wrong session fails authentication before the method reads its parameters.
  const wrong = await rawCall(partner.url, "one.vm.info", ["partner:wrong", "100"]);
  assert.deepEqual(wrong.answer, {
    ok: true,
    value: [false, "[one.vm.info] User couldn't be authenticated, aborting call.", 256, -1, -1],
  });
  // Parameters past the last one a release reads are ignored, as oned ignores them.
  const extra = await rawCall(partner.url, "one.user.info", [session, -1, "ignored", 9]);
  assert.ok(extra.answer.ok && (extra.answer.value as unknown[])[0] === true);
});

Deno.test("7.2 reads every user's decrypt flag, and instantiate's extra template on its own", async () => {
  await using partner = await startPartnerOned({ release: "7.2.0" });
  partner.templates.set(7, { name: "small", context: {} });
  const decrypt = await rawCall(partner.url, "one.vm.info", [partner.session, 100, "yes"]);
  assert.deepEqual(decrypt.answer, {
    ok: false,
    faultCode: -501,
    faultString: "Parameter that is supposed to be boolean is not",
  });
  const held = await rawCall(partner.url, "one.template.instantiate", [
    partner.session,
    7,
    "held",
    true,
  ]);
  assert.ok(held.answer.ok && (held.answer.value as unknown[])[0] === true);
});

Deno.test("a method the partner's release does not have is fault -506: one.vmpool.infoextended before 5.8.1", async () => {
  for (const [release, has] of [["5.8.0", false], ["5.8.1", true], ["4.14.2", false]] as const) {
    await using partner = await startPartnerOned({ release });
    const { answer } = await rawCall(partner.url, "one.vmpool.infoextended", [
      partner.session,
      -3,
      -1,
      -1,
      -1,
    ]);
    assert.deepEqual(
      answer.ok ? "answered" : answer,
      has ? "answered" : {
        ok: false,
        faultCode: -506,
        faultString: "Method 'one.vmpool.infoextended' not defined",
      },
      release,
    );
  }
});
