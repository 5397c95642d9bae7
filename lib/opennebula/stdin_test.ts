import assert from "node:assert/strict";
import { decodeStdinXml } from "./stdin.ts";

const xml = "<VMM_DRIVER_ACTION_DATA><HOST>aws</HOST></VMM_DRIVER_ACTION_DATA>";

Deno.test("decodeStdinXml() decodes base64 wrapped every 60 characters, as OpenNebula 5.10 writes it", () => {
  const wrapped = btoa(xml).replace(/(.{60})/g, "$1\n");
  assert.ok(wrapped.includes("\n"));
  assert.equal(decodeStdinXml(`${wrapped}\n`), xml);
});

Deno.test("decodeStdinXml() keeps plain XML", () => {
  assert.equal(decodeStdinXml(`\n${xml}\n`), xml);
});

Deno.test("decodeStdinXml() treats empty or blank input as absent", () => {
  assert.equal(decodeStdinXml(""), undefined);
  assert.equal(decodeStdinXml(" \n"), undefined);
});

Deno.test("decodeStdinXml() rejects text that is neither XML nor base64 of XML", () => {
  assert.throws(() => decodeStdinXml("hello world"), /expected XML or base64-encoded XML/);
  assert.throws(() => decodeStdinXml(btoa("not xml")), /expected XML or base64-encoded XML/);
});
