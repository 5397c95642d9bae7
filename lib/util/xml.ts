/**
 * A small, strict reader for the XML that oned writes: elements, attributes, text, CDATA
 * sections, the five predefined entities, numeric character references, comments, processing
 * instructions and the `<?xml ...?>` declaration.
 *
 * Document type declarations are refused outright, so no entity can be defined and nothing is
 * ever expanded beyond a single character. The reader makes one pass over the input, keeps
 * its own stack (deep nesting cannot overflow the call stack) and never backtracks, so its
 * cost grows linearly with the size of the document. The number of elements and their depth
 * are capped, since each element costs far more memory than its text. Namespaces are not
 * interpreted: a name such as `a:b` is kept as written.
 *
 * @module
 */

import { InvalidInputError } from "./errors.ts";

/** One element of a parsed document. */
export interface XmlElement {
  /** The element name as written. */
  readonly name: string;
  /** Attribute values by name, with references decoded. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Child elements in document order. */
  readonly children: readonly XmlElement[];
  /**
   * The element's own character data (text and CDATA sections, not that of its children)
   * joined in document order, references decoded, line ends normalised to `\n`, not trimmed.
   */
  readonly text: string;
}

/** The input is not well-formed XML, or uses a feature the reader refuses (DOCTYPE). */
export class XmlSyntaxError extends InvalidInputError {
  /** Line of the problem, counted from 1. */
  readonly line: number;
  /** Column of the problem, counted from 1 in UTF-16 code units. */
  readonly column: number;
  /** What is wrong, without the position (lower case, e.g. `unclosed element <VM>`). */
  readonly reason: string;

  /**
   * @param reason What is wrong, starting in lower case.
   * @param line Line of the problem, from 1.
   * @param column Column of the problem, from 1.
   */
  constructor(reason: string, line: number, column: number) {
    super(`Invalid XML at line ${line}, column ${column}: ${reason}`);
    this.reason = reason;
    this.line = line;
    this.column = column;
  }
}

/** An element being read: what is known before its end tag. */
interface OpenElement {
  readonly name: string;
  readonly attributes: Record<string, string>;
  readonly children: XmlElement[];
  readonly text: string[];
  /** Offset of its `<`, for "never closed" errors. */
  readonly start: number;
}

const PREDEFINED: Readonly<Record<string, string>> = {
  lt: "<",
  gt: ">",
  amp: "&",
  quot: '"',
  apos: "'",
};

/** Limits on what a document may hold. */
interface XmlLimits {
  /** The most elements in the document. */
  readonly maxElements: number;
  /** How deep elements may nest (the root is at depth 1). */
  readonly maxDepth: number;
}

/**
 * Default limits: far beyond oned's documents (a deployment file of a VM with a long history
 * has a few thousand elements, nested 5 deep), and small enough that the parsed tree of a
 * hostile document stays in tens of MB.
 */
const DEFAULT_XML_LIMITS: XmlLimits = { maxElements: 200_000, maxDepth: 100 };

