/**
 * Elastic IP addresses (domain `vpc`): allocation, association with an instance's primary
 * network interface, and the view of them tests get.
 *
 * @module
 */

/** An Elastic IP address's association with an instance. */
export interface Association {
  /** `eipassoc-` id. */
  readonly associationId: string;
  /** The instance. */
  readonly instanceId: string;
  /** Its primary network interface. */
  readonly networkInterfaceId: string;
  /** The private address the public one maps to. */
  readonly privateIp: string;
}

/** An Elastic IP address allocated to the account. */
export interface AddressRecord {
  /** `eipalloc-` id. */
  readonly allocationId: string;
  /** The public IPv4 address. */
  readonly publicIp: string;
  /** Tags. */
  readonly tags: Map<string, string>;
  /** The current association, if any. */
  association: Association | undefined;
}

/** A view of an Elastic IP address for tests (`ep.addresses()`). */
export interface AddressSnapshot {
  /** `eipalloc-` id. */
  readonly allocationId: string;
  /** The public IPv4 address. */
  readonly publicIp: string;
  /** Region. */
  readonly region: string;
  /** Always `vpc`. */
  readonly domain: "vpc";
  /** The associated instance. */
  readonly instanceId: string | undefined;
  /** `eipassoc-` id of the association. */
  readonly associationId: string | undefined;
  /** The private address it maps to. */
  readonly privateIpAddress: string | undefined;
  /** Tags. */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * A snapshot of an address for tests.
 *
 * @param address The address.
 * @param region Its region.
 * @returns A plain, detached view.
 */
export function addressSnapshot(address: AddressRecord, region: string): AddressSnapshot {
  return {
    allocationId: address.allocationId,
    publicIp: address.publicIp,
    region,
    domain: "vpc",
    instanceId: address.association?.instanceId,
    associationId: address.association?.associationId,
    privateIpAddress: address.association?.privateIp,
    tags: Object.fromEntries(address.tags),
  };
}
