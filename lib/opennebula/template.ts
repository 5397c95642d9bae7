/**
 * Reads the deployment file oned writes for an `xml` driver (driver contract, "The deployment
 * file") and picks the cloud section meant for one OpenNebula host.
 *
 * OpenNebula 3.2 writes the VM's template alone (root `<TEMPLATE>`, provider sections
 * `EC2=[...]` selected by `CLOUD`); 4.x and later write the whole VM (root `<VM>`), with the
 * provider sections normally under `USER_TEMPLATE`: `EC2=[...]` selected by `HOST` in 4.x,
 * `PUBLIC_CLOUD=[ TYPE=..., ... ]` from 5.0. Both places and both kinds are read.
 *
 * @module
 */

import { InvalidInputError } from "../util/errors.ts";
import { printable } from "../util/output.ts";
import { parseXml, type XmlElement, XmlSyntaxError } from "../util/xml.ts";

/** One provider section of a deployment file (`PUBLIC_CLOUD=[...]` or legacy `EC2=[...]`). */
export interface CloudSection {
  /** Lower-case provider type: PUBLIC_CLOUD's TYPE ("ec2", "opennebula", ...); "ec2" for a legacy EC2=[...] section. */
  readonly type: string;
  /** Which kind of section it came from. */
  readonly origin: "PUBLIC_CLOUD" | "EC2";
  /** Attributes with upper-case keys and trimmed values (TYPE excluded). */
  readonly attributes: Readonly<Record<string, string>>;
}

/** What the driver needs from a deployment file. */
export interface Deployment {
  /** Root element: `<TEMPLATE>` (OpenNebula 3.2) or `<VM>` (4.x and later). */
  readonly format: "template" | "vm";
  /** OpenNebula VM id: `VM/ID`, or `TEMPLATE/VMID` in a 3.2 file. */
  readonly vmId?: number;
  /** VM name: `VM/NAME`, else `TEMPLATE/NAME`. */
  readonly name?: string;
  /** `VM/LCM_STATE`: why the deploy was sent (2 `BOOT`, 20 `BOOT_POWEROFF`, ...). */
  readonly lcmState?: number;
  /** `VM/DEPLOY_ID`, else the last non-empty `HISTORY_RECORDS/HISTORY/DEPLOY_ID`. */
  readonly deployId?: string;
  /** `VM/STIME` in epoch seconds, when present and greater than 0. */
  readonly startTime?: number;
  /** `TEMPLATE/CPU` (may be fractional). */
  readonly cpu?: number;
  /** `TEMPLATE/VCPU`. */
  readonly vcpu?: number;
  /** `TEMPLATE/MEMORY` in MiB. */
  readonly memoryMiB?: number;
  /** Every PUBLIC_CLOUD and EC2 section of TEMPLATE and USER_TEMPLATE, in document order. */
  readonly sections: readonly CloudSection[];
  /** `TEMPLATE/CONTEXT` with upper-case keys; values as written (not trimmed). */
  readonly context?: Readonly<Record<string, string>>;
}

const PREFIX = "Cannot read deployment file";

function firstChild(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name.toUpperCase() === name);
}

function textOf(element: XmlElement | undefined, name: string): string | undefined {
  const value = firstChild(element, name)?.text.trim();
  return value === undefined || value === "" ? undefined : value;
}

function numberOf(element: XmlElement | undefined, name: string): number | undefined {
  const text = textOf(element, name);
  if (text === undefined || !/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) return undefined;
  return Number(text);
}

function integerOf(element: XmlElement | undefined, name: string): number | undefined {
  const text = textOf(element, name);
  return text !== undefined && /^-?\d{1,15}$/.test(text) ? Number(text) : undefined;
}

/** Reads the children of a vector attribute into upper-case keys and trimmed values. */
function readVector(
  element: XmlElement,
  where: string,
): Record<string, string> {
  const pairs = new Map<string, string>();
  for (const attr of element.children) {
    const key = attr.name.toUpperCase();
    if (pairs.has(key)) {
      throw new InvalidInputError(`${PREFIX}: ${where} has attribute ${key} twice`);
    }
    pairs.set(key, attr.text.trim());
  }
  return Object.fromEntries(pairs);
}

