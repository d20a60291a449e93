import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * The client's address as the gateway may believe it, given how many proxies
 * in front of it are trusted. Each trusted proxy appends the address it saw to
 * `X-Forwarded-For`, so the trustworthy entries are on the RIGHT; anything to
 * their left was written by the client and may be a lie. The hop list is the
 * header's entries followed by the socket address (the nearest hop): with 0
 * hops the socket address is the client, with 1 the rightmost header entry,
 * with 2 the one before it, and so on. A header shorter than the trusted
 * chain yields its leftmost entry (it was still written by a trusted proxy);
 * an entry that is not an IP address yields the socket address.
 *
 * @example
 * // behind one load balancer: X-Forwarded-For: <spoof>, 198.51.100.9
 * clientAddress(req, 1); // '198.51.100.9'
 */
export function clientAddress(req: IncomingMessage, trustedProxyHops: number): string {
  const socketAddress = req.socket.remoteAddress ?? 'unknown';
  if (trustedProxyHops <= 0) return socketAddress;
  // Node joins repeated X-Forwarded-For headers with ", ", in order.
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (forwarded.length === 0) return socketAddress;
  const hops = [...forwarded, socketAddress];
  const chosen = hops[Math.max(0, hops.length - 1 - trustedProxyHops)]!;
  return isIP(chosen) ? chosen : socketAddress;
}

/** `::ffff:192.0.2.1` → `192.0.2.1`; any other address unchanged. */
export function unmapIPv4(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/**
 * The key a budget counts an anonymous client under: the IPv4 address, or the
 * /64 an IPv6 address belongs to (one subscriber usually holds a whole /64 and
 * can rotate through it at will, so per-address counting would be no limit).
 */
export function addressBucket(address: string): string {
  const unmapped = unmapIPv4(address);
  if (isIP(unmapped) !== 6) return unmapped;
  return `${expandIPv6(unmapped).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (64:ff9b::192.0.2.1) fills two groups; it never reaches the first four.
  const width = (groups: string[]) => groups.reduce((sum, group) => sum + (group.includes('.') ? 2 : 1), 0);
  const groups = [...left, ...Array<string>(Math.max(0, 8 - width(left) - width(right))).fill('0'), ...right];
  return groups.map((group) => (group.includes('.') ? group : (parseInt(group, 16) || 0).toString(16)));
}

export interface AddressAllowlist {
  /** Whether `address` (IPv4, IPv6 or IPv4-mapped IPv6) lies in one of the ranges. */
  allows(address: string): boolean;
  /** The ranges as configured, normalised (`10.0.0.0/8`, `2001:db8::/32`). */
  readonly ranges: readonly string[];
}

/**
 * An allowlist of CIDR ranges (a bare address is a /32 or /128). IPv4-mapped
 * IPv6 addresses (`::ffff:10.1.2.3`, what a dual-stack socket reports for an
 * IPv4 client) match the IPv4 ranges, and mapped ranges (`::ffff:10.0.0.0/104`)
 * are stored as the IPv4 range they denote. Throws RangeError naming every
 * entry that is not a CIDR.
 *
 * @example
 * createAddressAllowlist(['10.0.0.0/8', '2001:db8::/32']).allows('::ffff:10.1.2.3'); // true
 */
export function createAddressAllowlist(cidrs: readonly string[]): AddressAllowlist {
  const list = new BlockList();
  const ranges: string[] = [];
  const invalid: string[] = [];
  for (const raw of cidrs) {
    const range = parseCidr(raw.trim());
    if (!range) {
      invalid.push(raw.trim());
      continue;
    }
    list.addSubnet(range.address, range.prefix, range.family);
    ranges.push(`${range.address}/${range.prefix}`);
  }
  if (invalid.length > 0)
    throw new RangeError(`not a CIDR range: ${invalid.map((entry) => `"${entry}"`).join(', ')} (use e.g. 10.0.0.0/8)`);
  return {
    ranges,
    allows(address) {
      const unmapped = unmapIPv4(address);
      const family = isIP(unmapped);
      if (family === 0) return false;
      return list.check(unmapped, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** Splits `10.0.0.0/8, 2001:db8::/32` (env) into entries; validation is {@link createAddressAllowlist}'s. */
export function splitCidrList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const match = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(text);
  if (!match) return undefined;
  const family = isIP(match[1]!);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = match[2] === undefined ? max : Number(match[2]);
  if (prefix > max) return undefined;
  const unmapped = unmapIPv4(match[1]!);
  if (family === 6 && unmapped !== match[1]) {
    if (prefix < 96) return undefined;
    return { address: unmapped, prefix: prefix - 96, family: 'ipv4' };
  }
  return { address: match[1]!, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}
