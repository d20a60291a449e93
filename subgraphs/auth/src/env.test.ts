import { configureService, MIN_DB_PASSWORD_LENGTH } from '@supergraph/kit';
import { generateInternalKeyPair, generateSigningJwk, type DevKeys } from '@supergraph/platform';
import { beforeAll, describe, expect, it } from 'vitest';
import { auth } from './index.ts';
import { authConfigFromEnv } from './env.ts';
import { generateProviderKeySecret } from './provider-key-cipher.ts';

const STRONG_DB_PASSWORD = 'k3J9-vQ2xPz8LmN4';

let production: NodeJS.ProcessEnv;
let devKeys: DevKeys;

beforeAll(async () => {
  const internal = generateInternalKeyPair();
  devKeys = {
    internalPrivateKeyPem: internal.privateKeyPem,
    internalPublicKeyPem: internal.publicKeyPem,
    authSigningKeys: [await generateSigningJwk()],
    providerKeySecret: generateProviderKeySecret(),
  };
  production = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://postgres@db.internal:5432/supergraph?sslmode=verify-full',
    AUTH_DB_PASSWORD: STRONG_DB_PASSWORD,
    REDIS_URL: 'redis://redis.internal:6379',
    AUTH_SIGNING_KEYS: JSON.stringify([await generateSigningJwk()]),
    AUTH_PROVIDER_KEY_SECRETS: generateProviderKeySecret(),
    INTERNAL_TOKEN_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----',
  };
});

/** The problems the auth service reports for `source` (shared variables and its own), one per entry. */
function problemsOf(source: NodeJS.ProcessEnv): string[] {
  return configureService(auth, source, source['NODE_ENV'] === 'production' ? undefined : devKeys).problems;
}

describe('auth service configuration in development', () => {
  it('starts with nothing set, on the documented defaults', async () => {
    const { settings, start, problems } = configureService(auth, {}, devKeys);
    expect(problems).toEqual([]);
    expect(start).toBeTypeOf('function');
    expect(settings).toMatchObject({ port: 4001, host: '127.0.0.1', databaseUrl: undefined, redisUrl: undefined });
    expect(settings?.rateLimits).toMatchObject({ overrides: {}, disabled: false });
  });

  it('accepts a weak database password (only production insists)', () => {
    expect(problemsOf({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', AUTH_DB_PASSWORD: 'dev' })).toEqual(
      [],
    );
  });

  it('reads AUTH_RATE_LIMITS as per-field limits', () => {
    const { settings } = configureService(
      auth,
      { AUTH_RATE_LIMITS: 'Mutation.register=3/30m,Mutation.login=20,Mutation.refresh=60/2h' },
      devKeys,
    );
    expect(settings?.rateLimits.overrides).toEqual({
      'Mutation.register': { max: 3, windowMs: 30 * 60_000 },
      'Mutation.login': { max: 20 },
      'Mutation.refresh': { max: 60, windowMs: 2 * 3_600_000 },
    });
    expect(configureService(auth, { RATE_LIMITS_DISABLED: '1' }, devKeys).settings?.rateLimits.disabled).toBe(true);
  });
});

describe('auth service configuration in production', () => {
  it('accepts a complete configuration', () => {
    expect(problemsOf(production)).toEqual([]);
  });

  it('lists every missing requirement at once', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'DATABASE_URL: required in production',
      'REDIS_URL: required in production',
      'INTERNAL_TOKEN_PUBLIC_KEY: required in production',
      'AUTH_SIGNING_KEYS: required in production',
      'AUTH_PROVIDER_KEY_SECRETS: required in production',
    ]);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['a placeholder', 'changeme'],
    ['one repeated character', 'x'.repeat(40)],
    [`shorter than ${MIN_DB_PASSWORD_LENGTH}`, STRONG_DB_PASSWORD.slice(0, MIN_DB_PASSWORD_LENGTH - 1)],
  ])('refuses a database password that is %s', (_label, password) => {
    const problems = problemsOf({ ...production, AUTH_DB_PASSWORD: password });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^AUTH_DB_PASSWORD: .*at least 16 characters/);
  });

  it('never prints the password it refuses', () => {
    expect(problemsOf({ ...production, AUTH_DB_PASSWORD: 'Short-Secret-1' }).join('\n')).not.toContain(
      'Short-Secret-1',
    );
  });

  it('reports malformed values, missing requirements, a weak password and disabled limits together', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://postgres@db.internal:5432/supergraph?sslmode=verify-full',
      AUTH_DB_PASSWORD: 'password',
      ACCESS_TOKEN_TTL_SECONDS: '5',
      ARGON2_MEMORY_KIB: '1024',
      AUTH_SIGNING_KEYS: 'not json',
      AUTH_RATE_LIMITS: 'Mutation.login=ten per hour',
      RATE_LIMITS_DISABLED: 'true',
    });
    const names = problems.map((problem) => problem.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        'ACCESS_TOKEN_TTL_SECONDS',
        'ARGON2_MEMORY_KIB',
        'AUTH_SIGNING_KEYS',
        'AUTH_RATE_LIMITS',
        'INTERNAL_TOKEN_PUBLIC_KEY',
        'REDIS_URL',
        'AUTH_DB_PASSWORD',
        'RATE_LIMITS_DISABLED',
      ]),
    );
    expect(names).not.toContain('DATABASE_URL');
  });
});

