import assert from "node:assert/strict";
import {
  TABLE_DOC,
  TABLE_END,
  TABLE_START,
  templateKeysTable,
  unwrapped,
  withTable,
} from "./template_keys_table.ts";
import { TEMPLATE_ROWS } from "../lib/providers/ec2/template_rows.ts";

Deno.test("docs/vm-template.md's list of template keys says what the rows print, however deno fmt wrapped it (deno task template-keys --write)", async () => {
  assert.equal(TABLE_DOC, "docs/vm-template.md");
  const doc = await Deno.readTextFile(new URL(`../${TABLE_DOC}`, import.meta.url));
  assert.equal(unwrapped(withTable(doc, templateKeysTable())), unwrapped(doc));
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

Deno.test("withTable() refuses a document without the markers", () => {
  assert.throws(() => withTable("# VM template\n", "| t |"), /lacks the lines/);
  assert.throws(() => withTable(`${TABLE_END}\n${TABLE_START}\n`, "| t |"), /lacks the lines/);
});

Deno.test("the list of template keys is in one document only: README.md and the other docs hold no copy to go stale", async () => {
  const others = ["README.md"];
  for await (const entry of Deno.readDir(new URL("../docs/", import.meta.url))) {
    if (entry.name.endsWith(".md") && `docs/${entry.name}` !== TABLE_DOC) {
      others.push(`docs/${entry.name}`);
    }
  }
  for (const path of others) {
    const text = await Deno.readTextFile(new URL(`../${path}`, import.meta.url));
    assert.ok(
      !text.includes(TABLE_START) && !text.includes(TABLE_END),
      `${path} holds the markers`,
    );
  }
});
