/**
 * The oned of this front-end, reached as OpenNebula's own tools reach it: the XML-RPC endpoint
 * from `ONE_XMLRPC` (default `http://localhost:2633/RPC2`), a time limit from
 * `ONE_XMLRPC_TIMEOUT` (whole seconds; default 10), and the credentials of `one_auth.ts`.
 * Loaded only by actions that must ask oned (OpenNebula 3.2–4.x send no action data).
 *
 * @module
 */

import { InvalidInputError } from "../util/errors.ts";
import {
  hostInfo,
  hostTemplateCapacity,
  type LocalVm,
  NO_EXISTS,
  OneApiError,
  type OneHostInfo,
  type OneVmInfo,
  systemVersion,
  vmInfo,
  vmPool,
} from "./one_api.ts";
import { type EnvLookup, readOneAuth } from "./one_auth.ts";
import type { HostTemplate, HostTemplateRequest } from "./host_template.ts";
import { DEFAULT_TIMEOUT_MS, XmlRpcClient } from "../one_xmlrpc/xmlrpc.ts";

/** oned's endpoint when `ONE_XMLRPC` is not set. */
const DEFAULT_ONE_XMLRPC = "http://localhost:2633/RPC2";

/** The longest `ONE_XMLRPC_TIMEOUT` accepted: well inside an action's own time limit. */
const MAX_TIMEOUT_SECONDS = 120;

/**
 * The XML-RPC client of the local oned.
 *
 * @param env Reads the environment.
 * @returns The client, labelled `oned`.
 * @throws {InvalidInputError} when `ONE_XMLRPC` is not an http(s) URL or `ONE_XMLRPC_TIMEOUT`
 * is not a whole number of seconds from 1 to 120.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { localOnedClient } from "./local_oned.ts";
 *
 * assert.equal(localOnedClient(() => undefined).where, "oned at http://localhost:2633/RPC2");
 * ```
 */
export function localOnedClient(env: EnvLookup): XmlRpcClient {
  const url = env("ONE_XMLRPC") || DEFAULT_ONE_XMLRPC;
  const timeout = env("ONE_XMLRPC_TIMEOUT");
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (timeout) {
    const seconds = /^\d+$/.test(timeout.trim()) ? Number(timeout) : NaN;
    if (!(seconds >= 1 && seconds <= MAX_TIMEOUT_SECONDS)) {
      throw new InvalidInputError(
        `ONE_XMLRPC_TIMEOUT must be a whole number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}: got ${
          JSON.stringify(timeout)
        }`,
      );
    }
    timeoutMs = seconds * 1000;
  }
  return new XmlRpcClient(url, { label: "oned", timeoutMs });
}

/**
 * Asks the local oned about a VM (`one.vm.info`).
 *
 * @param vmId The VM id.
 * @param env Reads the environment (default: the process's).
 * @returns What oned says about the VM.
 * @throws {DriverError} with a one-line message naming the credentials file or the endpoint
 * when the answer cannot be had.
 */
export async function askLocalOned(
  vmId: number,
  env: EnvLookup = (n) => Deno.env.get(n),
): Promise<OneVmInfo> {
  const client = localOnedClient(env);
  const { session } = await readOneAuth(env);
  return await vmInfo(client, session, vmId);
}

/**
 * Asks the local oned for the `CAPACITY` section of a host's template (`one.host.info`).
 *
 * @param hostId The host's id.
 * @param env Reads the environment (default: the process's).
 * @returns The section's attributes, or undefined when the template has none.
 * @throws {DriverError} with a one-line message naming the credentials file or the endpoint
 * when the answer cannot be had.
 */
export async function localOnedHostCapacity(
  hostId: number,
  env: EnvLookup = (n) => Deno.env.get(n),
): Promise<Record<string, string> | undefined> {
  const client = localOnedClient(env);
  const { session } = await readOneAuth(env);
  return await hostTemplateCapacity(client, session, hostId);
}

/**
 * Asks the local oned for every VM it still has, with its deploy id and host
 * (`one.vmpool.info`, every user's, DONE ones left out).
 *
 * @param env Reads the environment (default: the process's).
 * @returns The VMs.
 * @throws {DriverError} with a one-line message naming the credentials file or the endpoint
 * when the answer cannot be had.
 */
export async function localOnedVms(
  env: EnvLookup = (n) => Deno.env.get(n),
): Promise<LocalVm[]> {
  const client = localOnedClient(env);
  const { session } = await readOneAuth(env);
  return await vmPool(client, session);
}

/**
 * Asks the local oned its version (`one.system.version`).
 *
 * @param env Reads the environment (default: the process's).
 * @returns The version (`5.10.1`).
 * @throws {DriverError} when the answer cannot be had.
 */
export async function localOnedVersion(env: EnvLookup = (n) => Deno.env.get(n)): Promise<string> {
  const client = localOnedClient(env);
  const { session } = await readOneAuth(env);
  return await systemVersion(client, session);
}

/**
 * The local oned, opened once for several questions (a probe run): one client, the
 * credentials read once.
 */
export interface LocalOned {
  /** `one.vm.info`. */
  vm(vmId: number): Promise<OneVmInfo>;
  /** `one.host.info`: the host's VMs and capacity. */
  host(hostId: number): Promise<OneHostInfo>;
  /** `one.vmpool.info`: every VM oned still has. */
  vms(): Promise<LocalVm[]>;
  /**
   * A host's template, decrypted as OpenNebula's own drivers did (`host_template.ts`);
   * undefined when oned has no host of that name.
   */
  hostTemplate(request: HostTemplateRequest): Promise<HostTemplate | undefined>;
}

/**
 * Opens the local oned for a run's questions. Sends nothing.
 *
 * @param env Reads the environment (default: the process's).
 * @returns The questions, each one XML-RPC call.
 * @throws {DriverError} naming the credentials file when it cannot be read, or
 * {@link InvalidInputError} for a wrong `ONE_XMLRPC` or `ONE_XMLRPC_TIMEOUT`.
 */
export async function openLocalOned(
  env: EnvLookup = (n) => Deno.env.get(n),
): Promise<LocalOned> {
  const client = localOnedClient(env);
  const { session } = await readOneAuth(env);
  return {
    vm: (vmId) => vmInfo(client, session, vmId),
    host: (hostId) => hostInfo(client, session, hostId),
    vms: () => vmPool(client, session),
    hostTemplate: async (request) =>
      (await import("./host_template.ts")).readHostTemplate(client, session, request),
  };
}

/** What oned answered about a VM: what it says, `unknown` (it has no such VM), `unanswered`. */
export type AskedVm = OneVmInfo | "unknown" | "unanswered";

/**
 * Asks oned about a VM, telling "oned has no such VM" (`Error getting virtual machine`) from
 * any other failure, which says nothing about the VM.
 *
 * @param oned The opened oned, or undefined when it could not be opened.
 * @param vmId The VM id.
 * @returns The answer.
 */
export async function askVm(oned: LocalOned | undefined, vmId: number): Promise<AskedVm> {
  if (oned === undefined) return "unanswered";
  try {
    return await oned.vm(vmId);
  } catch (error) {
    return error instanceof OneApiError && error.code === NO_EXISTS ? "unknown" : "unanswered";
  }
}
