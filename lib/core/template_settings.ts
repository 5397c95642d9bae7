/**
 * A host's settings from its OpenNebula template (`onehost update`), as OpenNebula's own EC2
 * driver of 5.4–6.x read them (`REGION_NAME`, `EC2_ACCESS`, `EC2_SECRET`): the provider kind
 * names the attributes ({@link TemplateSetting}); the configuration file wins over them.
 *
 * The template costs a call to oned, so it is read only when the file leaves one of them
 * undecided: a host whose file entry (or `defaults`) sets its region and a source of
 * credentials never asks oned. How it is read is the caller's ({@link TemplateSource}): the core
 * knows no oned.
 *
 * @module
 */

import type { ProviderKind, TemplateSetting } from "./provider.ts";

/** What a host's template holds: single attributes, and vector ones (`CAPACITY=[...]`). */
export interface HostTemplateAttributes {
  /** Single attributes by name, as oned gave them (decrypted). */
  readonly attributes: Readonly<Record<string, string>>;
  /** Vector attributes by name, each its attributes by name. */
  readonly sections: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The secrets oned keeps unencrypted, when the source can tell. */
  readonly storedInClear?: readonly string[];
}

/** What reading a host's template gave: the template, or why it could not be read. */
export type TemplateRead =
  | { readonly template: HostTemplateAttributes }
  | { readonly unread: string };

/** What a template source is asked to take care of in the attributes it reads. */
export interface TemplateReadRequest {
  /** Attributes oned may keep encrypted, to be decrypted. */
  readonly encrypted: readonly string[];
  /** Attributes that are secrets, to be registered as such. */
  readonly secrets: readonly string[];
}

/** Where a host's template comes from (the local oned, for the driver). */
export interface TemplateSource {
  /**
   * Reads the host's template. An oned that cannot be asked at all (no OpenNebula credentials:
   * the driver is not run as oneadmin) is `unread`; a failed call throws.
   */
  read(request: TemplateReadRequest): Promise<TemplateRead>;
  /** Read it even when the file decides every setting (the preflight, to say what it overrides). */
  readonly always?: boolean;
}

/** Where a setting came from. */
export type SettingOrigin =
  | { readonly from: "file"; readonly scope: string }
  | { readonly from: "template"; readonly attribute: string };

/** What a host's template gave its settings. */
export interface TemplateOutcome {
  /** The template, when it was read. */
  readonly template?: HostTemplateAttributes;
  /** Why it was not read, when it was wanted. */
  readonly unread?: string;
  /** Its attributes that the file overrides (the file decides what they are for). */
  readonly overridden: readonly string[];
}

/** The settings a host's template gives, and where from. */
export interface TemplateLayer extends TemplateOutcome {
  /** The settings taken from the template, by setting. */
  readonly values: Readonly<Record<string, string>>;
  /** The attribute each setting the template was asked for is read from, by setting. */
  readonly asked: Readonly<Record<string, string>>;
}

/**
 * The template settings of a kind that a host's file settings leave undecided.
 *
 * @param kind The host's kind of provider.
 * @param file The host's settings from the file (`defaults` and its own, merged).
 * @returns Those the template is to give.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { undecided } from "./template_settings.ts";
 * import { PROVIDER_KINDS } from "../providers/mod.ts";
 * const ec2 = PROVIDER_KINDS.byName.ec2!;
 * assert.deepEqual(undecided(ec2, { profile: "burst" }).map((s) => s.attribute), ["REGION_NAME"]);
 * assert.deepEqual(undecided(ec2, { region: "eu-west-1", profile: "burst" }), []);
 * ```
 */
export function undecided(
  kind: ProviderKind,
  file: Readonly<Record<string, unknown>>,
): TemplateSetting[] {
  return kind.templateSettings.filter((t) =>
    t.decidedBy.every((key) => file[key] === undefined || file[key] === false)
  );
}

/**
 * Reads what a host's template gives the settings the file leaves undecided; nothing (no call)
 * when the file decides them all and the source does not ask for the template anyway.
 *
 * @param kind The host's kind of provider.
 * @param file The host's settings from the file (`defaults` and its own, merged).
 * @param source Where the template comes from.
 * @returns The layer, or undefined when the template was not needed (or the kind reads nothing
 * from it).
 * @throws what the source throws when the template cannot be read and a setting needs it.
 */
export async function templateLayer(
  kind: ProviderKind,
  file: Readonly<Record<string, unknown>>,
  source: TemplateSource,
): Promise<TemplateLayer | undefined> {
  const wanted = undecided(kind, file);
  if (kind.templateSettings.length === 0 || (wanted.length === 0 && !source.always)) {
    return undefined;
  }
  const asked = Object.fromEntries(wanted.map((t) => [t.setting, t.attribute]));
  const request = {
    encrypted: kind.templateSettings.filter((t) => t.encrypted).map((t) => t.attribute),
    secrets: kind.templateSettings.filter((t) => t.secret).map((t) => t.attribute),
  };
  // A template read only to be shown (the file decides everything) fails nothing.
  const read: TemplateRead = await source.read(request).catch((error) => {
    if (wanted.length > 0) throw error;
    return { unread: error instanceof Error ? error.message : String(error) };
  });
  if ("unread" in read) {
    return {
      values: {},
      asked: wanted.length > 0 ? asked : {},
      unread: read.unread,
      overridden: [],
    };
  }
  const given = (t: TemplateSetting) => read.template.attributes[t.attribute]?.trim() || undefined;
  const values: Record<string, string> = {};
  for (const t of wanted) {
    const value = given(t);
    if (value !== undefined) values[t.setting] = value;
  }
  const overridden = kind.templateSettings.filter((t) => !wanted.includes(t) && given(t))
    .map((t) => t.attribute);
  return { values, asked, template: read.template, overridden };
}
