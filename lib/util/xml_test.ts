import assert from "node:assert/strict";
import { InvalidInputError } from "./errors.ts";
import { child, children, childText, parseXml, type XmlElement, XmlSyntaxError } from "./xml.ts";

/** Asserts that parsing fails with `reason` at `line`:`column`. */
function assertSyntaxError(xml: string, reason: string | RegExp, line?: number, column?: number) {
  assert.throws(() => parseXml(xml), (err: unknown) => {
    assert.ok(err instanceof XmlSyntaxError, `expected XmlSyntaxError, got ${err}`);
    if (typeof reason === "string") assert.equal(err.reason, reason);
    else assert.match(err.reason, reason);
    if (line !== undefined) assert.equal(err.line, line, "line");
    if (column !== undefined) assert.equal(err.column, column, "column");
    assert.equal(
      err.message,
      `Invalid XML at line ${err.line}, column ${err.column}: ${err.reason}`,
    );
    return true;
  });
}

function only(element: XmlElement): XmlElement {
  assert.equal(element.children.length, 1);
  return element.children[0]!;
}

Deno.test("parseXml() reads elements, attributes and text", () => {
  const root = parseXml(`<VM id="7" state='running'><NAME>web</NAME><EMPTY/><BLANK></BLANK></VM>`);
  assert.equal(root.name, "VM");
  assert.deepEqual(root.attributes, { id: "7", state: "running" });
  assert.deepEqual(root.children.map((c) => c.name), ["NAME", "EMPTY", "BLANK"]);
  assert.equal(root.children[0]!.text, "web");
  assert.equal(root.children[1]!.text, "");
  assert.deepEqual(root.children[1]!.attributes, {});
  assert.equal(root.children[2]!.text, "");
});

Deno.test("parseXml() reads CDATA sections verbatim", () => {
  const root = parseXml("<T><V><![CDATA[a < b && c ]] > &amp; <x/>]]></V></T>");
  assert.equal(childText(root, "V"), "a < b && c ]] > &amp; <x/>");
});

Deno.test("parseXml() joins text and CDATA sections in document order", () => {
  const root = parseXml("<V>one <![CDATA[two]]> three<!-- skipped --><![CDATA[]]>four</V>");
  assert.equal(root.text, "one two threefour");
});

Deno.test("parseXml() keeps whitespace of text as written", () => {
  const root = parseXml("<T>\n  <A>  padded  </A>\n</T>");
  assert.equal(root.text, "\n  \n");
  assert.equal(childText(root, "A"), "  padded  ");
});

Deno.test("parseXml() decodes the predefined entities and character references", () => {
  const root = parseXml(
    `<T a="&quot;x&quot; &amp; &apos;y&apos;">&lt;a&gt; &amp; &#65;&#x42;&#x1F600; &#169;</T>`,
  );
  assert.equal(root.text, "<a> & AB\u{1F600} \u00A9");
  assert.equal(root.attributes.a, `"x" & 'y'`);
});

Deno.test("parseXml() does not decode a reference twice", () => {
  assert.equal(parseXml("<T>&amp;lt;</T>").text, "&lt;");
});

Deno.test("parseXml() skips comments, processing instructions and the XML declaration", () => {
  const root = parseXml(
    `<?xml version="1.0" encoding="UTF-8"?>\n<!-- written by oned -->\n<?pi data?>\n` +
      `<T><!-- inside --><?php echo ?><A>1</A></T>\n<!-- trailing -->\n<?after?>\n`,
  );
  assert.equal(root.name, "T");
  assert.equal(childText(root, "A"), "1");
  assert.equal(root.text, "");
});

Deno.test("parseXml() ignores a byte-order mark and reads CRLF line ends as LF", () => {
  const root = parseXml("\uFEFF<?xml version='1.0'?>\r\n<T>a\r\nb\rc</T>\r\n");
  assert.equal(root.text, "a\nb\nc");
});