/** Collects the PUBLIC_CLOUD and EC2 sections directly under `parent`. */
function collectSections(parent: XmlElement, parentName: string, into: CloudSection[]): void {
  const counts = { PUBLIC_CLOUD: 0, EC2: 0 };
  for (const element of parent.children) {
    const origin = element.name.toUpperCase();
    if (origin !== "PUBLIC_CLOUD" && origin !== "EC2") continue;
    // A single-valued attribute with the same name (e.g. PUBLIC_CLOUD="YES") is not a section.
    if (element.children.length === 0 && element.text.trim() !== "") continue;
    const number = ++counts[origin];
    const where = `${origin} section ${number} of ${parentName}`;
    const attributes = readVector(element, where);
    let type = "ec2";
    if (origin === "PUBLIC_CLOUD") {
      const declared = attributes.TYPE;
      if (declared === undefined || declared === "") {
        const host = attributes.HOST ?? attributes.CLOUD;
        const named = host === undefined ? "" : ` (HOST=${printable(host)})`;
        throw new InvalidInputError(`${PREFIX}: ${where}${named} has no TYPE`);
      }
      type = declared.toLowerCase();
    }
    delete attributes.TYPE;
    into.push({ type, origin, attributes });
  }
}

/**
 * Reads a deployment file.
 *
 * @param xml The file's content (oned writes values as CDATA sections; plain text works too).
 * @returns What the driver needs: ids, state, sizes, context and every provider section.
 * Numeric fields that are missing or not numbers are left out.
 * @throws {InvalidInputError} when the XML is malformed, the root element is neither
 * `<TEMPLATE>` nor `<VM>`, a `<VM>` has no `<TEMPLATE>`, a PUBLIC_CLOUD section has no TYPE, or
 * a section repeats an attribute.
 * @example Reading an OpenNebula 5.x deployment file
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDeployment, selectSection } from "./template.ts";
 *
 * const deployment = parseDeployment(`<VM><ID>42</ID><NAME>web-1</NAME>
 *   <LCM_STATE>2</LCM_STATE><DEPLOY_ID></DEPLOY_ID>
 *   <TEMPLATE><CPU><![CDATA[0.5]]></CPU><MEMORY><![CDATA[1024]]></MEMORY></TEMPLATE>
 *   <USER_TEMPLATE><PUBLIC_CLOUD>
 *     <AMI><![CDATA[ami-0abcdef1234567890]]></AMI>
 *     <HOST><![CDATA[ec2-us-east-1]]></HOST>
 *     <INSTANCETYPE><![CDATA[t3.micro]]></INSTANCETYPE>
 *     <TYPE><![CDATA[ec2]]></TYPE>
 *   </PUBLIC_CLOUD></USER_TEMPLATE></VM>`);
 *
 * assert.equal(deployment.vmId, 42);
 * assert.equal(deployment.deployId, undefined);
 * const section = selectSection(deployment, "ec2", "ec2-us-east-1");
 * assert.equal(section.attributes.AMI, "ami-0abcdef1234567890");
 * ```
 */
export function parseDeployment(xml: string): Deployment {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (err) {
    if (err instanceof XmlSyntaxError) {
      throw new InvalidInputError(
        `${PREFIX}: invalid XML at line ${err.line}, column ${err.column}: ${err.reason}`,
        { cause: err },
      );
    }
    throw err;
  }

  const sections: CloudSection[] = [];
  let template: XmlElement | undefined;
  let vm: XmlElement | undefined;
  if (root.name === "TEMPLATE") {
    template = root;
    collectSections(root, "TEMPLATE", sections);
  } else if (root.name === "VM") {
    vm = root;
    template = firstChild(root, "TEMPLATE");
    if (!template) throw new InvalidInputError(`${PREFIX}: <VM> has no <TEMPLATE>`);
    for (const part of root.children) {
      const name = part.name.toUpperCase();
      if (name === "TEMPLATE" || name === "USER_TEMPLATE") collectSections(part, name, sections);
    }
  } else {
    throw new InvalidInputError(`${PREFIX}: unexpected root element <${printable(root.name)}>`);
  }

  let deployId = textOf(vm, "DEPLOY_ID");
  if (deployId === undefined && vm) {
    for (const history of firstChild(vm, "HISTORY_RECORDS")?.children ?? []) {
      if (history.name.toUpperCase() === "HISTORY") {
        deployId = textOf(history, "DEPLOY_ID") ?? deployId;
      }
    }
  }

  const contextElement = firstChild(template, "CONTEXT");
  const context = contextElement
    ? Object.fromEntries(contextElement.children.map((c) => [c.name.toUpperCase(), c.text]))
    : undefined;

  const fields: {
    -readonly [K in keyof Deployment]: Deployment[K];
  } = { format: vm ? "vm" : "template", sections };
  const vmId = vm ? integerOf(vm, "ID") : integerOf(template, "VMID");
  if (vmId !== undefined && vmId >= 0) fields.vmId = vmId;
  const name = textOf(vm, "NAME") ?? textOf(template, "NAME");
  if (name !== undefined) fields.name = name;
  const lcmState = integerOf(vm, "LCM_STATE");
  if (lcmState !== undefined) fields.lcmState = lcmState;
  if (deployId !== undefined) fields.deployId = deployId;
  const startTime = integerOf(vm, "STIME");
  if (startTime !== undefined && startTime > 0) fields.startTime = startTime;
  const cpu = numberOf(template, "CPU");
  if (cpu !== undefined) fields.cpu = cpu;
  const vcpu = integerOf(template, "VCPU");
  if (vcpu !== undefined) fields.vcpu = vcpu;
  const memoryMiB = integerOf(template, "MEMORY");
  if (memoryMiB !== undefined) fields.memoryMiB = memoryMiB;
  if (context) fields.context = context;
  return fields;
}

