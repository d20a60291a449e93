import { describe, expect, it } from 'vitest';
import { acceptsJsonExplicitly } from '@supergraph/platform';
import { parseGatewayEnv } from './env.ts';

describe('timeouts nest', () => {
  it('defaults to a subgraph timeout below the request timeout', () => {
    const env = parseGatewayEnv({});
    expect(env.SUBGRAPH_TIMEOUT_MS).toBe(10_000);
    expect(env.REQUEST_TIMEOUT_MS).toBe(15_000);
  });

  it('refuses a subgraph timeout at or above the request timeout, in any environment', () => {
    expect(() => parseGatewayEnv({ SUBGRAPH_TIMEOUT_MS: '15000' })).toThrow(
      /SUBGRAPH_TIMEOUT_MS \(15000\) must be below REQUEST_TIMEOUT_MS \(15000\)/,
    );
    expect(() => parseGatewayEnv({ SUBGRAPH_TIMEOUT_MS: '3000', REQUEST_TIMEOUT_MS: '2000' })).toThrow(
      /must be below REQUEST_TIMEOUT_MS/,
    );
    expect(parseGatewayEnv({ SUBGRAPH_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '30000' }).REQUEST_TIMEOUT_MS).toBe(
      30_000,
    );
  });
});

describe('acceptsJsonExplicitly', () => {
  it('is true only when application/json itself is acceptable', () => {
    expect(acceptsJsonExplicitly('application/json')).toBe(true);
    expect(acceptsJsonExplicitly('application/graphql-response+json, application/json;q=0.9')).toBe(true);
    expect(acceptsJsonExplicitly('Application/JSON; charset=utf-8')).toBe(true);
    expect(acceptsJsonExplicitly('application/json;q=0')).toBe(false);
    expect(acceptsJsonExplicitly('*/*')).toBe(false);
    expect(acceptsJsonExplicitly('application/*')).toBe(false);
    expect(acceptsJsonExplicitly(undefined)).toBe(false);
    expect(acceptsJsonExplicitly('application/graphql-response+json')).toBe(false);
  });
});
