/**
 * The driver's error vocabulary. Lower layers classify what went wrong into one of these
 * classes; actions decide what a class means for their verb; `lib/runtime/action.ts` prints it once.
 *
 * Messages are one sentence in sentence case, with no final period, naming what was attempted
 * and the bad value (never a secret).
 *
 * @module
 */

/** Base class of every error the driver reports on purpose. */
export class DriverError extends Error {
  /**
   * @param message One-line, operator-readable description.
   * @param options Standard error options; `cause` keeps the original error.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input from oned or the operator: arguments, deployment file, configuration. */
export class InvalidInputError extends DriverError {}

/** The provider says the VM (or another named resource) does not exist. */
export class NotFoundError extends DriverError {}

/** The action cannot be done by this provider (e.g. migrating between clouds). */
export class UnsupportedError extends DriverError {}

/** The cloud API answered with an error, or could not be reached. */
export class CloudError extends DriverError {
  /** The provider's own error code (e.g. `InvalidAMIID.NotFound`), or a driver code for transport failures. */
  readonly code: string;

  /**
   * @param code The provider's error code.
   * @param message One-line description that already names the code.
   * @param options Standard error options; `cause` keeps the SDK error.
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Credentials are missing or rejected. */
export class CredentialsError extends CloudError {}

/** The action ran out of time waiting for the cloud. */
export class DeadlineError extends DriverError {}
