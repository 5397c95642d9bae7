/**
 * The endpoint's answers: XML fragments built by nesting elements (text is escaped, `undefined`
 * leaves an element out), the success document of an action and EC2's error document.
 *
 * @module
 */

/** A piece of markup, already escaped. */
export class Xml {
  /** @param markup The markup. */
  constructor(readonly markup: string) {}
}

/** What an element may contain: markup, or a value written as escaped text. */
export type XmlContent = Xml | string | number | boolean | undefined;

/**
 * Escapes text for XML; characters XML 1.0 cannot carry become U+FFFD.
 *
 * @param text The text.
 * @returns The escaped text.
 */
export function escapeXml(text: string): string {
  // Control characters are matched on purpose: XML 1.0 cannot carry them.
  // deno-lint-ignore no-control-regex
  const pattern = /[&<>"'\r]|[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
  return text.replace(pattern, (c) => ESCAPES[c] ?? "\uFFFD");
}

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  "\r": "&#13;",
};

function content(part: XmlContent): string {
  if (part === undefined) return "";
  return part instanceof Xml ? part.markup : escapeXml(String(part));
}

/**
 * An element.
 *
 * @param name Element name.
 * @param parts Its content.
 * @returns The element.
 */
export function el(name: string, ...parts: XmlContent[]): Xml {
  return new Xml(`<${name}>${parts.map(content).join("")}</${name}>`);
}

/**
 * An element holding a value, or nothing when the value is `undefined`.
 *
 * @param name Element name.
 * @param value The value.
 * @returns The element, or empty markup.
 */
export function opt(name: string, value: XmlContent): Xml {
  return value === undefined ? frag() : el(name, value);
}

/**
 * A list as EC2 writes it: `<name><item>..</item>...</name>`.
 *
 * @param name The list's element name.
 * @param items The content of each item.
 * @returns The element.
 */
export function list(name: string, items: readonly Xml[]): Xml {
  return el(name, ...items.map((item) => el("item", item)));
}

/**
 * Markup side by side, without an enclosing element.
 *
 * @param parts The parts.
 * @returns The markup.
 */
export function frag(...parts: XmlContent[]): Xml {
  return new Xml(parts.map(content).join(""));
}

/**
 * The answer to a successful call: `<ActionResponse>` with the request id, then the body.
 *
 * @param action The action name.
 * @param requestId The request id.
 * @param body The elements after `requestId`.
 * @returns The document.
 */
export function responseDocument(action: string, requestId: string, body: Xml): string {
  const root = `${action}Response`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">${
    el("requestId", requestId).markup
  }${body.markup}</${root}>`;
}

/**
 * EC2's error document.
 *
 * @param code Error code.
 * @param message Message.
 * @param requestId Request id.
 * @returns The document.
 */
export function errorDocument(code: string, message: string, requestId: string): string {
  const error = el("Error", el("Code", code), el("Message", message));
  return `<?xml version="1.0" encoding="UTF-8"?>\n${
    el("Response", el("Errors", error), el("RequestID", requestId)).markup
  }`;
}
