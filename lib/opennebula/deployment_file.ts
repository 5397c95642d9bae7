/**
 * Reads the deployment file deploy is given: from its path on the front-end, or, when that
 * path does not exist here, from standard input (OpenNebula 5.0+ writes it there, base64).
 *
 * @module
 */

import { InvalidInputError } from "../errors.ts";
import { fileErrorReason } from "../file_errors.ts";
import { decodeStdinXml, readStdin } from "./stdin.ts";

/**
 * Returns the deployment file's XML text.
 *
 * @param path The path oned passed.
 * @param stdin Reads standard input (injectable for tests).
 * @returns The XML text.
 * @throws {InvalidInputError} when neither the file nor standard input has it.
 */
export async function readDeploymentFile(
  path: string,
  stdin: () => Promise<string> = readStdin,
): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    const fromStdin = decodeStdinXml(await stdin());
    if (fromStdin !== undefined) return fromStdin;
    const reason = fileErrorReason(error);
    throw new InvalidInputError(
      `Cannot read deployment file ${path}: ${reason}, and standard input is empty`,
    );
  }
}
