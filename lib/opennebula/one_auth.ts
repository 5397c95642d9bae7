/**
 * The OpenNebula credentials file, found and read as OpenNebula's own tools do: the file named
 * by `ONE_AUTH`, else `~/.one/one_auth`; its first line is the session string `user:password`.
 * The password is registered as a secret, so no message can print it.
 *
 * @module
 */

import { InvalidInputError } from "../util/errors.ts";
import { registerSessionSecrets } from "../util/redact.ts";

/** Reads an environment variable (injectable for tests). */
export type EnvLookup = (name: string) => string | undefined;

/** The credentials read from the file. */
export interface OneAuth {
  /** The user name (before the first `:`). */
  readonly user: string;
  /** The session string sent with every call: `user:password`. */
  readonly session: string;
  /** The file it came from. */
  readonly file: string;
}

/**
 * Where the credentials file is: `ONE_AUTH` when set and not empty, else `$HOME/.one/one_auth`
 * (oneadmin's home, `/var/lib/one`, when `HOME` is not set).
 *
 * @param env Reads the environment.
 * @returns The path, and how it was chosen, for messages.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oneAuthFile } from "./one_auth.ts";
 *
 * const env: Record<string, string> = { HOME: "/home/one" };
 * assert.deepEqual(oneAuthFile((name) => env[name]), {
 *   file: "/home/one/.one/one_auth",
 *   source: "the default, as ONE_AUTH is not set",
 * });
 * ```
 */
export function oneAuthFile(env: EnvLookup): { file: string; source: string } {
  const named = env("ONE_AUTH");
  if (named) return { file: named, source: "from ONE_AUTH" };
  const home = env("HOME") || "/var/lib/one";
  return {
    file: `${home.replace(/\/+$/, "")}/.one/one_auth`,
    source: "the default, as ONE_AUTH is not set",
  };
}

/**
 * Reads the OpenNebula credentials file and registers its password as a secret.
 *
 * @param env Reads the environment (default: the process's).
 * @returns User, session string and file.
 * @throws {InvalidInputError} when the file cannot be read or its first line is not
 * `user:password`; the message names the file.
 */
export async function readOneAuth(env: EnvLookup = (n) => Deno.env.get(n)): Promise<OneAuth> {
  const { file, source } = oneAuthFile(env);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "it does not exist"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new InvalidInputError(
      `Cannot read the OpenNebula credentials file ${file} (${source}): ${why}`,
    );
  }
  const session = (text.split("\n", 1)[0] ?? "").trim();
  registerSessionSecrets(session);
  const colon = session.indexOf(":");
  if (colon < 1 || colon === session.length - 1) {
    throw new InvalidInputError(
      `The OpenNebula credentials file ${file} (${source}) does not start with a user:password line`,
    );
  }
  return { user: session.slice(0, colon), session, file };
}
