/**
 * Prints the list of EC2 template keys in `docs/vm-template.md`, made from the rows in
 * `lib/providers/ec2/template_rows.ts`, so that the documentation cannot drift from what the driver
 * checks. With `--write` it replaces the list in `docs/vm-template.md`, between its marker
 * comments, instead, and runs `deno fmt` on that file, which wraps it (the test compares the words,
 * not the wrapping).
 * A list rather than a table: the table's rows were 248 columns wide.
 *
 * Usage: deno task template-keys [--write]
 *
 * @module
 */

import { TEMPLATE_ROWS, type TemplateRow } from "../lib/providers/ec2/template_rows.ts";

/** The document that holds the list, relative to the repository. */
export const TABLE_DOC = "docs/vm-template.md";

/** The comment before the table in the document. */
export const TABLE_START =
  "<!-- template keys: printed by `deno task template-keys` from lib/providers/ec2/template_rows.ts -->";
/** The comment after it. */
export const TABLE_END = "<!-- end of template keys -->";

/**
 * The markdown list of template keys: one item per key, with the values it takes and, when it
 * has one, what an absent key means. Unwrapped: `deno fmt` wraps it.
 *
 * @param rows The rows, in the list's order.
 * @returns The list, one line per key, without a final newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { templateKeysTable } from "./template_keys_table.ts";
 * const rows = [
 *   { key: "AMI", doc: ["`ami-` id (required)", ""] as const, read: () => ({}) },
 *   { key: "KEYPAIR", doc: ["key pair name", "none"] as const, read: () => ({}) },
 * ];
 * assert.equal(
 *   templateKeysTable(rows),
 *   "- `AMI`: `ami-` id (required).\n- `KEYPAIR`: key pair name. Absent: none.",
 * );
 * ```
 */
export function templateKeysTable(rows: readonly TemplateRow[] = TEMPLATE_ROWS): string {
  return rows.map(({ key, doc: [values, absent] }) =>
    `- \`${key}\`: ${values}.${absent ? ` Absent: ${absent}.` : ""}`
  ).join("\n");
}

/**
 * A markdown text with its line breaks and indentation made single spaces, so that two texts
 * that differ only in how they are wrapped compare equal.
 *
 * @param text The text.
 * @returns The text, unwrapped.
 */
export function unwrapped(text: string): string {
  return text.replace(/\n(?!- )\s*/g, " ").replace(/[ \t]+/g, " ").trim();
}

/**
 * Replaces the text between the table's markers.
 *
 * @param doc The document's text.
 * @param table The new table.
 * @returns The document with the new table.
 * @throws {Error} when the markers are missing or out of order.
 */
export function withTable(doc: string, table: string): string {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  if (start === -1 || end < start) {
    throw new Error(`${TABLE_DOC} lacks the lines ${TABLE_START} and ${TABLE_END}`);
  }
  return `${doc.slice(0, start + TABLE_START.length)}\n\n${table}\n\n${doc.slice(end)}`;
}

if (import.meta.main) {
  const table = templateKeysTable();
  if (Deno.args.includes("--write")) {
    const path = new URL(`../${TABLE_DOC}`, import.meta.url);
    await Deno.writeTextFile(path, withTable(await Deno.readTextFile(path), table));
    const fmt = await new Deno.Command("deno", { args: ["fmt", "--quiet", path.pathname] })
      .spawn().status;
    if (!fmt.success) Deno.exit(1);
  } else {
    console.log(table);
  }
}
