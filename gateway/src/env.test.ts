import { describe, expect, it } from 'vitest';
import { generateInternalKeyPair, EnvError } from '@supergraph/platform';
import { subgraphUrlsFromEnv, parseGatewayEnv } from './env.ts';

const { privateKeyPem } = generateInternalKeyPair();

describe('parseGatewayEnv', () => {
  it('accepts an empty environment outside production, with defaults', () => {
    const env = parseGatewayEnv({});
    expect(env.GATEWAY_PORT).toBe(4000);
    expect(env.CORS_ORIGINS).toEqual([]);
    expect(env.CREDENTIAL_CACHE_TTL_MS).toBe(5000);
    expect(env.SUBGRAPH_TIMEOUT_MS).toBe(10_000);
    expect(env.MAX_BODY_BYTES).toBe(1024 * 1024);
  });

  it('maps <NAME>_URL overrides for whatever subgraphs the supergraph names', () => {
    const source = {
      STORAGE_UNITS_URL: 'http://units:4003/graphql',
      NOTES_URL: 'http://notes:4009/graphql',
      OTHER_URL: 'http://x',
    };
    expect(subgraphUrlsFromEnv(['storage-units', 'notes', 'reviews'], source)).toEqual({
      'storage-units': 'http://units:4003/graphql',
      notes: 'http://notes:4009/graphql',
    });
    expect(() => subgraphUrlsFromEnv(['notes'], { NOTES_URL: 'not a url' })).toThrow(/NOTES_URL: not a URL/);
    expect(parseGatewayEnv({ CORS_ORIGINS: 'http://a.test, *' }).CORS_ORIGINS).toEqual(['http://a.test', '*']);
  });

  it('refuses production without key, origins, JWKS URL, listing every problem', () => {
    let error: unknown;
    try {
      parseGatewayEnv({ NODE_ENV: 'production', INTROSPECTION: 'true', GATEWAY_PORT: 'nope' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EnvError);
    const message = (error as Error).message;
    for (const variable of [
      'GATEWAY_INTERNAL_PRIVATE_KEY',
      'CORS_ORIGINS',
      'AUTH_JWKS_URL',
      'REDIS_URL',
      'INTROSPECTION',
      'GATEWAY_PORT',
    ]) {
      expect(message).toContain(variable);
    }
  });

  it('refuses wildcard CORS and an unusable key in production', () => {
    expect(() =>
      parseGatewayEnv({
        NODE_ENV: 'production',
        GATEWAY_INTERNAL_PRIVATE_KEY: 'changeme',
        CORS_ORIGINS: '*',
        AUTH_JWKS_URL: 'https://auth.internal/.well-known/jwks.json',
      }),
    ).toThrow(/GATEWAY_INTERNAL_PRIVATE_KEY: not a PKCS8 PEM[\s\S]*wildcard/);
  });

  it('accepts a sane production configuration', () => {
    const env = parseGatewayEnv({
      NODE_ENV: 'production',
      GATEWAY_INTERNAL_PRIVATE_KEY: privateKeyPem,
      CORS_ORIGINS: 'https://app.example.com',
      AUTH_JWKS_URL: 'https://auth.internal/.well-known/jwks.json',
      REDIS_URL: 'redis://redis.internal:6379',
      PERSISTED_DOCUMENTS_MANIFEST: 'clients/mobile/persisted-query-manifest.json',
    });
    expect(env.CORS_ORIGINS).toEqual(['https://app.example.com']);
    expect(env.persistedDocumentsMode).toBe('safelist');
  });

  it('defaults persisted documents to safelist in production (a manifest required) and allow elsewhere', () => {
    expect(parseGatewayEnv({}).persistedDocumentsMode).toBe('allow');
    expect(() => parseGatewayEnv({ NODE_ENV: 'production' })).toThrow(
      /PERSISTED_DOCUMENTS_MANIFEST: required in production, where PERSISTED_DOCUMENTS_MODE defaults to safelist/,
    );
    expect(() => parseGatewayEnv({ PERSISTED_DOCUMENTS_MODE: 'safelist' })).toThrow(
      /PERSISTED_DOCUMENTS_MANIFEST: required with PERSISTED_DOCUMENTS_MODE=safelist/,
    );
    expect(() => parseGatewayEnv({ PERSISTED_DOCUMENTS_MODE: 'sometimes' })).toThrow(/PERSISTED_DOCUMENTS_MODE/);
    // Chosen on purpose, off and allow are fine in production: only the default is strict.
    for (const mode of ['off', 'allow'] as const) {
      let message = '';
      try {
        parseGatewayEnv({ NODE_ENV: 'production', PERSISTED_DOCUMENTS_MODE: mode });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toContain('PERSISTED_DOCUMENTS');
    }
  });

  it('rejects malformed origins', () => {
    expect(() => parseGatewayEnv({ CORS_ORIGINS: 'app.example.com' })).toThrow(/not an origin/);
  });

  it('trusts no proxy hop by default; the deprecated TRUST_PROXY=true reads as one hop, with a warning', () => {
    expect(parseGatewayEnv({})).toMatchObject({ TRUSTED_PROXY_HOPS: 0, warnings: [] });
    expect(parseGatewayEnv({ TRUSTED_PROXY_HOPS: '2' })).toMatchObject({ TRUSTED_PROXY_HOPS: 2, warnings: [] });
    const legacy = parseGatewayEnv({ TRUST_PROXY: 'true' });
    expect(legacy.TRUSTED_PROXY_HOPS).toBe(1);
    expect(legacy.warnings).toEqual([expect.stringMatching(/TRUST_PROXY is deprecated.*TRUSTED_PROXY_HOPS=1/)]);
    expect(() => parseGatewayEnv({ TRUST_PROXY: 'true', TRUSTED_PROXY_HOPS: '2' })).toThrow(/TRUST_PROXY: deprecated/);
    expect(() => parseGatewayEnv({ TRUSTED_PROXY_HOPS: '-1' })).toThrow(/TRUSTED_PROXY_HOPS/);
  });

  it('reads the admin allowlist and tier budgets, naming every bad entry', () => {
    const env = parseGatewayEnv({
      ADMIN_IP_ALLOWLIST: '10.0.0.0/8, 2001:db8::/32',
      BUDGET_PER_MINUTE: 'free=30',
      BUDGET_PER_DAY: 'pro=50000,enterprise=0',
    });
    expect(env.ADMIN_IP_ALLOWLIST).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect(env.budgetTiers).toEqual({ free: { perMinute: 30 }, pro: { perDay: 50_000 }, enterprise: { perDay: 0 } });
    expect(env.BUDGETS_ENABLED).toBe(true);
    expect(parseGatewayEnv({ BUDGETS_ENABLED: 'false' }).BUDGETS_ENABLED).toBe(false);
    let message = '';
    try {
      parseGatewayEnv({ ADMIN_IP_ALLOWLIST: '10.0.0.0/40', BUDGET_PER_MINUTE: 'gold=1', BUDGET_PER_DAY: 'free=x' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/ADMIN_IP_ALLOWLIST: not a CIDR range: "10\.0\.0\.0\/40"/);
    expect(message).toMatch(/BUDGET_PER_MINUTE: invalid tier limit "gold=1"/);
    expect(message).toMatch(/BUDGET_PER_DAY: invalid tier limit "free=x"/);
  });
});
