import assert from "node:assert/strict";
import {
  TABLE_END,
  TABLE_START,
  templateKeysTable,
  unwrapped,
  withTable,
} from "./template_keys_table.ts";
import { TEMPLATE_ROWS } from "../lib/providers/ec2/template_rows.ts";

Deno.test("README.md's list of template keys says what the rows print, however deno fmt wrapped it (deno task template-keys --write)", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  assert.equal(unwrapped(withTable(readme, templateKeysTable())), unwrapped(readme));
});

Deno.test("templateKeysTable() has one item per key, in the rows' order", () => {
  const lines = templateKeysTable().split("\n");
  assert.deepEqual(
    lines.map((line) => /^- (`[A-Z_]+`):/.exec(line)?.[1]),
    TEMPLATE_ROWS.map((row) => `\`${row.key}\``),
  );
});

Deno.test("unwrapped() joins wrapped lines but keeps list items apart", () => {
  assert.equal(unwrapped("- `A`: one\n  two.\n- `B`: three."), "- `A`: one two.\n- `B`: three.");
});

Deno.test("withTable() refuses a README without the markers", () => {
  assert.throws(() => withTable("# README\n", "| t |"), /lacks the lines/);
  assert.throws(() => withTable(`${TABLE_END}\n${TABLE_START}\n`, "| t |"), /lacks the lines/);
});
