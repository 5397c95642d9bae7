/**
 * The argument shapes oned uses for each action (driver contract, "How an action is invoked").
 * `one_vmm_sh` appends `<vmid> <host>` to each action's own parameters; the seed describes the
 * form without the trailing host, so both are accepted. From OpenNebula 5.0 the shell layer
 * single-quotes every argument; a script normally sees them unquoted, but stray quotes are
 * removed too.
 *
 * @module
 */

import { InvalidInputError } from "../util/errors.ts";

/** Arguments of the actions that address an existing VM (poll, shutdown, cancel, reboot, reset). */
interface VmArgs {
  /** The provider's id of the VM. */
  readonly deployId: string;
  /** OpenNebula host name. */
  readonly host: string;
  /** OpenNebula VM id. */
  readonly vmId: number;
}

/** Arguments of deploy. */
interface DeployArgs {
  /** Path of the deployment file on the front-end. */
  readonly deploymentFile: string;
  /** OpenNebula host name. */
  readonly host: string;
  /** OpenNebula VM id. */
  readonly vmId: number;
}

/**
 * Removes one pair of single or double quotes around an argument, if present.
 *
 * @param arg One argument as received.
 * @returns The argument without surrounding quotes.
 */
export function unquote(arg: string): string {
  const trimmed = arg.trim();
  if (trimmed.length >= 2) {
    const first = trimmed[0];
    if ((first === "'" || first === '"') && trimmed.endsWith(first)) return trimmed.slice(1, -1);
  }
  return trimmed;
}

/**
 * Checks an argument list against the names of its positional parameters, allowing the
 * trailing repeated host that `one_vmm_sh` appends.
 *
 * @param action Action name, for the usage message.
 * @param names Parameter names in order, the last being `vmid` (the optional `host` follows it).
 * @param argv The arguments as received.
 * @returns The unquoted values keyed by name.
 * @throws {InvalidInputError} on a wrong count or an empty value.
 */
function positional(
  action: string,
  names: readonly string[],
  argv: readonly string[],
): Record<string, string> {
  const usage = `Usage: ${action} ${names.map((n) => `<${n}>`).join(" ")} [<host>]`;
  if (argv.length !== names.length && argv.length !== names.length + 1) {
    throw new InvalidInputError(
      `Wrong number of arguments for ${action}: got ${argv.length}, expected ${names.length} or ${
        names.length + 1
      }. ${usage}`,
    );
  }
  const values: Record<string, string> = {};
  names.forEach((name, i) => {
    const value = unquote(argv[i] ?? "");
    if (value === "") {
      throw new InvalidInputError(`Argument <${name}> of ${action} is empty. ${usage}`);
    }
    values[name] = value;
  });
  return values;
}

/**
 * Parses an OpenNebula VM id.
 *
 * @param value The argument.
 * @returns The id as a number.
 * @throws {InvalidInputError} when it is not a non-negative integer.
 */
function parseVmId(value: string): number {
  if (!/^\d{1,10}$/.test(value)) {
    throw new InvalidInputError(`Invalid VM id "${value}": expected a non-negative integer`);
  }
  return Number(value);
}

/**
 * Parses `<deploy_id> <host> <vmid> [<host>]`.
 *
 * @param action Action name, for messages.
 * @param argv The arguments as received.
 * @returns The deploy id, host and VM id.
 * @throws {InvalidInputError} on a wrong shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVmArgs } from "./args.ts";
 * const args = parseVmArgs("poll", ["i-0abc", "'aws-east'", "42", "aws-east"]);
 * assert.equal(args.host, "aws-east");
 * assert.equal(args.vmId, 42);
 * ```
 */
export function parseVmArgs(action: string, argv: readonly string[]): VmArgs {
  const v = positional(action, ["deploy_id", "host", "vmid"], argv);
  return { deployId: v.deploy_id!, host: v.host!, vmId: parseVmId(v.vmid!) };
}

/**
 * Parses the arguments of shutdown and cancel, which oned also sends for a VM whose deploy
 * never returned an id (`onevm recover --delete`, `delete` of a VM in BOOT_FAILURE): 5.x+ then
 * passes an empty quoted id, and 3.2–4.x's unquoted command line loses it, leaving
 * `<host> <vmid> <host>`.
 *
 * @param action Action name, for messages.
 * @param argv The arguments as received.
 * @returns The arguments; `deployId` is "" when oned has none.
 * @throws {InvalidInputError} on a wrong shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEndArgs } from "./args.ts";
 * assert.equal(parseEndArgs("cancel", ["", "aws", "7", "aws"]).deployId, "");
 * assert.deepEqual(parseEndArgs("cancel", ["aws", "7", "aws"]), { deployId: "", host: "aws", vmId: 7 });
 * assert.equal(parseEndArgs("cancel", ["i-0abc1234", "aws", "7"]).deployId, "i-0abc1234");
 * ```
 */
