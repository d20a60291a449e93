import { EnvError, generateSigningJwk } from '@supergraph/kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAuthEnv, MIN_DB_PASSWORD_LENGTH, rateLimitsFromEnv } from './env.ts';

const STRONG_DB_PASSWORD = 'k3J9-vQ2xPz8LmN4';

let production: NodeJS.ProcessEnv;

beforeAll(async () => {
  production = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://postgres@db.internal:5432/supergraph',
    AUTH_DB_PASSWORD: STRONG_DB_PASSWORD,
    REDIS_URL: 'redis://redis.internal:6379',
    AUTH_SIGNING_KEYS: JSON.stringify([await generateSigningJwk()]),
    INTERNAL_TOKEN_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----',
  };
});

/** The problems `loadAuthEnv` reports, one per line (empty when it accepts `source`). */
function problemsOf(source: NodeJS.ProcessEnv): string[] {
  try {
    loadAuthEnv(source);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    return (error as Error).message
      .split('\n')
      .slice(1)
      .map((line) => line.replace(/^\s*- /, ''));
  }
}

describe('loadAuthEnv in development', () => {
  it('starts with nothing set, on the documented defaults', () => {
    const env = loadAuthEnv({});
    expect(env).toMatchObject({
      AUTH_PORT: 4001,
      HOST: '127.0.0.1',
      ACCESS_TOKEN_TTL_SECONDS: 900,
      AUTH_RATE_LIMIT_DISABLED: false,
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
    expect(rateLimitsFromEnv(env)).toEqual({ overrides: {}, disabled: false });
  });

  it('accepts a weak database password (only production insists)', () => {
    expect(problemsOf({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', AUTH_DB_PASSWORD: 'dev' })).toEqual(
      [],
    );
  });

  it('reads AUTH_RATE_LIMIT_* as per-field limits', () => {
    const env = loadAuthEnv({
      AUTH_RATE_LIMIT_REGISTER: '3/30m',
      AUTH_RATE_LIMIT_LOGIN: '20',
      AUTH_RATE_LIMIT_REFRESH: ' 60 / 2h ',
    });
    expect(rateLimitsFromEnv(env).overrides).toEqual({
      'Mutation.register': { max: 3, windowMs: 30 * 60_000 },
      'Mutation.login': { max: 20 },
      'Mutation.refresh': { max: 60, windowMs: 2 * 3_600_000 },
    });
    expect(rateLimitsFromEnv(loadAuthEnv({ AUTH_RATE_LIMIT_DISABLED: '1' })).disabled).toBe(true);
  });
});

describe('loadAuthEnv in production', () => {
  it('accepts a complete configuration', () => {
    expect(problemsOf(production)).toEqual([]);
  });

  it('lists every missing requirement at once', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'AUTH_SIGNING_KEYS: required in production',
      'INTERNAL_TOKEN_PUBLIC_KEY: required in production',
      'DATABASE_URL: required in production',
      'REDIS_URL: required in production',
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
      DATABASE_URL: 'postgres://postgres@db.internal:5432/supergraph',
      AUTH_DB_PASSWORD: 'password',
      ACCESS_TOKEN_TTL_SECONDS: '5',
      ARGON2_MEMORY_KIB: '1024',
      AUTH_SIGNING_KEYS: 'not json',
      AUTH_RATE_LIMIT_LOGIN: 'ten per hour',
      AUTH_RATE_LIMIT_DISABLED: 'true',
    });
    const names = problems.map((problem) => problem.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        'ACCESS_TOKEN_TTL_SECONDS',
        'ARGON2_MEMORY_KIB',
        'AUTH_SIGNING_KEYS',
        'AUTH_RATE_LIMIT_LOGIN',
        'INTERNAL_TOKEN_PUBLIC_KEY',
        'REDIS_URL',
        'AUTH_DB_PASSWORD',
        'AUTH_RATE_LIMIT_DISABLED',
      ]),
    );
    expect(names).not.toContain('DATABASE_URL');
  });
});