/** Characters XML 1.0 forbids anywhere in a document. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const FORBIDDEN_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
const NAME_START =
  /[A-Za-z_:\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\uD800-\uDBFF]/;
const NAME_CHAR = /[-.0-9\u00B7\u0300-\u036F\u203F\u2040\uDC00-\uDFFF]/;

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\n" || c === "\t" || c === "\r";
}

/** Whether a code point is a character XML 1.0 allows. */
function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xA || cp === 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
    (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

/** The reader's state over one document. */
class Reader {
  readonly src: string;
  pos = 0;

  constructor(src: string) {
    this.src = src;
  }

  fail(reason: string, at: number = this.pos): never {
    let line = 1;
    let lineStart = 0;
    for (let i = this.src.indexOf("\n"); i !== -1 && i < at; i = this.src.indexOf("\n", i + 1)) {
      line++;
      lineStart = i + 1;
    }
    throw new XmlSyntaxError(reason, line, at - lineStart + 1);
  }

  startsWith(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }

  skipSpace(): void {
    while (isSpace(this.src[this.pos])) this.pos++;
  }

  /** Reads a name at the current position, or fails with `what`. */
  readName(what: string): string {
    const start = this.pos;
    const first = this.src[start];
    if (first === undefined || !NAME_START.test(first)) {
      this.fail(
        first === undefined ? `unexpected end of document, expected ${what}` : `expected ${what}`,
      );
    }
    this.pos++;
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined || !(NAME_START.test(c) || NAME_CHAR.test(c))) break;
      this.pos++;
    }
    return this.src.slice(start, this.pos);
  }

  /**
   * Moves past `end`, which must occur later; returns the text before it. `openedAt` is where
   * the construct began, for the error when `end` never comes.
   */
  readUntil(end: string, what: string, openedAt: number): string {
    const at = this.src.indexOf(end, this.pos);
    if (at === -1) this.fail(`unterminated ${what}`, openedAt);
    const body = this.src.slice(this.pos, at);
    this.pos = at + end.length;
    return body;
  }

  /** Decodes entity and character references in `raw`, which starts at offset `base`. */
  decode(raw: string, base: number): string {
    if (!raw.includes("&")) return raw;
    let out = "";
    let last = 0;
    for (let amp = raw.indexOf("&"); amp !== -1; amp = raw.indexOf("&", last)) {
      out += raw.slice(last, amp);
      const semi = raw.indexOf(";", amp);
      const ref = semi === -1 ? "" : raw.slice(amp + 1, semi);
      if (semi === -1 || ref.length === 0 || ref.length > 32 || /[\s&<]/.test(ref)) {
        this.fail("'&' must start a reference such as &amp;", base + amp);
      }
      if (ref[0] === "#") {
        const hex = ref[1] === "x";
        const digits = ref.slice(hex ? 2 : 1);
        const valid = hex ? /^[0-9A-Fa-f]+$/.test(digits) : /^[0-9]+$/.test(digits);
        const cp = valid ? parseInt(digits, hex ? 16 : 10) : NaN;
        if (!valid || !isXmlChar(cp)) {
          this.fail(`invalid character reference &${ref};`, base + amp);
        }
        out += String.fromCodePoint(cp);
      } else {
        const value = Object.hasOwn(PREDEFINED, ref) ? PREDEFINED[ref] : undefined;
        if (value === undefined) this.fail(`unknown entity &${ref};`, base + amp);
        out += value;
      }
      last = semi + 1;
    }
    return out + raw.slice(last);
  }

  /** Skips a comment; the position is at `<!--`. */
  skipComment(): void {
    const start = this.pos;
    this.pos += 4;
    const body = this.readUntil("-->", "comment", start);
    const dashes = body.indexOf("--");
    if (dashes !== -1 || body.endsWith("-")) {
      this.fail(
        "'--' is not allowed inside a comment",
        start + 4 + (dashes === -1 ? body.length - 1 : dashes),
      );
    }
  }

  /** Skips a processing instruction; the position is at `<?`. */
  skipProcessingInstruction(): void {
    const start = this.pos;
    this.pos += 2;
    const target = this.readName("a processing instruction target");
    if (target.toLowerCase() === "xml") {
      this.fail("the XML declaration is only allowed at the very start of the document", start);
    }
    this.readUntil("?>", "processing instruction", start);
  }

  /** Refuses `<!DOCTYPE`, `<!ENTITY` and other declarations; the position is at `<!`. */
  refuseDeclaration(): never {
    const word = /^<!([A-Za-z]*)/.exec(this.src.slice(this.pos, this.pos + 12))?.[1] ?? "";
    if (word === "DOCTYPE" || word === "ENTITY") {
      this.fail(`${word} declarations are not allowed`);
    }
    this.fail("unexpected markup declaration '<!'");
  }

  /** Reads a start tag; the position is at `<`. */
  readStartTag(): { element: OpenElement; selfClosing: boolean } {
    const start = this.pos;
    this.pos++;
    const name = this.readName("an element name after '<'");
    const pairs: [string, string][] = [];
    const seen = new Set<string>();
    for (;;) {
      const hadSpace = isSpace(this.src[this.pos]);
      this.skipSpace();
      if (this.startsWith("/>")) {
        this.pos += 2;
        return { element: open(name, pairs, start), selfClosing: true };
      }
      if (this.startsWith(">")) {
        this.pos++;
        return { element: open(name, pairs, start), selfClosing: false };
      }
      if (this.pos >= this.src.length) this.fail(`unterminated start tag <${name}>`, start);
      if (!hadSpace) this.fail(`expected whitespace, '>' or '/>' in start tag <${name}>`);
      const attrAt = this.pos;
      const attr = this.readName(`an attribute name, '>' or '/>' in start tag <${name}>`);
      if (seen.has(attr)) this.fail(`duplicate attribute ${attr} in <${name}>`, attrAt);
      seen.add(attr);
      this.skipSpace();
      if (!this.startsWith("=")) this.fail(`expected '=' after attribute ${attr}`);
      this.pos++;
      this.skipSpace();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") {
        this.fail(`expected a quoted value for attribute ${attr}`);
      }
      this.pos++;
      const valueAt = this.pos;
      const raw = this.readUntil(quote, `value of attribute ${attr}`, valueAt - 1);
      const lt = raw.indexOf("<");
      if (lt !== -1) this.fail("'<' is not allowed in an attribute value", valueAt + lt);
      pairs.push([attr, this.decode(raw.replace(/[\t\n]/g, " "), valueAt)]);
    }
  }

  /** Reads an end tag for `expected`; the position is at `</`. */
  readEndTag(expected: string): void {
    const start = this.pos;
    this.pos += 2;
    const name = this.readName("an element name after '</'");
    this.skipSpace();
    if (!this.startsWith(">")) this.fail(`expected '>' to end the end tag </${name}>`);
    this.pos++;
    if (name !== expected) {
      this.fail(`mismatched end tag </${name}>, expected </${expected}>`, start);
    }
  }
}

function open(name: string, pairs: [string, string][], start: number): OpenElement {
  return { name, attributes: Object.fromEntries(pairs), children: [], text: [], start };
}

function close(element: OpenElement): XmlElement {
  return {
    name: element.name,
    attributes: element.attributes,
    children: element.children,
    text: element.text.join(""),
  };
}

