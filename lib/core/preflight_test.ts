import assert from "node:assert/strict";
import { allPassed, type CheckRow, formatTable } from "./preflight.ts";

Deno.test("formatTable() aligns the columns and wraps a long detail under the DETAIL column within 80 characters", () => {
  const rows: CheckRow[] = [
    { host: "aws-eu", check: "config", result: "PASS", detail: "/etc/one/hybrid_driver.json" },
    {
      host: "aws-eu",
      check: "credentials",
      result: "FAIL",
      detail:
        "AuthFailure: AWS was not able to validate the provided access credentials; fix: check accessKeyId and secretAccessKey",
    },
    { host: "-", check: "oned", result: "SKIP", detail: "" },
  ];
  const lines = formatTable(rows);
  assert.deepEqual(lines, [
    "HOST    CHECK        RESULT  DETAIL",
    "aws-eu  config       PASS    /etc/one/hybrid_driver.json",
    "aws-eu  credentials  FAIL    AuthFailure: AWS was not able to validate the",
    "                             provided access credentials; fix: check accessKeyId",
    "                             and secretAccessKey",
    "-       oned         SKIP",
  ]);
  assert.ok(lines.every((line) => line.length <= 80));
});

Deno.test("formatTable() cuts a word longer than a line rather than overflow the width", () => {
  const path = `/${"d".repeat(70)}/hybrid_driver.json`;
  const detail = `read ${path}`;
  const lines = formatTable([{ host: "h", check: "config", result: "FAIL", detail }], 46);
  const under = " ".repeat(22);
  assert.deepEqual(lines, [
    "HOST  CHECK   RESULT  DETAIL",
    "h     config  FAIL    read",
    `${under}${path.slice(0, 24)}`,
    `${under}${path.slice(24, 48)}`,
    `${under}${path.slice(48, 72)}`,
    `${under}${path.slice(72)}`,
  ]);
  assert.ok(lines.every((line) => line.length <= 46));
});

Deno.test("allPassed() is false only when a check failed; skipped checks do not fail", () => {
  assert.equal(
    allPassed([{ check: "a", result: "PASS", detail: "" }, {
      check: "b",
      result: "SKIP",
      detail: "",
    }]),
    true,
  );
  assert.equal(
    allPassed([{ check: "a", result: "PASS", detail: "" }, {
      check: "b",
      result: "FAIL",
      detail: "",
    }]),
    false,
  );
});
