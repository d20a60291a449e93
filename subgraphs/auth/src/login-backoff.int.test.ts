import { randomBytes } from 'node:crypto';
import type { Identity } from '@supergraph/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANONYMOUS,
  AuthHarness,
  PAYLOAD_FIELDS,
  STRONG_PASSWORD,
  firstError,
  type GraphQLResult,
} from '../test/harness.ts';
import { backoffDelayMs, createLoginBackoff, DEFAULT_LOGIN_BACKOFF } from './login-backoff.ts';

/**
 * Finding 10 of the security run: 30 wrong passwords from 3 IPs, then the
 * right one from a 4th, signed in (the per-IP limit alone cannot see an
 * attack spread over addresses). The per-account backoff must stop that, and
 * must not let the attacker keep the owner out.
 */

const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { ${PAYLOAD_FIELDS} } }`;
const WAIT_MS = 60_000;

let harness: AuthHarness;

beforeAll(async () => {
  // The SDL's per-IP limits (login 10/h), as in production; a first wait long enough that no test outlives it.
  harness = await AuthHarness.start({}, { rateLimits: { loginBackoff: { baseDelayMs: WAIT_MS } } });
});

afterAll(async () => {
  await harness?.stop();
});

function from(clientIp: string): Identity {
  return { ...ANONYMOUS, clientIp };
}

function login(usernameOrEmail: string, password: string, clientIp: string): Promise<GraphQLResult<unknown>> {
  return harness.gql(LOGIN, { input: { usernameOrEmail, password } }, from(clientIp));
}

function codeOf(result: GraphQLResult<unknown>): string {
  return firstError(result).code ?? 'OK';
}

/** A /24 of its own per call (IPv4 in 10/8, test-only), so tests never share a network. */
function newNetwork(): (host: number) => string {
  const [a, b] = randomBytes(2);
  return (host) => `10.${a}.${b}.${host}`;
}

describe('per-account login backoff', () => {
  it('stops 30 wrong passwords from 3 networks and then the right one from a 4th address in theirs; the owner still signs in from elsewhere', async () => {
    const owner = await harness.register();
    const attackers = [newNetwork(), newNetwork(), newNetwork()];
    const codes: string[] = [];
    const waits: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      // Username and e-mail name the same account: they share one count.
      const result = await login(i % 2 ? owner.username : owner.email, `Wrong-password-${i}`, attackers[i % 3]!(7));
      codes.push(codeOf(result));
      if (codeOf(result) === 'RATE_LIMITED')
        waits.push(result.errors?.[0]?.extensions?.['retryAfterSeconds'] as number);
    }
    expect(codes.slice(0, DEFAULT_LOGIN_BACKOFF.freeFailures)).toEqual(Array(10).fill('UNAUTHENTICATED'));
    expect(codes.slice(DEFAULT_LOGIN_BACKOFF.freeFailures)).toEqual(Array(20).fill('RATE_LIMITED'));
    // The in-process stand-in's TIME has whole seconds (and rounds up a retry by one); real Redis has milliseconds.
    const clockSlackSeconds = process.env['REDIS_URL'] ? 0 : 1;
    for (const wait of waits) {
      expect(wait).toBeGreaterThan(WAIT_MS / 1000 - 30);
      expect(wait).toBeLessThanOrEqual(WAIT_MS / 1000 + clockSlackSeconds);
    }

    // The right password from a fresh address inside an attacking network (its per-IP budget untouched): refused.
    const guessed = await login(owner.username, STRONG_PASSWORD, attackers[0]!(99));
    expect(codeOf(guessed)).toBe('RATE_LIMITED');
    expect(firstError(guessed).message).toMatch(/failed sign-ins for this account/);

    // The owner, from a network that made no attempt: signed in, no lockout.
    const signedIn = await login(owner.username, STRONG_PASSWORD, '2001:db8:4b1d:1::5');
    expect(codeOf(signedIn)).toBe('OK');
    // ...which frees only the owner's network, not the attackers'.
    expect(codeOf(await login(owner.username, STRONG_PASSWORD, attackers[1]!(98)))).toBe('RATE_LIMITED');
    expect(codeOf(await login(owner.username, STRONG_PASSWORD, '2001:db8:4b1d:1::77'))).toBe('OK');
  });

  it('other accounts are untouched by one account being attacked', async () => {
    const target = await harness.register();
    const bystander = await harness.register();
    const network = newNetwork();
    for (let i = 0; i < 10; i += 1) {
      expect(codeOf(await login(target.username, `Wrong-password-${i}`, network(i % 5)))).toBe('UNAUTHENTICATED');
    }
    expect(codeOf(await login(target.username, STRONG_PASSWORD, network(200)))).toBe('RATE_LIMITED');
    expect(codeOf(await login(bystander.username, STRONG_PASSWORD, network(201)))).toBe('OK');
  });

  it('a burst from one fresh network, once the account is past its free failures, gets one attempt, not one per request', async () => {
    const target = await harness.register();
    const network = newNetwork();
    for (let i = 0; i < 10; i += 1) {
      expect(codeOf(await login(target.email, `Wrong-password-${i}`, network(i)))).toBe('UNAUTHENTICATED');
    }
    const burst = newNetwork();
    const codes = (
      await Promise.all(
        Array.from({ length: 8 }, (_, i) => login(target.username, `Wrong-password-burst-${i}`, burst(i + 1))),
      )
    ).map(codeOf);
    expect(codes.filter((code) => code === 'UNAUTHENTICATED')).toHaveLength(1);
    expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(7);
  });
});

describe('the wait grows with each admitted failure and never locks', () => {
  it('doubles per failure past the free ones, up to the maximum', () => {
    const policy = { ...DEFAULT_LOGIN_BACKOFF, freeFailures: 3, baseDelayMs: 1_000, maxDelayMs: 10_000 };
    expect([0, 2, 3, 4, 5, 6, 7, 100].map((failures) => backoffDelayMs(failures, policy))).toEqual([
      0, 0, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000,
    ]);
  });

  it('in Redis: a marked network waits base × 2^(failures − free); a clean one is let in; success clears the mark', async () => {
    const prefix = `${harness.rateLimitPrefix}unit:`;
    const backoff = createLoginBackoff(harness.redis, prefix, { freeFailures: 2, baseDelayMs: 10_000 });
    const account = `user:${randomBytes(8).toString('hex')}`;
    const marked = { account, network: '198.51.100.0/24' };
    const clean = { account, network: '2001:db8:1:2::/64' };

    expect(await backoff.admit(marked)).toBe(0);
    await backoff.recordFailure(marked);
    expect(await backoff.admit(marked)).toBe(0);
    await backoff.recordFailure(marked);
    const first = await backoff.admit(marked);
    expect(first).toBeGreaterThan(9_000);
    expect(first).toBeLessThanOrEqual(10_000);

    // A network with no attempt goes ahead (and is marked by doing so)...
    expect(await backoff.admit(clean)).toBe(0);
    await backoff.recordFailure(clean);
    // ...and each admitted failure doubles the wait.
    const second = await backoff.admit(marked);
    expect(second).toBeGreaterThan(19_000);
    expect(second).toBeLessThanOrEqual(20_000);
    expect(await backoff.admit(clean)).toBeGreaterThan(19_000);

    await backoff.recordSuccess(clean);
    expect(await backoff.admit(clean)).toBe(0);
    expect(await backoff.admit(marked)).toBeGreaterThan(19_000);
  });
});
