/**
 * EC2's errors: a code with its HTTP status, and the messages of the ones raised in several
 * places.
 *
 * @module
 */

const STATUS: Readonly<Record<string, number>> = {
  AuthFailure: 401,
  UnauthorizedOperation: 403,
  InternalError: 500,
  InsufficientInstanceCapacity: 500,
  RequestLimitExceeded: 503,
  Unavailable: 503,
};

/** The default messages of the codes tests inject most, in AWS's wording. */
export const DEFAULT_MESSAGES: Readonly<Record<string, string>> = {
  RequestLimitExceeded: "Request limit exceeded.",
  Unavailable: "The server is overloaded and can't handle the request.",
  InternalError: "An internal error has occurred",
  InsufficientInstanceCapacity:
    "We currently do not have sufficient capacity in the Availability Zone you requested.",
  UnauthorizedOperation: "You are not authorized to perform this operation.",
  AuthFailure: "AWS was not able to validate the provided access credentials",
};

/** An EC2 error answer. */
export class Ec2Error extends Error {
  /** EC2 error code. */
  readonly code: string;
  /** HTTP status. */
  readonly status: number;

  /**
   * @param code EC2 error code.
   * @param message Message.
   * @param status HTTP status; the code's documented one (400 for most) by default.
   */
  constructor(code: string, message = DEFAULT_MESSAGES[code] ?? code, status?: number) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status ?? STATUS[code] ?? 400;
  }
}

/** Errors raised in several places. */
export const errors = {
  /** `MissingParameter`. */
  missing: (name: string) =>
    new Ec2Error("MissingParameter", `The request must contain the parameter ${name}`),
  /** `InvalidParameterValue` of a parameter. */
  invalid: (name: string, value: string, why = "") =>
    new Ec2Error(
      "InvalidParameterValue",
      `Value (${value}) for parameter ${name} is invalid.${why ? ` ${why}` : ""}`,
    ),
  /** `InvalidInstanceID.NotFound` naming every id. */
  instancesNotFound: (ids: readonly string[]) =>
    new Ec2Error(
      "InvalidInstanceID.NotFound",
      ids.length === 1
        ? `The instance ID '${ids[0]}' does not exist`
        : `The instance IDs '${ids.join(", ")}' do not exist`,
    ),
  /** `InvalidAMIID.NotFound`. */
  imageNotFound: (id: string) =>
    new Ec2Error("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`),
  /** `IncorrectInstanceState`. */
  incorrectState: (id: string, verb: string) =>
    new Ec2Error(
      "IncorrectInstanceState",
      `This instance '${id}' is not in a state from which it can be ${verb}.`,
    ),
} as const;
