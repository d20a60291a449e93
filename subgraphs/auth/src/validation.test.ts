import { describe, expect, it } from 'vitest';
import { loadAuthEnv } from './env.ts';
import {
  depthOf,
  validateApiKeyScopes,
  validateEmail,
  validatePassword,
  validatePreferences,
  validateUsername,
} from './validation.ts';

describe('validation', () => {
  it('normalises email and keeps usernames as typed', () => {
    expect(validateEmail('  Bob@Example.ORG ')).toBe('bob@example.org');
    expect(validateUsername('Bob_the-1')).toBe('Bob_the-1');
  });

  it('counts password length in characters and size in bytes', () => {
    expect(validatePassword('Ünïcödé-Pass-1')).toBe('Ünïcödé-Pass-1');
    expect(() => validatePassword(`Aa1${'€'.repeat(400)}`)).toThrow(/1024 bytes/);
  });

  it('measures JSON depth', () => {
    expect(depthOf({})).toBe(1);
    expect(depthOf({ a: { b: [1] } })).toBe(3);
    expect(() => validatePreferences({ a: { b: { c: { d: { e: { f: { g: { h: {} } } } } } } } })).toThrow(/levels/);
  });

  it('de-duplicates scopes and names the ones not allowed', () => {
    expect(validateApiKeyScopes(['chat', 'chat'], ['chat'])).toEqual(['chat']);
    expect(() => validateApiKeyScopes(['admin'], ['chat'])).toThrow(/admin/);
  });
});

describe('loadAuthEnv', () => {
  it('has development defaults', () => {
    const env = loadAuthEnv({});
    expect(env).toMatchObject({
      AUTH_PORT: 4001,
      AUTH_ISSUER: 'supergraph-auth',
      AUTH_AUDIENCE: 'supergraph',
      ACCESS_TOKEN_TTL_SECONDS: 900,
      SESSION_TTL_DAYS: 7,
    });
  });

  it('lists every problem at once, and production requires real keys and a database', () => {
    let message = '';
    try {
      loadAuthEnv({ NODE_ENV: 'production', ARGON2_MEMORY_KIB: '1024', AUTH_SIGNING_KEYS: '' });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of ['ARGON2_MEMORY_KIB', 'AUTH_SIGNING_KEYS', 'INTERNAL_TOKEN_PUBLIC_KEY', 'DATABASE_URL'])
      expect(message).toContain(name);
  });

  it('rejects malformed signing keys and bootstrap admin names', () => {
    expect(() => loadAuthEnv({ AUTH_SIGNING_KEYS: '{"not":"an array"}' })).toThrow(/AUTH_SIGNING_KEYS/);
    expect(() => loadAuthEnv({ AUTH_SIGNING_KEYS: '[{"kty":"RSA"}]' })).toThrow(/Ed25519/);
    expect(() => loadAuthEnv({ AUTH_BOOTSTRAP_ADMIN: 'no spaces allowed' })).toThrow(/AUTH_BOOTSTRAP_ADMIN/);
  });
});
