import { describe, expect, it } from 'vitest';
import { metricsAllowOf, parseGatewayEnv, PRIVATE_NETWORK_RANGES } from './env.ts';

describe('METRICS_ALLOW', () => {
  it('defaults to the private ranges in production and to everyone elsewhere; `any` opens it on purpose', () => {
    expect(metricsAllowOf(undefined, true)).toEqual(PRIVATE_NETWORK_RANGES);
    expect(metricsAllowOf('', false)).toEqual([]);
    expect(metricsAllowOf('any', true)).toEqual([]);
    expect(metricsAllowOf('10.0.0.0/8, 192.168.1.7', true)).toEqual(['10.0.0.0/8', '192.168.1.7']);
  });

  it('refuses a list with an entry that is not a CIDR range, naming the variable', () => {
    expect(() => parseGatewayEnv({ METRICS_ALLOW: '10.0.0.0/8,not-a-range' })).toThrow(
      /METRICS_ALLOW: not a CIDR range/,
    );
    expect(parseGatewayEnv({ METRICS_ALLOW: '10.0.0.0/8' }).METRICS_ALLOW).toEqual(['10.0.0.0/8']);
  });
});
