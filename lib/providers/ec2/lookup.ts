/**
 * Finds the instances this driver launched for one OpenNebula VM by their launch tags, using
 * only requests every EC2-compatible endpoint answers. The tag and state filters keep the
 * answer small on EC2; endpoints that ignore filters (OpenNebula's econe) or reject one as
 * unsupported get a plainer request, and every instance is checked again here, so a filter the
 * endpoint did not apply never makes the driver take another VM's instance.
 *
 * @module
 */

import type * as Sdk from "@aws-sdk/client-ec2";
import type { Ec2Api } from "./api.ts";
import { CloudError } from "../../util/errors.ts";
import { errorCode } from "./errors.ts";
import {
  DRIVER_NAME,
  DRIVER_TAG,
  heldByHostFilters,
  HOST_TAG,
  launchedForVmFilters,
  LIVE_STATES,
  tagValue,
  VM_ID_TAG,
} from "./tags.ts";

/** Most pages of DescribeInstances read when the endpoint pages its answer. */
const MAX_PAGES = 100;

/**
 * Error codes (and HTTP statuses) with which an endpoint says it does not support a request's
 * parameters, so that a plainer request may work. Credentials, throttling and network
 * failures are not among them: a plainer request would fail the same way.
 */
const UNSUPPORTED_CODES = new Set([
  "InvalidParameterValue",
  "InvalidParameter",
  "InvalidFilter",
  "UnknownParameter",
  "InvalidParameterCombination",
  "UnsupportedOperation",
  "NotImplemented",
  "FilterNotImplementedError",
]);

/**
 * Whether an error says the endpoint does not support the request as sent (an unknown filter),
 * rather than that the endpoint or the account is unusable.
 *
 * @param error What the call threw.
 * @returns true for EC2's "invalid parameter" family and for HTTP 500/501 answers.
 */
export function isUnsupportedRequest(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined && UNSUPPORTED_CODES.has(code)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  return status === 500 || status === 501;
}

/** The value of one tag of an SDK instance. */
export function tagOf(instance: Sdk.Instance, key: string): string | undefined {
  return instance.Tags?.find((t) => t.Key === key)?.Value;
}

/**
 * Lists the live instances (pending, running, stopping, stopped) tagged as launched by this
 * driver for a VM. Sends DescribeInstances with tag and state filters; if the endpoint rejects
 * them as unsupported, sends it without filters. Either way, every instance is checked here.
 *
 * @param api The EC2 calls.
 * @param vmId OpenNebula VM id.
 * @returns The instances, as EC2 describes them.
 */
export async function findLaunchedForVm(api: Ec2Api, vmId: number): Promise<Sdk.Instance[]> {
  return (await describeFiltered(api, launchedForVmFilters(vmId))).filter((i) =>
    tagOf(i, VM_ID_TAG) === String(vmId) && tagOf(i, DRIVER_TAG) === DRIVER_NAME &&
    LIVE_STATES.includes(i.State?.Name ?? "")
  );
}

/**
 * Lists the pending and running instances tagged as launched by this driver for a host.
 * Sends DescribeInstances with tag and state filters; if the endpoint rejects them as
 * unsupported, sends it without filters. Either way, every instance is checked here.
 *
 * @param api The EC2 calls.
 * @param host OpenNebula host name.
 * @returns The instances, as EC2 describes them.
 */
export async function findHeldByHost(api: Ec2Api, host: string): Promise<Sdk.Instance[]> {
  return (await describeFiltered(api, heldByHostFilters(host))).filter((i) =>
    tagOf(i, HOST_TAG) === tagValue(host) && tagOf(i, DRIVER_TAG) === DRIVER_NAME &&
    (i.State?.Name === "pending" || i.State?.Name === "running")
  );
}

/**
 * The instances DescribeInstances answers with filters; every instance when the endpoint
 * rejects the filters as unsupported. Callers check what they need again: an endpoint may also
 * ignore filters silently.
 */
async function describeFiltered(api: Ec2Api, filters: Sdk.Filter[]): Promise<Sdk.Instance[]> {
  try {
    return await describeAll(api, filters);
  } catch (error) {
    if (!isUnsupportedRequest(error)) throw error;
    return await describeAll(api, undefined);
  }
}

/** The largest page DescribeInstances answers (its `MaxResults` limit). */
const PAGE_SIZE = 1000;

/**
 * Every instance DescribeInstances answers, page after page of {@link PAGE_SIZE}.
 *
 * @param api The EC2 calls.
 * @param filters Filters, or undefined for every instance.
 * @returns The instances, in EC2's order.
 * @throws {CloudError} `TooManyPages` past 100 pages: a partial list is never taken as whole.
 */
export async function describeAll(
  api: Ec2Api,
  filters: Sdk.Filter[] | undefined,
): Promise<Sdk.Instance[]> {
  const found: Sdk.Instance[] = [];
  let nextToken: string | undefined;
  // Paging is asked for; an endpoint that refuses MaxResults gets the plain request.
  let paged = true;
  for (let page = 0; page < MAX_PAGES; page++) {
    let out: Sdk.DescribeInstancesCommandOutput;
    try {
      out = await api.describeInstances({
        ...(filters ? { Filters: filters } : {}),
        ...(paged ? { MaxResults: PAGE_SIZE } : {}),
        ...(nextToken ? { NextToken: nextToken } : {}),
      });
    } catch (error) {
      if (page > 0 || !paged || !isUnsupportedRequest(error) || filters) throw error;
      paged = false;
      page--;
      continue;
    }
    for (const reservation of out.Reservations ?? []) found.push(...(reservation.Instances ?? []));
    nextToken = out.NextToken || undefined;
    if (!nextToken) return found;
  }
  // A partial list could hide the instance an earlier attempt launched: never guess.
  throw new CloudError(
    "TooManyPages",
    `DescribeInstances answered more than ${MAX_PAGES} pages; cannot look through every instance`,
  );
}
