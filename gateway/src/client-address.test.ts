import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { addressBucket, clientAddress, createAddressAllowlist, splitCidrList, unmapIPv4 } from './client-address.ts';

function request(remoteAddress: string, forwardedFor?: string | string[]): IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

describe('clientAddress', () => {
  it('is the socket address with no trusted hops, whatever X-Forwarded-For says', () => {
    expect(clientAddress(request('192.0.2.10', '203.0.113.7'), 0)).toBe('192.0.2.10');
  });

  it('counts hops from the right: the socket is the nearest, each trusted proxy appended one entry', () => {
    const req = request('10.0.0.2', '198.51.100.1, 203.0.113.5, 10.0.0.1');
    expect(clientAddress(req, 1)).toBe('10.0.0.1');
    expect(clientAddress(req, 2)).toBe('203.0.113.5');
    expect(clientAddress(req, 3)).toBe('198.51.100.1');
  });

  it('never lets entries the client prepended become the client address', () => {
    for (const spoof of ['1.1.1.1', '10.0.0.1, 127.0.0.1', 'not-an-ip, 10.9.9.9, ::1']) {
      const req = request('10.0.0.2', `${spoof}, 198.51.100.9`);
      expect(clientAddress(req, 1)).toBe('198.51.100.9');
    }
  });

  it('reads repeated headers in order and falls back sensibly', () => {
    expect(clientAddress(request('10.0.0.2', ['6.6.6.6', '198.51.100.9']), 1)).toBe('198.51.100.9');
    // Fewer entries than trusted hops: the leftmost, still written by a trusted proxy.
    expect(clientAddress(request('10.0.0.2', '198.51.100.9'), 3)).toBe('198.51.100.9');
    // No header, or a garbage entry where the client should be: the socket address.
    expect(clientAddress(request('10.0.0.2'), 1)).toBe('10.0.0.2');
    expect(clientAddress(request('10.0.0.2', ' , '), 1)).toBe('10.0.0.2');
    expect(clientAddress(request('10.0.0.2', '198.51.100.9, garbage'), 1)).toBe('10.0.0.2');
    expect(clientAddress(request('10.0.0.2', '2001:db8::7'), 1)).toBe('2001:db8::7');
  });
});

describe('addressBucket', () => {
  it('keeps IPv4 (mapped or not) and groups IPv6 by /64', () => {
    expect(addressBucket('203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucket('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:DB8:0001:0002::1')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('::1:2:3:4:5:192.0.2.1')).toBe('0:1:2:3::/64');
    expect(addressBucket('unknown')).toBe('unknown');
  });
});

describe('createAddressAllowlist', () => {
  const allowlist = createAddressAllowlist([
    '10.1.0.0/16',
    '192.0.2.5',
    '2001:db8:abcd::/48',
    '::ffff:198.51.100.0/120',
  ]);

  it('matches IPv4 ranges, single addresses and IPv6 ranges', () => {
    expect(allowlist.allows('10.1.200.3')).toBe(true);
    expect(allowlist.allows('10.2.0.1')).toBe(false);
    expect(allowlist.allows('192.0.2.5')).toBe(true);
    expect(allowlist.allows('192.0.2.6')).toBe(false);
    expect(allowlist.allows('2001:db8:abcd:12::1')).toBe(true);
    expect(allowlist.allows('2001:db8:abce::1')).toBe(false);
  });

  it('treats IPv4-mapped IPv6 addresses and ranges as IPv4', () => {
    expect(allowlist.allows('::ffff:10.1.2.3')).toBe(true);
    expect(allowlist.allows('::FFFF:10.9.2.3')).toBe(false);
    expect(allowlist.allows('198.51.100.77')).toBe(true);
    expect(allowlist.allows('::ffff:198.51.101.1')).toBe(false);
    expect(allowlist.ranges).toContain('198.51.100.0/24');
  });

  it('refuses what is not an address', () => {
    expect(allowlist.allows('unknown')).toBe(false);
    expect(allowlist.allows('')).toBe(false);
  });

  it('names every entry that is not a CIDR range', () => {
    expect(() =>
      createAddressAllowlist(['10.0.0.0/8', '10.0.0.0/33', 'example.com', '::1/129', '::ffff:1.2.3.4/64']),
    ).toThrow(/"10\.0\.0\.0\/33", "example\.com", "::1\/129", "::ffff:1\.2\.3\.4\/64"/);
  });

  it('reads a comma-separated env list', () => {
    expect(splitCidrList(' 10.0.0.0/8, ,2001:db8::/32 ')).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect(splitCidrList(undefined)).toEqual([]);
    expect(unmapIPv4('::ffff:127.0.0.1')).toBe('127.0.0.1');
  });
});
