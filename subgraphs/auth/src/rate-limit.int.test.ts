import { randomInt } from 'node:crypto';
import type { Identity } from '@supergraph/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANONYMOUS,
  AuthHarness,
  PAYLOAD_FIELDS,
  STRONG_PASSWORD,
  firstError,
  identityFor,
  type GraphQLResult,
} from '../test/harness.ts';
import { startAuthSubgraph } from './server.ts';

const REGISTER = `mutation ($input: RegisterInput!) { register(input: $input) { id } }`;
const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { ${PAYLOAD_FIELDS} } }`;
const REFRESH = `mutation ($token: String!) { refresh(refreshToken: $token) { accessToken } }`;
const HOUR_SECONDS = 3600;

let harness: AuthHarness;

beforeAll(async () => {
  // The SDL's limits (register 5/h, login 10/h, refresh 30/h), counted in REDIS_URL's Redis when set.
  harness = await AuthHarness.start({}, { rateLimits: {} });
});

afterAll(async () => {
  await harness?.stop();
});

/**
 * A fresh address in a /64 of its own per call, so tests sharing the harness
 * (and its Redis prefix) never share a bucket, nor a network for the
 * per-account login backoff (which groups IPv6 clients by /64).
 */
function newIp(): string {
  return `2001:db8:${randomInt(1, 0xffff).toString(16)}:${randomInt(1, 0xffff).toString(16)}::1`;
}

function anonymousFrom(clientIp: string): Identity {
  return { ...ANONYMOUS, clientIp };
}

function registerVariables() {
  const username = harness.uniqueName('rl');
  return { input: { username, email: `${username.toLowerCase()}@example.com`, password: STRONG_PASSWORD } };
}

function codeOf(result: GraphQLResult<unknown>): string {
  return firstError(result).code ?? 'OK';
}

function expectRateLimited(result: GraphQLResult<unknown>): void {
  expect(result.status).toBe(200);
  expect(codeOf(result)).toBe('RATE_LIMITED');
  const retryAfter = result.errors?.[0]?.extensions?.['retryAfterSeconds'];
  expect(typeof retryAfter).toBe('number');
  expect(retryAfter).toBeGreaterThan(HOUR_SECONDS - 120);
  // +1: ioredis-mock's TIME rounds seconds and takes microseconds from hrtime, so it can step back by up to 1 s.
  expect(retryAfter).toBeLessThanOrEqual(HOUR_SECONDS + 1);
}

describe('register (5 per client IP per hour)', () => {
  it('refuses the 6th registration from one IP with RATE_LIMITED and the retry time; another IP is unaffected', async () => {
    const ip = newIp();
    for (let i = 0; i < 5; i += 1) {
      expect(codeOf(await harness.gql(REGISTER, registerVariables(), anonymousFrom(ip)))).toBe('OK');
    }
    const sixth = registerVariables();
    const refused = await harness.gql(REGISTER, sixth, anonymousFrom(ip));
    expectRateLimited(refused);
    expect(refused.data).toBeNull();
    // Refused before any work: the user was not created.
    const created = await harness.db
      .selectFrom('users')
      .select('id')
      .where('username', '=', sixth.input.username)
      .executeTakeFirst();
    expect(created).toBeUndefined();

    expect(codeOf(await harness.gql(REGISTER, registerVariables(), anonymousFrom(newIp())))).toBe('OK');
  });

  it('counts by IP even for signed-in callers, whatever their tier: a token buys no fresh budget', async () => {
    const ip = newIp();
    for (let i = 0; i < 5; i += 1) {
      expect(codeOf(await harness.gql(REGISTER, registerVariables(), anonymousFrom(ip)))).toBe('OK');
    }
    const someone = await harness.register();
    const signedIn = identityFor(someone.id, 'user', { tier: 'enterprise', clientIp: ip });
    expectRateLimited(await harness.gql(REGISTER, registerVariables(), signedIn));
  });

  it('counts invalid attempts too (they probe which names are taken)', async () => {
    const ip = newIp();
    const taken = await harness.register();
    for (let i = 0; i < 5; i += 1) {
      const duplicate = { input: { username: taken.username, email: taken.email, password: STRONG_PASSWORD } };
      expect(codeOf(await harness.gql(REGISTER, duplicate, anonymousFrom(ip)))).toBe('BAD_USER_INPUT');
    }
    expectRateLimited(await harness.gql(REGISTER, registerVariables(), anonymousFrom(ip)));
  });

  it('shares one budget across instances using the same Redis', async () => {
    const second = await harness.startServer();
    try {
      const ip = newIp();
      const urls = [harness.server.url, second.url];
      const codes: string[] = [];
      for (let i = 0; i < 6; i += 1) {
        codes.push(codeOf(await harness.gql(REGISTER, registerVariables(), anonymousFrom(ip), { url: urls[i % 2] })));
      }
      expect(codes).toEqual(['OK', 'OK', 'OK', 'OK', 'OK', 'RATE_LIMITED']);
    } finally {
      await second.stop();
    }
  });
});

describe('login (10 attempts per client IP per hour)', () => {
  it('refuses the 11th attempt, even with the right password; another IP still logs in', async () => {
    const user = await harness.register();
    const ip = newIp();
    for (let i = 0; i < 10; i += 1) {
      const attempt = await harness.gql(
        LOGIN,
        { input: { usernameOrEmail: user.username, password: 'Wrong-password-123' } },
        anonymousFrom(ip),
      );
      expect(codeOf(attempt)).toBe('UNAUTHENTICATED');
    }
    const refused = await harness.gql(
      LOGIN,
      { input: { usernameOrEmail: user.username, password: STRONG_PASSWORD } },
      anonymousFrom(ip),
    );
    expectRateLimited(refused);
    expect(refused.data).toBeNull();

    expect(
      codeOf(
        await harness.gql(
          LOGIN,
          { input: { usernameOrEmail: user.username, password: STRONG_PASSWORD } },
          anonymousFrom(newIp()),
        ),
      ),
    ).toBe('OK');
  });

  it('admits exactly 10 of 14 concurrent attempts from one IP (the counter is atomic)', async () => {
    const ip = newIp();
    const attempts = await Promise.all(
      Array.from({ length: 14 }, () =>
        harness.gql(
          LOGIN,
          { input: { usernameOrEmail: 'nobody_here', password: 'Wrong-password-123' } },
          anonymousFrom(ip),
        ),
      ),
    );
    const codes = attempts.map(codeOf);
    expect(codes.filter((code) => code === 'UNAUTHENTICATED')).toHaveLength(10);
    expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(4);
  });
});

describe('refresh (30 per client IP per hour)', () => {
  it('refuses the 31st call from one IP; another IP can still refresh', async () => {
    const { payload } = await harness.signUp();
    const ip = newIp();
    for (let i = 0; i < 30; i += 1) {
      expect(codeOf(await harness.gql(REFRESH, { token: `not-a-token-${i}` }, anonymousFrom(ip)))).toBe(
        'UNAUTHENTICATED',
      );
    }
    expectRateLimited(await harness.gql(REFRESH, { token: payload.refreshToken }, anonymousFrom(ip)));
    expect(codeOf(await harness.gql(REFRESH, { token: payload.refreshToken }, anonymousFrom(newIp())))).toBe('OK');
  });
});

describe('configuration', () => {
  it('takes lower limits per field, and can be switched off', async () => {
    const base = {
      target: harness.target,
      internalTokenKey: harness.internalVerifyKey,
      config: harness.config,
      redis: harness.redis,
    };
    const strict = await startAuthSubgraph(
      { ...base, rateLimits: { prefix: harness.rateLimitPrefix, overrides: { 'Mutation.register': { max: 1 } } } },
      0,
    );
    const open = await startAuthSubgraph(
      { ...base, rateLimits: { prefix: harness.rateLimitPrefix, disabled: true } },
      0,
    );
    try {
      const ip = newIp();
      const strictCodes: string[] = [];
      for (let i = 0; i < 2; i += 1) {
        strictCodes.push(
          codeOf(await harness.gql(REGISTER, registerVariables(), anonymousFrom(ip), { url: strict.url })),
        );
      }
      expect(strictCodes).toEqual(['OK', 'RATE_LIMITED']);

      const openCodes: string[] = [];
      for (let i = 0; i < 7; i += 1) {
        openCodes.push(codeOf(await harness.gql(REGISTER, registerVariables(), anonymousFrom(ip), { url: open.url })));
      }
      expect(openCodes).toEqual(Array(7).fill('OK'));
    } finally {
      await strict.stop();
      await open.stop();
    }
  });

  it('refuses to start with an override for a field that has no limit', async () => {
    await expect(
      startAuthSubgraph(
        {
          target: harness.target,
          internalTokenKey: harness.internalVerifyKey,
          config: harness.config,
          redis: harness.redis,
          rateLimits: { overrides: { 'Mutation.logout': { max: 1 } } },
        },
        0,
      ),
    ).rejects.toThrow(/Mutation\.logout/);
  });
});