Deno.test("parseXml() normalises literal whitespace in attribute values only", () => {
  const root = parseXml(`<T a="x\ty\nz" b="x&#10;y"/>`);
  assert.equal(root.attributes.a, "x y z");
  assert.equal(root.attributes.b, "x\ny");
});

Deno.test("parseXml() accepts whitespace inside tags", () => {
  const root = parseXml(`<T  a = "1"\n  b='2' ><A\n/></T >`);
  assert.deepEqual(root.attributes, { a: "1", b: "2" });
  assert.equal(root.children[0]!.name, "A");
});

Deno.test("parseXml() keeps names with namespace prefixes, digits, dots and dashes", () => {
  const root = parseXml(`<ns:T xml:lang="en"><A-1.b_2>x</A-1.b_2></ns:T>`);
  assert.equal(root.name, "ns:T");
  assert.equal(root.attributes["xml:lang"], "en");
  assert.equal(childText(root, "A-1.b_2"), "x");
});

Deno.test("parseXml() stores an attribute named __proto__ as an ordinary attribute", () => {
  const root = parseXml(`<T __proto__="x" constructor="y"/>`);
  assert.ok(Object.hasOwn(root.attributes, "__proto__"));
  assert.equal(root.attributes["__proto__"], "x");
  assert.equal(root.attributes.constructor, "y");
  assert.equal(Object.getPrototypeOf(root.attributes), Object.prototype);
});

Deno.test("parseXml() refuses DOCTYPE declarations", () => {
  const laughs = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n` +
    ` <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">\n]>\n<lolz>&lol2;</lolz>`;
  assertSyntaxError(laughs, "DOCTYPE declarations are not allowed", 2, 1);
  assertSyntaxError(`<!DOCTYPE VM SYSTEM "file:///etc/passwd"><VM/>`, /DOCTYPE/, 1, 1);
});

Deno.test("parseXml() refuses ENTITY and other declarations inside elements", () => {
  assertSyntaxError(`<T><!ENTITY x "y"></T>`, "ENTITY declarations are not allowed", 1, 4);
  assertSyntaxError(`<T><!ELEMENT T ANY></T>`, "unexpected markup declaration '<!'", 1, 4);
});

Deno.test("parseXml() rejects a mismatched end tag, with its line and column", () => {
  assertSyntaxError(
    "<VM>\n  <NAME>web</NAMX>\n</VM>",
    "mismatched end tag </NAMX>, expected </NAME>",
    2,
    12,
  );
});

Deno.test("parseXml() rejects an unclosed element at its start tag", () => {
  assertSyntaxError(
    "<VM>\n  <TEMPLATE>\n    <CPU>1</CPU>\n",
    "element <TEMPLATE> is never closed",
    2,
    3,
  );
});

Deno.test("parseXml() rejects an end tag without a start tag", () => {
  assertSyntaxError("</VM>", "unexpected end tag without a matching start tag", 1, 1);
});

Deno.test("parseXml() rejects content after the root element", () => {
  assertSyntaxError("<VM/>\n<VM/>", "unexpected element after the root element <VM>", 2, 1);
  assertSyntaxError("<VM></VM>junk", "unexpected text after the root element", 1, 10);
  assertSyntaxError("<VM></VM></VM>", "unexpected end tag without a matching start tag", 1, 10);
});

Deno.test("parseXml() rejects text before the root element and documents without one", () => {
  assertSyntaxError("hello <VM/>", "unexpected text before the root element", 1, 1);
  assertSyntaxError("", "the document has no root element", 1, 1);
  assertSyntaxError("  <!-- nothing -->  ", "the document has no root element");
});

Deno.test("parseXml() rejects unknown entities and bare ampersands", () => {
  assertSyntaxError("<T>a &nbsp; b</T>", "unknown entity &nbsp;", 1, 6);
  assertSyntaxError("<T>fish & chips</T>", "'&' must start a reference such as &amp;", 1, 9);
  assertSyntaxError("<T>&amp</T>", "'&' must start a reference such as &amp;", 1, 4);
  assertSyntaxError(`<T a="&x;"/>`, "unknown entity &x;", 1, 7);
  assertSyntaxError("<T>&__proto__;</T>", "unknown entity &__proto__;");
});