/** How a section names its host: `HOST=...`, the legacy `CLOUD=...`, or not at all. */
function selectorOf(section: CloudSection): string {
  const host = section.attributes.HOST;
  if (host) return `HOST=${printable(host)}`;
  const cloud = section.attributes.CLOUD;
  if (cloud) return `CLOUD=${printable(cloud)}`;
  return "no HOST";
}

function sameAttributes(a: CloudSection, b: CloudSection): boolean {
  const keys = Object.keys(a.attributes);
  return keys.length === Object.keys(b.attributes).length &&
    keys.every((k) => Object.hasOwn(b.attributes, k) && b.attributes[k] === a.attributes[k]);
}

/** Lists selectors compactly: `HOST=a, b; CLOUD=c; no HOST`. */
function describeSelectors(sections: readonly CloudSection[]): string {
  const groups = new Map<string, string[]>();
  for (const section of sections) {
    const selector = selectorOf(section);
    const eq = selector.indexOf("=");
    const key = eq === -1 ? selector : selector.slice(0, eq);
    const values = groups.get(key) ?? [];
    if (eq !== -1) values.push(selector.slice(eq + 1));
    groups.set(key, values);
  }
  return [...groups].map(([key, values]) => values.length ? `${key}=${values.join(", ")}` : key)
    .join("; ");
}

/**
 * Picks the section of a provider type meant for an OpenNebula host, the way OpenNebula's
 * own drivers did:
 *
 * 1. among the sections of that type (compared without case), the one whose `HOST` names the
 *    host (compared without case, as OpenNebula did); failing that, the one whose legacy
 *    `CLOUD` does;
 * 2. failing that, when there is exactly one section of that type, that section, whatever
 *    host it names: OpenNebula used a lone section for every host, and oned has already
 *    placed the VM on this host;
 * 3. otherwise an error listing what was found.
 *
 * @param deployment The parsed deployment file.
 * @param type Provider type, e.g. `ec2`.
 * @param host OpenNebula host name the VM is being deployed to.
 * @returns The chosen section.
 * @throws {InvalidInputError} when no section of that type exists, when several exist and none
 * names the host, or when several different sections name it.
 */
export function selectSection(deployment: Deployment, type: string, host: string): CloudSection {
  const wanted = type.toLowerCase();
  const candidates = deployment.sections.filter((s) => s.type === wanted);
  if (candidates.length === 0) {
    const others = [...new Set(deployment.sections.map((s) => s.type))];
    const found = others.length ? ` (found TYPE ${others.map(printable).join(", ")})` : "";
    throw new InvalidInputError(
      `The deployment file has no PUBLIC_CLOUD section of TYPE ${printable(wanted)}${found}`,
    );
  }
  // 3.2 users wrote EC2=[...]: name what they wrote.
  const legacy = candidates.every((s) => s.origin === "EC2");
  const sectionsOfType = legacy
    ? "EC2 sections"
    : `PUBLIC_CLOUD sections of TYPE ${printable(wanted)}`;

  const target = host.toUpperCase();
  for (const selector of ["HOST", "CLOUD"]) {
    const matches = candidates.filter((s) => s.attributes[selector]?.toUpperCase() === target);
    const first = matches[0];
    if (first === undefined) continue;
    if (matches.some((s) => !sameAttributes(s, first))) {
      throw new InvalidInputError(
        `${matches.length} different ${sectionsOfType} have ${selector}=${
          printable(host)
        }: keep one`,
      );
    }
    return first;
  }

  const lone = candidates[0];
  if (candidates.length === 1 && lone) return lone;
  const sectionOfType = legacy
    ? "EC2 section"
    : `PUBLIC_CLOUD section of TYPE ${printable(wanted)}`;
  throw new InvalidInputError(
    `No ${sectionOfType} for host ${printable(host)} (found ${describeSelectors(candidates)})`,
  );
}
