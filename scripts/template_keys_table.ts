/**
 * Prints the README's table of EC2 template keys, made from the rows in
 * `lib/ec2/template_rows.ts`, so that the README cannot drift from what the driver checks. With
 * `--write` it replaces the table in README.md, between its marker comments, instead.
 *
 * Usage: deno task template-keys [--write]
 *
 * @module
 */

import { TEMPLATE_ROWS, type TemplateRow } from "../lib/ec2/template_rows.ts";

/** The comment before the table in README.md. */
export const TABLE_START =
  "<!-- template keys: printed by `deno task template-keys` from lib/ec2/template_rows.ts -->";
/** The comment after it. */
export const TABLE_END = "<!-- end of template keys -->";

/**
 * The markdown table of template keys, laid out as `deno fmt` lays out tables.
 *
 * @param rows The rows, in the table's order.
 * @returns The table, one line per key after the header, without a final newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { templateKeysTable } from "./template_keys_table.ts";
 * const rows = [{ key: "AMI", doc: ["`ami-` id", ""] as const, read: () => ({}) }];
 * assert.equal(
 *   templateKeysTable(rows),
 *   "| key   | value     | default |\n| ----- | --------- | ------- |\n| `AMI` | `ami-` id |         |",
 * );
 * ```
 */
export function templateKeysTable(rows: readonly TemplateRow[] = TEMPLATE_ROWS): string {
  const cells = [
    ["key", "value", "default"],
    ...rows.map((row) => [`\`${row.key}\``, ...row.doc]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(3, ...cells.map((line) => line[i]!.length)));
  const line = (texts: readonly string[]) =>
    `| ${texts.map((text, i) => text.padEnd(widths[i]!)).join(" | ")} |`;
  const rule = line(widths.map((width) => "-".repeat(width)));
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join("\n");
}

/**
 * Replaces the text between the table's markers.
 *
 * @param readme The README's text.
 * @param table The new table.
 * @returns The README with the new table.
 * @throws {Error} when the markers are missing or out of order.
 */
export function withTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start === -1 || end < start) {
    throw new Error(`README.md lacks the lines ${TABLE_START} and ${TABLE_END}`);
  }
  return `${readme.slice(0, start + TABLE_START.length)}\n\n${table}\n\n${readme.slice(end)}`;
}

if (import.meta.main) {
  const table = templateKeysTable();
  if (Deno.args.includes("--write")) {
    const path = new URL("../README.md", import.meta.url);
    await Deno.writeTextFile(path, withTable(await Deno.readTextFile(path), table));
  } else {
    console.log(table);
  }
}
