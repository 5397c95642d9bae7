/**
 * The connection settings of a partner OpenNebula cloud host: the partner's XML-RPC endpoint
 * and the partner user the driver acts as, with a password given in the configuration or,
 * better, in a file of its own (`authFile`, a one_auth-style `user:password` first line).
 * Passwords are registered as secrets, so no message prints them.
 *
 * @module
 */

import { InvalidInputError } from "../../util/errors.ts";
import { readBoundedFile } from "../../util/bounded_read.ts";
import { fileErrorReason } from "../../util/file_errors.ts";
import type { SettingReader } from "../../core/provider.ts";
import { addSecret, registerSessionSecrets } from "../../util/redact.ts";
import { endpointProblem } from "../../util/url.ts";

/** The connection settings of one partner-cloud host. */
export interface OneCloudConnection {
  /** The partner's XML-RPC endpoint (`https://partner.example.org:2633/RPC2`). */
  readonly endpoint: string;
  /** The partner user, when the configuration names it (else the auth file does). */
  readonly user?: string;
  /** The partner user's password, when given in the configuration. */
  readonly password?: string;
  /** Absolute path of a file whose first line is `user:password`. */
  readonly authFile?: string;
}

/** Every connection setting of the kind. */
export const ONE_CLOUD_SETTING_KEYS: readonly string[] = [
  "endpoint",
  "user",
  "password",
  "authFile",
];

/** The settings that are secrets. */
export const ONE_CLOUD_SECRET_KEYS: readonly string[] = ["password"];

/** The largest auth file read (one line is expected). */
const MAX_AUTH_FILE_BYTES = 64 * 1024;

/**
 * Reads and checks a partner host's connection settings; registers the password as a secret.
 *
 * @param read The configuration's reader for the host.
 * @returns The settings.
 * @throws naming the setting: no endpoint, a malformed one, no credentials or two kinds of them.
 */
export function parseOneCloudConnection(read: SettingReader): OneCloudConnection {
  const endpoint = read.text("endpoint");
  if (endpoint === undefined) {
    throw read.fail(
      "endpoint",
      "is missing: give the partner's XML-RPC URL, e.g. https://partner.example.org:2633/RPC2",
    );
  }
  const problem = partnerEndpointProblem(endpoint);
  if (problem !== undefined) throw read.fail("endpoint", problem);
  const user = read.text("user");
  const password = read.text("password");
  const authFile = read.text("authFile");
  addSecret(password);
  if (password !== undefined && authFile !== undefined) {
    throw read.fail(
      "password",
      'must not be given with "authFile" (keep the password in one place)',
    );
  }
  if (authFile === undefined && (user === undefined || password === undefined)) {
    throw read.fail(
      user === undefined ? "user" : "password",
      'is missing: give "user" and "password", or "authFile" (a file whose first line is user:password)',
    );
  }
  if (authFile !== undefined && !authFile.startsWith("/")) {
    throw read.fail("authFile", "must be an absolute path");
  }
  if (user !== undefined && /[:\s]/.test(user)) {
    throw read.fail("user", "must not contain ':' or blanks");
  }
  return {
    endpoint,
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(authFile !== undefined ? { authFile } : {}),
  };
}

/**
 * The session string (`user:password`) of a connection: from the configuration, or the first
 * line of its auth file (whose user must agree with `user` when both name one). The password
 * is registered as a secret.
 *
 * @param connection The host's connection settings.
 * @returns The session string.
 * @throws {InvalidInputError} when the auth file cannot be read, is readable by other users, or
 * does not start with `user:password`; the message names the file, never its content.
 */
export async function sessionOf(connection: OneCloudConnection): Promise<string> {
  if (connection.authFile === undefined) return `${connection.user}:${connection.password}`;
  const file = connection.authFile;
  let text: string;
  let mode: number | null;
  try {
    ({ text, mode } = await readBoundedFile(file, MAX_AUTH_FILE_BYTES));
  } catch (error) {
    throw new InvalidInputError(
      `Cannot read the partner cloud's credentials file ${file}: ${fileErrorReason(error)}`,
    );
  }
  const session = (text.split("\n", 1)[0] ?? "").trim();
  registerSessionSecrets(session);
  const colon = session.indexOf(":");
  if (mode !== null && (mode & 0o077) !== 0) {
    throw new InvalidInputError(
      `The partner cloud's credentials file ${file} is readable by other users (mode ${
        mode.toString(8).padStart(4, "0")
      }); run: chmod 600 ${file}`,
    );
  }
  if (colon < 1 || colon === session.length - 1) {
    throw new InvalidInputError(
      `The partner cloud's credentials file ${file} does not start with a user:password line`,
    );
  }
  const user = session.slice(0, colon);
  if (connection.user !== undefined && connection.user !== user) {
    throw new InvalidInputError(
      `The partner cloud's credentials file ${file} is for user ${user}, but the configuration names user ${connection.user}`,
    );
  }
  return session;
}

/** What is wrong with the partner's endpoint URL, in the partner's words. */
function partnerEndpointProblem(value: string): string | undefined {
  return endpointProblem(value, {
    expected: "must be an http(s) URL such as https://partner.example.org:2633/RPC2",
    credentials:
      'must not contain a user name or password (use "user" and "password" or "authFile")',
  });
}
