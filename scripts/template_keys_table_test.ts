import assert from "node:assert/strict";
import { TABLE_END, TABLE_START, templateKeysTable, withTable } from "./template_keys_table.ts";
import { TEMPLATE_ROWS } from "../lib/ec2/template_rows.ts";

Deno.test("README.md's table of template keys is the one the rows print (deno task template-keys --write)", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  assert.equal(withTable(readme, templateKeysTable()), readme);
});

Deno.test("templateKeysTable() has one line per key, in the rows' order", () => {
  const lines = templateKeysTable().split("\n");
  assert.equal(lines.length, TEMPLATE_ROWS.length + 2);
  assert.deepEqual(
    lines.slice(2).map((line) => line.split("|")[1]?.trim()),
    TEMPLATE_ROWS.map((row) => `\`${row.key}\``),
  );
});

Deno.test("withTable() refuses a README without the markers", () => {
  assert.throws(() => withTable("# README\n", "| t |"), /lacks the lines/);
  assert.throws(() => withTable(`${TABLE_END}\n${TABLE_START}\n`, "| t |"), /lacks the lines/);
});
