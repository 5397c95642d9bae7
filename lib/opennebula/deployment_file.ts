/**
 * Reads the deployment file deploy is given: from its path on the front-end, or, when that
 * path cannot be read here, from standard input (OpenNebula 5.0+ writes it there, base64).
 *
 * @module
 */

import { readBoundedText } from "../util/bounded_read.ts";
import { InvalidInputError } from "../util/errors.ts";
import { fileErrorReason, InputLimitError } from "../util/file_errors.ts";
import { decodeStdinXml, readStdin } from "./stdin.ts";

/**
 * The largest deployment file read, in bytes. oned's deployment files are a few KB, a few
 * hundred with large CONTEXT files and history; EC2 takes 16 KB of user data.
 */
export const MAX_DEPLOYMENT_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Returns the deployment file's XML text. A file that exists but breaks a limit (too large,
 * never ends) fails the deploy: standard input is only a stand-in for a file that cannot be
 * read here.
 *
 * @param path The path oned passed.
 * @param stdin Reads standard input (injectable for tests).
 * @returns The XML text.
 * @throws {InvalidInputError} when neither the file nor standard input has it, or the file is
 * larger than {@link MAX_DEPLOYMENT_FILE_BYTES} or does not end in time.
 */
export async function readDeploymentFile(
  path: string,
  stdin: () => Promise<string> = readStdin,
): Promise<string> {
  try {
    return await readBoundedText(path, MAX_DEPLOYMENT_FILE_BYTES);
  } catch (error) {
    const reason = fileErrorReason(error);
    if (error instanceof InputLimitError) {
      throw new InvalidInputError(`Cannot read deployment file ${path}: ${reason}`);
    }
    let fromStdin: string | undefined;
    try {
      fromStdin = decodeStdinXml(await stdin());
    } catch (stdinError) {
      if (!(stdinError instanceof InvalidInputError)) throw stdinError;
      throw new InvalidInputError(
        `Cannot read deployment file ${path}: ${reason}, and ${lowerFirst(stdinError.message)}`,
      );
    }
    if (fromStdin !== undefined) return fromStdin;
    throw new InvalidInputError(
      `Cannot read deployment file ${path}: ${reason}, and standard input is empty`,
    );
  }
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
