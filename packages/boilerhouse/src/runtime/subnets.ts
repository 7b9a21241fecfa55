/**
 * IPv4 subnet arithmetic for instance networks: parsing CIDRs, carving aligned blocks out of a pool, and
 * finding the first block that overlaps nothing already in use. Pure; the addresses in use are read by
 * the caller (networks.ts).
 */

export interface Subnet {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(text: string): number | undefined {
  const match = IPV4.exec(text);
  if (match === null) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return octets.reduce((address, octet) => address * 256 + octet, 0);
}

export function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}

/** `a.b.c.d/n` (IPv4 only); undefined for anything else, IPv6 included. */
export function parseSubnet(text: string): Subnet | undefined {
  const [address = '', prefixText = '', ...rest] = text.split('/');
  const base = parseIpv4(address);
  const prefix = Number(prefixText);
  if (base === undefined || rest.length > 0 || !/^\d{1,2}$/.test(prefixText) || prefix > 32) return undefined;
  return { base: base - (base % size(prefix)), prefix };
}

export function formatSubnet(subnet: Subnet): string {
  return `${formatIpv4(subnet.base)}/${subnet.prefix}`;
}

/** How many addresses a prefix holds. */
export function size(prefix: number): number {
  return 2 ** (32 - prefix);
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base < b.base + size(b.prefix) && b.base < a.base + size(a.prefix);
}

/**
 * The smallest prefix whose block holds `members` containers besides the network address, the gateway
 * and the broadcast address, and never smaller than `minPrefix`'s block.
 */
export function prefixFor(members: number, minPrefix: number): number {
  let prefix = minPrefix;
  while (prefix > 0 && size(prefix) - 3 < members) prefix--;
  return prefix;
}

/** The first block of `prefix` in `pool`, aligned to its size, that overlaps nothing in `used`. */
export function firstFree(pool: Subnet, prefix: number, used: readonly Subnet[]): Subnet | undefined {
  if (prefix < pool.prefix) return undefined;
  const end = pool.base + size(pool.prefix);
  for (let base = pool.base; base < end; base += size(prefix)) {
    const candidate = { base, prefix };
    const clash = used.find((subnet) => overlaps(subnet, candidate));
    // Jump past the clash rather than stepping one block at a time through a large used range.
    if (clash === undefined) return candidate;
    const clashEnd = clash.base + size(clash.prefix);
    if (clashEnd > base + size(prefix)) base = clashEnd - (clashEnd % size(prefix)) - size(prefix);
  }
  return undefined;
}