Deno.test("parseXml() rejects character references to characters XML forbids", () => {
  assertSyntaxError("<T>&#0;</T>", "invalid character reference &#0;", 1, 4);
  assertSyntaxError("<T>&#xD800;</T>", "invalid character reference &#xD800;");
  assertSyntaxError("<T>&#x110000;</T>", "invalid character reference &#x110000;");
  assertSyntaxError("<T>&#12a;</T>", "invalid character reference &#12a;");
  assertSyntaxError("<T>&#X41;</T>", "invalid character reference &#X41;");
});

Deno.test("parseXml() rejects control characters XML forbids", () => {
  assertSyntaxError("<T>\n a\u0001</T>", "character U+0001 is not allowed in XML", 2, 3);
  assertSyntaxError("<T>\uFFFF</T>", "character U+FFFF is not allowed in XML");
});

Deno.test("parseXml() rejects malformed attributes", () => {
  assertSyntaxError(`<T a="1" a="2"/>`, "duplicate attribute a in <T>", 1, 10);
  assertSyntaxError(`<T a=1/>`, "expected a quoted value for attribute a", 1, 6);
  assertSyntaxError(`<T a="1"b="2"/>`, "expected whitespace, '>' or '/>' in start tag <T>", 1, 9);
  assertSyntaxError(`<T a/>`, "expected '=' after attribute a", 1, 5);
  assertSyntaxError(`<T a="<"/>`, "'<' is not allowed in an attribute value", 1, 7);
  assertSyntaxError(`<T a="1`, "unterminated value of attribute a", 1, 6);
  assertSyntaxError(`<T a="1"`, "unterminated start tag <T>", 1, 1);
  assertSyntaxError(`<T 1="x"/>`, "expected an attribute name, '>' or '/>' in start tag <T>", 1, 4);
});

Deno.test("parseXml() rejects malformed names and tags", () => {
  assertSyntaxError("<1T/>", "expected an element name after '<'", 1, 2);
  assertSyntaxError("< T/>", "expected an element name after '<'", 1, 2);
  assertSyntaxError("<T></ T>", "expected an element name after '</'", 1, 6);
  assertSyntaxError("<T></T x>", "expected '>' to end the end tag </T>", 1, 8);
  assertSyntaxError("<T>", "element <T> is never closed", 1, 1);
  assertSyntaxError("<T", "unterminated start tag <T>", 1, 1);
});

Deno.test("parseXml() rejects ']]>' in text and '--' in comments", () => {
  assertSyntaxError("<T>a ]]> b</T>", "']]>' is not allowed in text", 1, 6);
  assertSyntaxError("<T><!-- a -- b --></T>", "'--' is not allowed inside a comment", 1, 11);
  assertSyntaxError("<T><!-- a ---></T>", "'--' is not allowed inside a comment");
});

Deno.test("parseXml() rejects unterminated comments, CDATA sections and processing instructions", () => {
  assertSyntaxError("<T>\n<!-- open", "unterminated comment", 2, 1);
  assertSyntaxError("<T><![CDATA[open</T>", "unterminated CDATA section", 1, 4);
  assertSyntaxError("<?pi open", "unterminated processing instruction", 1, 1);
  assertSyntaxError("<?xml version='1.0'", "unterminated XML declaration", 1, 1);
});

Deno.test("parseXml() rejects an XML declaration anywhere but at the start", () => {
  assertSyntaxError(
    ` <?xml version="1.0"?><T/>`,
    "the XML declaration is only allowed at the very start of the document",
    1,
    2,
  );
  assertSyntaxError(`<T><?xml version="1.0"?></T>`, /only allowed at the very start/, 1, 4);
});

