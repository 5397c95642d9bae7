/**
 * JSON parsing for the driver's own files (configuration, checkpoint). The runtime's parser
 * quotes the text around a syntax error, which in a configuration file may be a secret, and
 * nests as deep as the text does. This module first checks the text in one pass with its own
 * stack, refusing deep nesting, and reports a syntax error by line and column only.
 *
 * @module
 */

/** How deep objects and arrays may nest by default; the driver's files need 4 levels. */
const MAX_JSON_DEPTH = 64;

/** The text is not valid JSON, or nests too deep. The message never quotes the text. */
export class JsonSyntaxError extends SyntaxError {
  /** Line of the problem, counted from 1. */
  readonly line: number;
  /** Column of the problem, counted from 1 in UTF-16 code units. */
  readonly column: number;
  /** What is wrong, without the position (lower case, e.g. `expected ',' or '}'`). */
  readonly reason: string;

  /**
   * @param reason What is wrong, starting in lower case; never the text itself.
   * @param line Line of the problem, from 1.
   * @param column Column of the problem, from 1.
   */
  constructor(reason: string, line: number, column: number) {
    super(`Invalid JSON at line ${line}, column ${column}: ${reason}`);
    this.name = "JsonSyntaxError";
    this.reason = reason;
    this.line = line;
    this.column = column;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /^[0-9A-Fa-f]{4}$/;

/**
 * Parses JSON text after checking it.
 *
 * @param text The text; a leading byte-order mark is ignored.
 * @param maxDepth How deep objects and arrays may nest.
 * @returns The value.
 * @throws {JsonSyntaxError} naming the line and column (not the text) when the text is not
 * JSON, or nests deeper than `maxDepth`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonSyntaxError, parseJson } from "./json.ts";
 * assert.deepEqual(parseJson('{"a": [1, true]}'), { a: [1, true] });
 * assert.throws(
 *   () => parseJson('{"key": "s3cret" "next": 1}'),
 *   new JsonSyntaxError("expected ',' or '}'", 1, 18),
 * );
 * ```
 */
export function parseJson(text: string, maxDepth: number = MAX_JSON_DEPTH): unknown {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  checkJson(body, maxDepth);
  return JSON.parse(body);
}

/** Checks JSON syntax in one pass; throws at the first error. */
function checkJson(s: string, maxDepth: number): void {
  let i = 0;
  const stack: ("{" | "[")[] = [];
  const fail = (reason: string, at: number = i): never => {
    let line = 1;
    let lineStart = 0;
    for (let nl = s.indexOf("\n"); nl !== -1 && nl < at; nl = s.indexOf("\n", nl + 1)) {
      line++;
      lineStart = nl + 1;
    }
    throw new JsonSyntaxError(reason, line, at - lineStart + 1);
  };
  const skipSpace = () => {
    for (;;) {
      const c = s[i];
      if (c !== " " && c !== "\n" && c !== "\r" && c !== "\t") return;
      i++;
    }
  };
  const readString = () => {
    const start = i;
    i++;
    for (;;) {
      const c = s[i];
      if (c === undefined) fail("unterminated string", start);
      if (c === '"') {
        i++;
        return;
      }
      if (c === "\\") {
        const next = s[i + 1];
        if (next === "u") {
          if (!HEX4.test(s.slice(i + 2, i + 6))) fail("invalid \\u escape in a string");
          i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) {
          i += 2;
        } else {
          fail("invalid escape in a string");
        }
        continue;
      }
      if ((c as string).charCodeAt(0) < 0x20) fail("control character in a string");
      i++;
    }
  };
  /** Reads one value; returns true when it opened an object or array. */
  const readValue = (): boolean => {
    skipSpace();
    const c = s[i];
    if (c === undefined) fail("unexpected end of the text, expected a value");
    if (c === "{" || c === "[") {
      if (stack.length >= maxDepth) fail(`objects and arrays nest deeper than ${maxDepth} levels`);
      stack.push(c);
      i++;
      return true;
    }
    if (c === '"') {
      readString();
      return false;
    }
    for (const word of ["true", "false", "null"]) {
      if (s.startsWith(word, i)) {
        i += word.length;
        return false;
      }
    }
    NUMBER.lastIndex = i;
    if (NUMBER.test(s)) {
      i = NUMBER.lastIndex;
      return false;
    }
    return fail("unexpected character, expected a value");
  };

  let state: "value" | "key" | "after" = "value";
  for (;;) {
    if (state === "value") {
      if (!readValue()) {
        state = "after";
        continue;
      }
      skipSpace();
      const top = stack[stack.length - 1];
      if (s[i] === (top === "{" ? "}" : "]")) {
        stack.pop();
        i++;
        state = "after";
      } else {
        state = top === "{" ? "key" : "value";
      }
    } else if (state === "key") {
      skipSpace();
      if (s[i] !== '"') fail("expected a property name in double quotes");
      readString();
      skipSpace();
      if (s[i] !== ":") fail("expected ':' after a property name");
      i++;
      state = "value";
    } else {
      skipSpace();
      const top = stack[stack.length - 1];
      if (top === undefined) {
        if (i < s.length) fail("unexpected text after the end of the document");
        return;
      }
      const close = top === "{" ? "}" : "]";
      const c = s[i];
      if (c === ",") {
        i++;
        state = top === "{" ? "key" : "value";
      } else if (c === close) {
        stack.pop();
        i++;
      } else {
        fail(
          c === undefined
            ? `unexpected end of the text, expected ',' or '${close}'`
            : `expected ',' or '${close}'`,
        );
      }
    }
  }
}