describe('provider key secrets and grant audiences', () => {
  const hex = 'a3'.repeat(2) + '0123456789abcdef'.repeat(3) + 'fedcba9876543210'.slice(0, 12);

  function configOf(source: NodeJS.ProcessEnv, keys: DevKeys | undefined = devKeys) {
    return authConfigFromEnv(source, { production: source['NODE_ENV'] === 'production', devKeys: keys });
  }

  it('uses the development secret when unset, and refuses to go on without any outside production too', () => {
    const result = configOf({});
    expect('config' in result && result.config.providerKeySecrets.map((secret) => secret.version)).toEqual([1]);
    expect(configOf({}, { ...devKeys, providerKeySecret: undefined })).toEqual({
      problems: ['AUTH_PROVIDER_KEY_SECRETS: required (no development keys to fall back on)'],
    });
  });

  it('reads versioned secrets newest first, in hex or base64, and a bare one as version 1', () => {
    const rotated = configOf({ AUTH_PROVIDER_KEY_SECRETS: `${generateProviderKeySecret(3)}, 2:${hex}` });
    expect('config' in rotated && rotated.config.providerKeySecrets.map((secret) => secret.version)).toEqual([3, 2]);
    const bare = configOf({ AUTH_PROVIDER_KEY_SECRETS: generateProviderKeySecret().slice(2) });
    expect('config' in bare && bare.config.providerKeySecrets.map((secret) => secret.version)).toEqual([1]);
  });

  it.each([
    ['too short', '1:c2hvcnQ='],
    ['not hex nor base64', `1:${'z'.repeat(64)}`],
    ['all zeros', `1:${'0'.repeat(64)}`],
    ['a repeated pattern', `1:${'ab'.repeat(32)}`],
    ['a version twice', `1:${hex},1:${hex}`],
    ['a bad version', `v1:${hex}`],
    ['several without versions', `${hex},${hex}`],
  ])('refuses a secret list with %s, without printing the secret', (_label, value) => {
    const result = configOf({ AUTH_PROVIDER_KEY_SECRETS: value });
    expect('problems' in result && result.problems.length).toBeGreaterThan(0);
    const problems = 'problems' in result ? result.problems : [];
    expect(problems.every((problem) => problem.startsWith('AUTH_PROVIDER_KEY_SECRETS:'))).toBe(true);
    expect(problems.join('\n')).not.toContain(value.split(',')[0]?.split(':').pop());
  });

  it('takes AUTH_GRANT_AUDIENCES as a list (default conversation) and never auth', () => {
    const defaults = configOf({});
    expect('config' in defaults && defaults.config.grantAudiences).toEqual(['conversation']);
    const listed = configOf({ AUTH_GRANT_AUDIENCES: 'conversation, operations' });
    expect('config' in listed && listed.config.grantAudiences).toEqual(['conversation', 'operations']);
    expect(configOf({ AUTH_GRANT_AUDIENCES: 'conversation,auth' })).toEqual({
      problems: ['AUTH_GRANT_AUDIENCES: must not include auth (a hop to auth must not be replayable)'],
    });
    expect('problems' in configOf({ AUTH_GRANT_AUDIENCES: 'Not A Name' })).toBe(true);
  });
});
