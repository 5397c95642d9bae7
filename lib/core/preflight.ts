/**
 * The preflight checks' vocabulary and their table: each check of a host is one row saying
 * PASS, FAIL (with the fix) or SKIP (with why), printed to fit an 80-column terminal.
 *
 * @module
 */

/** What a check found: it passed, it failed, or it could not be made. */
export type CheckResult = "PASS" | "FAIL" | "SKIP";

/** One check of one host, as a provider reports it. */
export interface Check {
  /** Short name of what is checked (`credentials`). */
  readonly check: string;
  /** What it found. */
  readonly result: CheckResult;
  /** What was seen on a PASS, the problem and its fix on a FAIL, why on a SKIP. */
  readonly detail: string;
}

/** A check in the table: which host it is about (`-` for the front-end's own checks). */
export interface CheckRow extends Check {
  /** OpenNebula host name. */
  readonly host: string;
}

/** The width the table fits. */
const TABLE_WIDTH = 80;

/** The fewest characters a detail line keeps, however long the host names are. */
const MIN_DETAIL_WIDTH = 24;

/**
 * Lays out the rows as a plain table (`HOST CHECK RESULT DETAIL`), columns as wide as their
 * longest entry, each detail wrapped at word boundaries to fit `width`, its continuation lines
 * starting under the DETAIL column. A word longer than a line is cut.
 *
 * @param rows The checks.
 * @param width Characters per line.
 * @returns The lines, without line ends.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTable } from "./preflight.ts";
 * const lines = formatTable([
 *   { host: "aws", check: "config", result: "PASS", detail: "/etc/one/hybrid_driver.json" },
 * ]);
 * assert.deepEqual(lines, [
 *   "HOST  CHECK   RESULT  DETAIL",
 *   "aws   config  PASS    /etc/one/hybrid_driver.json",
 * ]);
 * ```
 */
export function formatTable(rows: readonly CheckRow[], width: number = TABLE_WIDTH): string[] {
  const hostWidth = Math.max(4, ...rows.map((r) => r.host.length));
  const checkWidth = Math.max(5, ...rows.map((r) => r.check.length));
  const lead = (host: string, check: string, result: string) =>
    `${host.padEnd(hostWidth)}  ${check.padEnd(checkWidth)}  ${result.padEnd(6)}  `;
  const indent = lead("", "", "").length;
  const detailWidth = Math.max(MIN_DETAIL_WIDTH, width - indent);
  const lines = [`${lead("HOST", "CHECK", "RESULT")}DETAIL`];
  for (const row of rows) {
    const [first = "", ...rest] = wrap(row.detail, detailWidth);
    lines.push(`${lead(row.host, row.check, row.result)}${first}`.trimEnd());
    for (const line of rest) lines.push(`${" ".repeat(indent)}${line}`);
  }
  return lines;
}

/**
 * Whether every check passed or was skipped.
 *
 * @param rows The checks.
 * @returns false when any failed.
 */
export function allPassed(rows: readonly Check[]): boolean {
  return rows.every((r) => r.result !== "FAIL");
}

/** Splits a text into lines of at most `width` characters, at spaces where it can. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (let word of text.split(/\s+/).filter((w) => w !== "")) {
    while (word.length > width) {
      if (line) lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = "";
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}
