/**
 * EC2's error codes, their HTTP statuses and the error response document.
 *
 * Client errors answer 400 unless the API reference says otherwise; authentication failures
 * 401/403, `DryRunOperation` 412, and the server errors 500/503.
 *
 * @module
 */

import { escapeXml } from "./xml.ts";

/** HTTP status of each error code that is not a plain 400. */
const STATUS: Readonly<Record<string, number>> = {
  AuthFailure: 401,
  SignatureDoesNotMatch: 403,
  UnauthorizedOperation: 403,
  Blocked: 403,
  DryRunOperation: 412,
  MethodNotAllowed: 405,
  InternalError: 500,
  InsufficientInstanceCapacity: 500,
  InsufficientCapacity: 500,
  InsufficientAddressCapacity: 500,
  RequestLimitExceeded: 503,
  Unavailable: 503,
  ServiceUnavailable: 503,
};

/**
 * The HTTP status EC2 answers an error code with.
 *
 * @param code An EC2 error code.
 * @returns 400 for client errors without a special status, otherwise the documented one.
 */
export function statusForCode(code: string): number {
  return STATUS[code] ?? 400;
}

/** An EC2 API error, thrown by handlers and written as EC2's error document. */
export class Ec2Error extends Error {
  /** EC2 error code, e.g. `InvalidInstanceID.NotFound`. */
  readonly code: string;
  /** HTTP status of the response. */
  readonly status: number;

  /**
   * @param code EC2 error code.
   * @param message Human-readable message, in AWS's wording where known.
   * @param status HTTP status; defaults to the code's documented one.
   */
  constructor(code: string, message: string, status: number = statusForCode(code)) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
  }
}

/**
 * The error response document: `<Response><Errors><Error>...</Error></Errors><RequestID>`.
 *
 * @param code Error code.
 * @param message Error message.
 * @param requestId The request id.
 * @returns The XML text.
 */
export function errorDocument(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${
    escapeXml(code)
  }</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${
    escapeXml(requestId)
  }</RequestID></Response>`;
}

/** Builders for the errors several actions share, worded as AWS words them. */
export const errors = {
  /** A required parameter is absent. */
  missingParameter: (name: string) =>
    new Ec2Error("MissingParameter", `The request must contain the parameter ${name}`),
  /** A parameter's value is not acceptable. */
  invalidValue: (name: string, value: string, why = "") =>
    new Ec2Error(
      "InvalidParameterValue",
      `Value (${value}) for parameter ${name} is invalid.${why ? ` ${why}` : ""}`,
    ),
  /** An id is not of its resource's form. */
  malformed: (code: string, id: string, prefix: string) =>
    new Ec2Error(code, `Invalid id: "${id}" (expecting "${prefix}-...")`),
  /** Instance ids that do not exist (or are not visible yet). */
  instancesNotFound: (ids: readonly string[]) =>
    new Ec2Error(
      "InvalidInstanceID.NotFound",
      ids.length === 1
        ? `The instance ID '${ids[0]}' does not exist`
        : `The instance IDs '${ids.join(", ")}' do not exist`,
    ),
  /** AMI ids that do not exist. */
  imagesNotFound: (ids: readonly string[]) =>
    new Ec2Error(
      "InvalidAMIID.NotFound",
      ids.length === 1
        ? `The image id '[${ids[0]}]' does not exist`
        : `The image ids '[${ids.join(", ")}]' do not exist`,
    ),
  /** A snapshot id that does not exist. */
  snapshotNotFound: (id: string) =>
    new Ec2Error("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`),
  /** A security group id that does not exist. */
  groupNotFound: (id: string) =>
    new Ec2Error("InvalidGroup.NotFound", `The security group '${id}' does not exist`),
  /** A subnet id that does not exist. */
  subnetNotFound: (id: string) =>
    new Ec2Error("InvalidSubnetID.NotFound", `The subnet ID '${id}' does not exist`),
  /** A public address that is not an IPv4 address. */
  addressMalformed: (publicIp: string) =>
    new Ec2Error("InvalidAddress.Malformed", `Invalid IPv4 address: ${publicIp}`),
  /** A public address the account does not have. */
  addressNotFound: (publicIp: string) =>
    new Ec2Error("InvalidAddress.NotFound", `Address '${publicIp}' not found.`),
  /** An instance's state does not allow the requested change. */
  incorrectState: (id: string, verb: string) =>
    new Ec2Error(
      "IncorrectInstanceState",
      `This instance '${id}' is not in a state from which it can be ${verb}.`,
    ),
  /** A filter name the action does not know. */
  invalidFilter: (name: string) =>
    new Ec2Error("InvalidParameterValue", `The filter '${name}' is invalid`),
  /** A pagination token that this endpoint did not issue for this query. */
  invalidToken: () =>
    new Ec2Error(
      "InvalidPaginationToken",
      "The specified pagination token is not valid or is expired.",
    ),
  /** The SigV4 credentials could not be validated. */
  authFailure: () =>
    new Ec2Error("AuthFailure", "AWS was not able to validate the provided access credentials"),
} as const;