export function parseEndArgs(action: string, argv: readonly string[]): VmArgs {
  const values = argv.map(unquote);
  const [first, second, third] = values;
  if (values.length === 4 && (first === "" || first === "-")) {
    return { ...parseVmArgs(action, ["-", ...argv.slice(1)]), deployId: "" };
  }
  if (
    values.length === 3 && /^\d+$/.test(second ?? "") && !/^\d+$/.test(third ?? "") &&
    first === third
  ) {
    return { deployId: "", host: first!, vmId: parseVmId(second!) };
  }
  return parseVmArgs(action, argv);
}

/**
 * Parses `<deployment_file> <host> <vmid> [<host>]`.
 *
 * @param argv The arguments as received.
 * @returns The deployment file path, host and VM id.
 * @throws {InvalidInputError} on a wrong shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDeployArgs } from "./args.ts";
 * const args = parseDeployArgs(["/var/lib/one/vms/38/deployment.0", "ec2", "38", "ec2"]);
 * assert.equal(args.deploymentFile, "/var/lib/one/vms/38/deployment.0");
 * ```
 */
export function parseDeployArgs(argv: readonly string[]): DeployArgs {
  const v = positional("deploy", ["deployment_file", "host", "vmid"], argv);
  return { deploymentFile: v.deployment_file!, host: v.host!, vmId: parseVmId(v.vmid!) };
}

/** Arguments of save and checkpoint. */
interface SaveArgs extends VmArgs {
  /** Where OpenNebula wants the checkpoint file. */
  readonly checkpointFile: string;
}

/**
 * Parses `<deploy_id> <checkpoint_file> <host> <vmid> [<host>]` (save, checkpoint).
 *
 * @param action Action name, for messages.
 * @param argv The arguments as received.
 * @returns Deploy id, checkpoint file, host and VM id.
 * @throws {InvalidInputError} on a wrong shape.
 */
export function parseSaveArgs(action: string, argv: readonly string[]): SaveArgs {
  const v = positional(action, ["deploy_id", "checkpoint_file", "host", "vmid"], argv);
  return {
    deployId: v.deploy_id!,
    checkpointFile: v.checkpoint_file!,
    host: v.host!,
    vmId: parseVmId(v.vmid!),
  };
}

/** Arguments of restore. */
interface RestoreArgs {
  /** The checkpoint file save wrote. */
  readonly checkpointFile: string;
  /** OpenNebula host name. */
  readonly host: string;
  /** The deploy id (OpenNebula 4.x and later pass it; 3.2 does not). */
  readonly deployId?: string;
  /** OpenNebula VM id. */
  readonly vmId: number;
}

/**
 * Parses restore's two forms: `<checkpoint_file> <host> <vmid> [<host>]` (3.2) and
 * `<checkpoint_file> <host> <deploy_id> <vmid> [<host>]` (4.x and later). Four arguments are
 * the 3.2 form with the trailing host when the third is a VM id and the fourth is not.
 *
 * @param argv The arguments as received.
 * @returns Checkpoint file, host, deploy id (when given) and VM id.
 * @throws {InvalidInputError} on a wrong shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRestoreArgs } from "./args.ts";
 * assert.equal(parseRestoreArgs(["/ckpt", "aws", "7", "aws"]).deployId, undefined);
 * assert.equal(parseRestoreArgs(["/ckpt", "aws", "i-0abc1234", "7", "aws"]).deployId, "i-0abc1234");
 * ```
 */
export function parseRestoreArgs(argv: readonly string[]): RestoreArgs {
  const values = argv.map(unquote);
  const legacy = values.length === 3 ||
    (values.length === 4 && /^\d+$/.test(values[2] ?? "") && !/^\d+$/.test(values[3] ?? ""));
  if (legacy) {
    const v = positional("restore", ["checkpoint_file", "host", "vmid"], argv);
    return { checkpointFile: v.checkpoint_file!, host: v.host!, vmId: parseVmId(v.vmid!) };
  }
  const v = positional("restore", ["checkpoint_file", "host", "deploy_id", "vmid"], argv);
  return {
    checkpointFile: v.checkpoint_file!,
    host: v.host!,
    deployId: v.deploy_id!,
    vmId: parseVmId(v.vmid!),
  };
}

/** Arguments of migrate. */
interface MigrateArgs extends VmArgs {
  /** The host the VM should move to. */
  readonly destinationHost: string;
}

/**
 * Parses `<deploy_id> <dest_host> <host> <vmid> [<host>]` (migrate).
 *
 * @param argv The arguments as received.
 * @returns Deploy id, destination host, (source) host and VM id.
 * @throws {InvalidInputError} on a wrong shape.
 */
export function parseMigrateArgs(argv: readonly string[]): MigrateArgs {
  const v = positional("migrate", ["deploy_id", "dest_host", "host", "vmid"], argv);
  return {
    deployId: v.deploy_id!,
    destinationHost: v.dest_host!,
    host: v.host!,
    vmId: parseVmId(v.vmid!),
  };
}
