import assert from "node:assert/strict";
import { JsonSyntaxError, parseJson } from "./json.ts";

Deno.test("parseJson() reads what JSON.parse reads", () => {
  const texts = [
    "{}",
    "[]",
    ' { "a" : [ 1 , -2.5e+3 , 0 , true , false , null ] , "b" : { } } ',
    '"\\u00e9\\n\\"\\\\\\/"',
    "-0",
    '{"nested":[[[{"x":[]}]]]}',
  ];
  for (const text of texts) assert.deepEqual(parseJson(text), JSON.parse(text), text);
  assert.deepEqual(parseJson('\uFEFF{"bom":1}'), { bom: 1 });
});

Deno.test("parseJson() refuses what JSON.parse refuses, by position only", () => {
  const cases: [string, string, number, number][] = [
    ["", "unexpected end of the text, expected a value", 1, 1],
    ['{"a":1,}', "expected a property name in double quotes", 1, 8],
    ["[1,]", "unexpected character, expected a value", 1, 4],
    ['{"a" 1}', "expected ':' after a property name", 1, 6],
    ['{"a":1', "unexpected end of the text, expected ',' or '}'", 1, 7],
    ["[1 2]", "expected ',' or ']'", 1, 4],
    ['"abc', "unterminated string", 1, 1],
    ['"\\x"', "invalid escape in a string", 1, 2],
    ['"\\u12"', "invalid \\u escape in a string", 1, 2],
    ['"a\tb"', "control character in a string", 1, 3],
    ["01", "unexpected text after the end of the document", 1, 2],
    ["{}\n\n  x", "unexpected text after the end of the document", 3, 3],
    ["tru", "unexpected character, expected a value", 1, 1],
  ];
  for (const [text, reason, line, column] of cases) {
    assert.throws(() => JSON.parse(text), SyntaxError, text);
    assert.throws(() => parseJson(text), new JsonSyntaxError(reason, line, column), text);
  }
});

Deno.test("parseJson() refuses nesting beyond its limit before the runtime parses it", () => {
  assert.deepEqual(parseJson("[[[]]]", 3), [[[]]]);
  assert.throws(
    () => parseJson("[[[[]]]]", 3),
    new JsonSyntaxError("objects and arrays nest deeper than 3 levels", 1, 4),
  );
  const deep = "[".repeat(5_000_000);
  assert.throws(() => parseJson(deep), /nest deeper than 64 levels/);
});