Deno.test("XmlSyntaxError is an InvalidInputError with a one-line message", () => {
  try {
    parseXml("<A>\n<B></A>");
    assert.fail("parseXml() should have thrown");
  } catch (err) {
    assert.ok(err instanceof InvalidInputError);
    assert.ok(err instanceof XmlSyntaxError);
    assert.equal(err.name, "XmlSyntaxError");
    assert.equal(
      err.message,
      "Invalid XML at line 2, column 4: mismatched end tag </A>, expected </B>",
    );
  }
});

Deno.test("child(), children() and childText() find children by exact name", () => {
  const root = parseXml("<R><A>1</A><B>2</B><A>3</A><a>4</a></R>");
  assert.equal(child(root, "A")?.text, "1");
  assert.equal(child(root, "C"), undefined);
  assert.deepEqual(children(root, "A").map((e) => e.text), ["1", "3"]);
  assert.deepEqual(children(root, "C"), []);
  assert.equal(childText(root, "B"), "2");
  assert.equal(childText(root, "a"), "4");
  assert.equal(childText(root, "C"), undefined);
});

Deno.test("parseXml() reads deeply nested documents without recursion", () => {
  const depth = 100_000;
  const xml = "<a>".repeat(depth) + "x" + "</a>".repeat(depth);
  let element = parseXml(xml, { maxElements: depth, maxDepth: depth });
  let levels = 1;
  while (element.children.length > 0) {
    element = only(element);
    levels++;
  }
  assert.equal(levels, depth);
  assert.equal(element.text, "x");
});

Deno.test("parseXml() reads a 1 MB document quickly", () => {
  const item = `<HISTORY seq="1"><HOSTNAME><![CDATA[ec2-us-east-1]]></HOSTNAME>` +
    `<NOTE>a &amp; b &lt; c &#65;</NOTE><!-- c --></HISTORY>`;
  const count = Math.ceil(1_048_576 / item.length);
  const xml = `<?xml version="1.0"?><VM>${item.repeat(count)}</VM>`;
  assert.ok(xml.length >= 1_048_576);
  const started = performance.now();
  const root = parseXml(xml);
  const elapsed = performance.now() - started;
  assert.equal(root.children.length, count);
  assert.equal(childText(root.children[count - 1]!, "NOTE"), "a & b < c A");
  // Linear work takes a few tens of milliseconds; quadratic work would take minutes.
  assert.ok(elapsed < 2000, `took ${elapsed.toFixed(0)} ms`);
});

Deno.test("parseXml() stays fast on one huge text node full of references", () => {
  const xml = `<T>${"&amp;".repeat(200_000)}</T>`;
  const started = performance.now();
  assert.equal(parseXml(xml).text.length, 200_000);
  assert.ok(performance.now() - started < 2000);
});

Deno.test("parseXml() refuses more elements than its limit, at the first one too many", () => {
  const limits = { maxElements: 3, maxDepth: 10 };
  assert.equal(parseXml("<a><b/><c/></a>", limits).children.length, 2);
  assert.throws(
    () => parseXml("<a><b/><c/><d/></a>", limits),
    new XmlSyntaxError("more than 3 elements, the driver's limit", 1, 12),
  );
});

Deno.test("parseXml() refuses nesting deeper than its limit", () => {
  const limits = { maxElements: 100, maxDepth: 3 };
  assert.equal(parseXml("<a><b><c/></b></a>", limits).name, "a");
  assert.throws(
    () => parseXml("<a><b><c><d/></c></b></a>", limits),
    new XmlSyntaxError("elements nested deeper than 3 levels, the driver's limit", 1, 10),
  );
});

Deno.test("parseXml() stops a flood of small elements at its default limit", () => {
  const flood = `<VM>${"<A/>".repeat(1_000_000)}</VM>`;
  assert.throws(() => parseXml(flood), /more than 200000 elements, the driver's limit/);
  assert.throws(
    () => parseXml("<a>".repeat(101) + "</a>".repeat(101)),
    /nested deeper than 100 levels/,
  );
});