/**
 * Reads an XML document.
 *
 * @param text The whole document. A leading byte-order mark is ignored; `\r\n` and `\r`
 * line ends are read as `\n`, as XML requires.
 * @param limits How many elements, and how deep, the document may hold.
 * @returns The root element.
 * @throws {XmlSyntaxError} when the document is not well-formed (mismatched or unclosed tags,
 * content after the root element, an unknown entity, a forbidden character...), contains a
 * DOCTYPE or ENTITY declaration, or breaks a limit.
 * @example Reading a vector attribute written by oned
 * ```ts
 * import assert from "node:assert/strict";
 * import { childText, parseXml } from "./xml.ts";
 *
 * const root = parseXml("<EC2><AMI><![CDATA[ami-0abc1234]]></AMI><KEYPAIR>ops</KEYPAIR></EC2>");
 * assert.equal(root.name, "EC2");
 * assert.equal(childText(root, "AMI"), "ami-0abc1234");
 * assert.equal(childText(root, "KEYPAIR"), "ops");
 * ```
 */
export function parseXml(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  const src = text.replace(/\r\n?/g, "\n");
  const r: Reader = new Reader(src);
  let elements = 0;
  /** Counts an element starting at `at` that will sit at `depth`. */
  const count = (depth: number, at: number) => {
    if (++elements > limits.maxElements) {
      r.fail(`more than ${limits.maxElements} elements, the driver's limit`, at);
    }
    if (depth > limits.maxDepth) {
      r.fail(`elements nested deeper than ${limits.maxDepth} levels, the driver's limit`, at);
    }
  };
  if (src.startsWith("\uFEFF")) r.pos = 1;

  const forbidden = FORBIDDEN_CHAR.exec(src);
  if (forbidden) {
    const code = forbidden[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    r.fail(`character U+${code} is not allowed in XML`, forbidden.index);
  }

  if (/^<\?xml[\s?]/.test(src.slice(r.pos, r.pos + 6))) {
    r.pos += 5;
    r.readUntil("?>", "XML declaration", r.pos - 5);
  }

  const stack: OpenElement[] = [];
  let root: XmlElement | undefined;

  while (r.pos < src.length) {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      // Prolog or epilog: only whitespace, comments and processing instructions.
      r.skipSpace();
      if (r.pos >= src.length) break;
      if (src[r.pos] !== "<") {
        r.fail(
          root
            ? "unexpected text after the root element"
            : "unexpected text before the root element",
        );
      }
      if (r.startsWith("<?")) r.skipProcessingInstruction();
      else if (r.startsWith("<!--")) r.skipComment();
      else if (r.startsWith("<!")) r.refuseDeclaration();
      else if (r.startsWith("</")) r.fail("unexpected end tag without a matching start tag");
      else if (root) r.fail(`unexpected element after the root element <${root.name}>`);
      else {
        count(1, r.pos);
        const { element, selfClosing } = r.readStartTag();
        if (selfClosing) root = close(element);
        else stack.push(element);
      }
      continue;
    }

    const lt = src.indexOf("<", r.pos);
    const end = lt === -1 ? src.length : lt;
    if (end > r.pos) {
      const raw = src.slice(r.pos, end);
      const cdataEnd = raw.indexOf("]]>");
      if (cdataEnd !== -1) r.fail("']]>' is not allowed in text", r.pos + cdataEnd);
      top.text.push(r.decode(raw, r.pos));
      r.pos = end;
    }
    if (lt === -1) break;

    if (r.startsWith("</")) {
      r.readEndTag(top.name);
      stack.pop();
      const done = close(top);
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(done);
      else root = done;
    } else if (r.startsWith("<![CDATA[")) {
      r.pos += 9;
      top.text.push(r.readUntil("]]>", "CDATA section", r.pos - 9));
    } else if (r.startsWith("<!--")) {
      r.skipComment();
    } else if (r.startsWith("<?")) {
      r.skipProcessingInstruction();
    } else if (r.startsWith("<!")) {
      r.refuseDeclaration();
    } else {
      count(stack.length + 1, r.pos);
      const { element, selfClosing } = r.readStartTag();
      if (selfClosing) top.children.push(close(element));
      else stack.push(element);
    }
  }

  const unclosed = stack[stack.length - 1];
  if (unclosed) r.fail(`element <${unclosed.name}> is never closed`, unclosed.start);
  if (!root) r.fail("the document has no root element");
  return root;
}

/**
 * Finds the first child element with a given name.
 *
 * @param element The parent element.
 * @param name The exact child name.
 * @returns The first such child, or `undefined`.
 */
export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

/**
 * Lists the child elements with a given name.
 *
 * @param element The parent element.
 * @param name The exact child name.
 * @returns The matching children in document order (possibly none).
 */
export function children(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

/**
 * Reads the text of the first child element with a given name.
 *
 * @param element The parent element.
 * @param name The exact child name.
 * @returns The child's own text as written (not trimmed), or `undefined` without such a child.
 */
export function childText(element: XmlElement, name: string): string | undefined {
  return child(element, name)?.text;
}
