/**
 * IPv4 arithmetic for subnets: CIDR parsing, membership and address allocation.
 *
 * @module
 */

/** A parsed IPv4 CIDR block. */
export interface Cidr {
  /** Network address as a 32-bit number. */
  readonly base: number;
  /** Prefix length. */
  readonly bits: number;
  /** Number of addresses in the block. */
  readonly size: number;
}

/**
 * Parses a dotted IPv4 address.
 *
 * @param text `a.b.c.d`.
 * @returns The address as an unsigned 32-bit number, or undefined when malformed.
 */
export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

/**
 * Formats a 32-bit number as a dotted IPv4 address.
 *
 * @param value The address.
 * @returns `a.b.c.d`.
 */
export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/**
 * Parses `a.b.c.d/n`.
 *
 * @param text The CIDR block.
 * @returns The block.
 * @throws {Error} When malformed (fixtures only, so a programming error).
 */
export function parseCidr(text: string): Cidr {
  const [address, bitsText] = text.split("/");
  const base = parseIpv4(address ?? "");
  const bits = Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 16 || bits > 28) {
    throw new Error(`Invalid CIDR block ${text}`);
  }
  const size = 2 ** (32 - bits);
  return { base: base - (base % size), bits, size };
}

/**
 * Whether an address may be given to an instance in a subnet: inside the block and not one of
 * the five addresses AWS reserves (the first four and the last).
 *
 * @param cidr The subnet's block.
 * @param address The address.
 * @returns true when assignable.
 */
export function isAssignable(cidr: Cidr, address: number): boolean {
  const offset = address - cidr.base;
  return offset >= 4 && offset < cidr.size - 1;
}

/**
 * Whether an address lies inside a block.
 *
 * @param cidr The block.
 * @param address The address.
 * @returns true when inside.
 */
export function contains(cidr: Cidr, address: number): boolean {
  return address >= cidr.base && address < cidr.base + cidr.size;
}
