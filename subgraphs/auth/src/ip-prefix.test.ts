import { describe, expect, it } from 'vitest';
import { ipPrefix } from './ip-prefix.ts';

describe('ipPrefix', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['203.0.113.1', '203.0.113.0/24'],
    ['::ffff:203.0.113.77', '203.0.113.0/24'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8::ffff:1', '2001:db8:0:0::/64'],
    ['[2001:db8:a::1]', '2001:db8:a:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, 'unknown'],
    ['', 'unknown'],
    ['not-an-ip', 'unknown'],
  ])('%s → %s', (address, prefix) => {
    expect(ipPrefix(address)).toBe(prefix);
  });

  it('tells neighbouring networks apart', () => {
    expect(ipPrefix('198.51.100.9')).not.toBe(ipPrefix('198.51.101.9'));
    expect(ipPrefix('2001:db8:0:1::5')).not.toBe(ipPrefix('2001:db8:0:2::5'));
  });
});
