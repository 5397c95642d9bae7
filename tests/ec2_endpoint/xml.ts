/**
 * A small XML writer for EC2 Query API responses. Text is always escaped; markup is only
 * produced by the builders here, so a value can never inject elements.
 *
 * @module
 */

/** The namespace of the 2016-11-15 API version's responses. */
export const EC2_NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/";

/** Markup made by this module (never raw user text). */
export class Xml {
  /** @param markup Well-formed XML made by the builders. */
  constructor(readonly markup: string) {}
}

/** What may stand as an element's content: text, nested markup, or nothing. */
export type XmlContent = Xml | string | number | boolean | undefined | null;

/**
 * Escapes text for element content and attribute values. Characters XML 1.0 cannot carry
 * become U+FFFD; CR is kept as a character reference so parsers do not normalise it away.
 *
 * @param text Any text.
 * @returns The escaped text.
 */
export function escapeXml(text: string): string {
  // Control characters are matched on purpose: XML 1.0 cannot carry them.
  // deno-lint-ignore no-control-regex
  return text.replace(/[&<>"'\r]|[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, (c) => {
    switch (c) {
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case ">":
        return "&gt;";
      case '"':
        return "&quot;";
      case "'":
        return "&apos;";
      case "\r":
        return "&#13;";
      default:
        return "\uFFFD";
    }
  });
}

function content(part: XmlContent): string {
  if (part === undefined || part === null) return "";
  if (part instanceof Xml) return part.markup;
  return escapeXml(String(part));
}

/**
 * An element with the given content.
 *
 * @param name Element name.
 * @param parts Text (escaped) and nested elements, concatenated.
 * @returns The element.
 */
export function el(name: string, ...parts: XmlContent[]): Xml {
  return new Xml(`<${name}>${parts.map(content).join("")}</${name}>`);
}

/**
 * An element only when its value is present; nothing otherwise.
 *
 * @param name Element name.
 * @param value Its text or markup.
 * @returns The element, or empty markup.
 */
export function opt(name: string, value: XmlContent): Xml {
  return value === undefined || value === null ? new Xml("") : el(name, value);
}

/**
 * A list as EC2 writes it: `<name><item>...</item>...</name>`.
 *
 * @param name The list element's name (e.g. `tagSet`).
 * @param items The content of each `item`.
 * @returns The list element (empty when there are no items).
 */
export function list(name: string, items: readonly Xml[]): Xml {
  return el(name, ...items.map((item) => el("item", item)));
}

/**
 * Concatenates markup.
 *
 * @param parts Elements and text.
 * @returns One fragment.
 */
export function frag(...parts: XmlContent[]): Xml {
  return new Xml(parts.map(content).join(""));
}

/**
 * A whole response document: `<ActionResponse xmlns="..."><requestId>...`.
 *
 * @param action The action name (`RunInstances`).
 * @param requestId The request id.
 * @param body The response elements after `requestId`.
 * @returns The document text.
 */
export function responseDocument(action: string, requestId: string, body: Xml): string {
  const root = `${action}Response`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${EC2_NAMESPACE}">${
    el("requestId", requestId).markup
  }${body.markup}</${root}>`;
}
