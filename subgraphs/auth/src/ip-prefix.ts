import { isIPv4, isIPv6 } from 'node:net';

/**
 * The network a client address belongs to, as one string: the /24 of an IPv4
 * address (IPv4-mapped IPv6 included) and the /64 of an IPv6 address, which
 * is what one subscriber usually holds. `unknown` when the gateway sent none
 * or it does not parse.
 *
 * @example
 * ipPrefix('203.0.113.77') // '203.0.113.0/24'
 * ipPrefix('2001:db8:1:2:3:4:5:6') // '2001:db8:1:2::/64'
 */
export function ipPrefix(address: string | null | undefined): string {
  const ip =
    address
      ?.trim()
      .replace(/^\[|\]$/g, '')
      .replace(/%.*$/, '') ?? '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const v4 = mapped ?? ip;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(ip)) return 'unknown';
  const groups = expandIPv6(ip);
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted IPv4 turned into two groups). */
function expandIPv6(ip: string): string[] {
  let text = ip.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted) {
    const [a, b, c, d] = dotted.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -dotted.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right];
}
