/**
 * The flags the built driver program runs with, shared by the build (`scripts/build.ts`, which
 * writes them into the launchers or compiles them in).
 *
 * @module
 */

/**
 * Permissions the driver runs with: files (configuration, deployment and checkpoint files,
 * shared AWS config), environment (AWS_* and the driver's own variables), network (the EC2
 * endpoint), and system information the AWS SDK reads for its user agent. No program is run.
 */
export const RUNTIME_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-sys",
];

/** What the portable form's launcher gives `deno run` before the driver's bundle. */
export const PORTABLE_RUN_FLAGS: readonly string[] = [
  "--quiet",
  "--no-config",
  "--no-lock",
  "--no-remote",
  "--cached-only",
  ...RUNTIME_PERMISSIONS,
];
