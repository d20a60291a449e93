import { randomBytes, randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '@supergraph/db';
import { captureLogs, createRedis, loadScopeCatalog, type Tier } from '@supergraph/platform';
import type { GatewayOptions } from '@supergraph/gateway';
import {
  ALLOWED_ORIGIN,
  AUDIENCE,
  firstCode,
  ISSUER,
  LOGIN,
  newUser,
  postGraphQL,
  registerAndLogin,
  startStack,
  type Stack,
} from './harness.ts';

let stack: Stack;
const runPrefix = `test:${randomBytes(6).toString('hex')}:budget:`;
let gateways = 0;

beforeAll(async () => {
  stack = await startStack({ supergraph: 'probe' });
});

afterAll(async () => {
  if (!stack) return;
  const keys = await stack.redis.keys(`${runPrefix}*`);
  if (keys.length > 0) await stack.redis.del(...keys);
  await stack.stop();
});

/** A gateway over the stack whose budgets count in the stack's Redis under a prefix of its own (or `prefix`, to share). */
async function gatewayWithBudgets(
  tiers: NonNullable<GatewayOptions['budgets']>['tiers'],
  more: Partial<GatewayOptions> = {},
  prefix = `${runPrefix}${++gateways}:`,
) {
  return stack.startGatewayWith({ budgets: { redis: stack.redis, prefix, tiers }, ...more });
}

/** An access token as auth issues them, for a user that need not exist. */
async function accessToken(tier: Tier): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: randomUUID(), roles: ['user'], tier, scope: loadScopeCatalog().user.join(' ') })
    .setProtectedHeader({ alg: 'EdDSA', kid: String(stack.signingJwk.kid), typ: 'at+jwt' })
    .setSubject(randomUUID())
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(await importJWK(stack.signingJwk, 'EdDSA'));
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const rateLimitHeaders = (headers: Headers) => ({
  limit: headers.get('ratelimit-limit'),
  remaining: headers.get('ratelimit-remaining'),
  policy: headers.get('ratelimit-policy'),
});

describe('tier budgets at the gateway', () => {
  it('answers 429 with Retry-After and RATE_LIMITED once the minute budget is spent, before any subgraph', async () => {
    const gateway = await gatewayWithBudgets({ free: { perMinute: 3 } });
    const headers = { origin: ALLOWED_ORIGIN };
    for (const remaining of ['2', '1', '0']) {
      const admitted = await postGraphQL(gateway.url, { query: '{ probePublic }' }, headers);
      expect(admitted.status).toBe(200);
      expect(admitted.body.data).toEqual({ probePublic: 'public' });
      expect(rateLimitHeaders(admitted.headers)).toEqual({ limit: '3', remaining, policy: '3;w=60, 10000;w=86400' });
      const reset = Number(admitted.headers.get('ratelimit-reset'));
      expect(reset).toBeGreaterThanOrEqual(1);
      expect(reset).toBeLessThanOrEqual(60);
    }
    const probeRequests = stack.probe!.requests.length;
    const refused = await postGraphQL(gateway.url, { query: '{ probePublic }' }, headers);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.body.errors?.[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: retryAfter });
    expect(refused.body.data ?? null).toBeNull();
    expect(rateLimitHeaders(refused.headers)).toEqual({ limit: '3', remaining: '0', policy: '3;w=60, 10000;w=86400' });
    // A browser client may read all of it.
    expect(refused.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(refused.headers.get('access-control-expose-headers')).toMatch(/retry-after.*ratelimit-remaining/);
    expect(stack.probe!.requests.length).toBe(probeRequests);
  });

  it('sizes the budget by tier: a pro user gets more than a free one', async () => {
    const gateway = await gatewayWithBudgets({ free: { perMinute: 2 }, pro: { perMinute: 4 } });
    const spend = async (token: string) => {
      const statuses: number[] = [];
      const limits = new Set<string | null>();
      for (let call = 0; call < 5; call++) {
        const result = await postGraphQL(gateway.url, { query: '{ probePublic }' }, bearer(token));
        statuses.push(result.status);
        limits.add(result.headers.get('ratelimit-limit'));
      }
      return { statuses, limits: [...limits] };
    };
    expect(await spend(await accessToken('free'))).toEqual({
      statuses: [200, 200, 429, 429, 429],
      limits: ['2'],
    });
    expect(await spend(await accessToken('pro'))).toEqual({
      statuses: [200, 200, 200, 200, 429],
      limits: ['4'],
    });
    // The budget is the user's, not the address's: another free user from the same address starts afresh.
    expect((await spend(await accessToken('free'))).statuses).toEqual([200, 200, 429, 429, 429]);
  });

  it('is one budget across gateway instances counting in the same Redis', async () => {
    const prefix = `${runPrefix}shared:`;
    const first = await gatewayWithBudgets({ free: { perMinute: 4 } }, {}, prefix);
    const second = await gatewayWithBudgets({ free: { perMinute: 4 } }, {}, prefix);
    const remaining: Array<string | null> = [];
    for (const gateway of [first, second, first, second]) {
      const result = await postGraphQL(gateway.url, { query: '{ probePublic }' });
      expect(result.status).toBe(200);
      remaining.push(result.headers.get('ratelimit-remaining'));
    }
    expect(remaining).toEqual(['3', '2', '1', '0']);
    expect((await postGraphQL(first.url, { query: '{ probePublic }' })).status).toBe(429);
    expect((await postGraphQL(second.url, { query: '{ probePublic }' })).status).toBe(429);
  });

  it('cannot be escaped by spoofing X-Forwarded-For: the client is the entry the trusted proxy appended', async () => {
    const gateway = await gatewayWithBudgets({ free: { perMinute: 2 } }, { trustedProxyHops: 1 });
    const statuses: number[] = [];
    for (let call = 0; call < 4; call++) {
      const spoof = `203.0.113.${call + 1}, 10.0.${call}.1`;
      const result = await postGraphQL(
        gateway.url,
        { query: '{ probeWhoAmI { clientIp } }' },
        { 'x-forwarded-for': `${spoof}, 198.51.100.9` },
      );
      statuses.push(result.status);
      if (result.status === 200) expect(result.body.data?.['probeWhoAmI']).toEqual({ clientIp: '198.51.100.9' });
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
    const other = await postGraphQL(gateway.url, { query: '{ probePublic }' }, { 'x-forwarded-for': '198.51.100.10' });
    expect(other.status).toBe(200);
  });

  it('fails open within the check timeout when Redis is unreachable, and says so', async () => {
    const deadRedis = await createRedis('redis://127.0.0.1:1');
    const lines: string[] = [];
    const stopCapture = captureLogs((line) => lines.push(line));
    try {
      const gateway = await stack.startGatewayWith({
        budgets: { redis: deadRedis, prefix: `${runPrefix}dead:`, tiers: { free: { perMinute: 1 } } },
      });
      for (let call = 0; call < 3; call++) {
        const started = performance.now();
        const result = await postGraphQL(gateway.url, { query: '{ probePublic }' });
        expect(result.status).toBe(200);
        expect(result.headers.get('ratelimit-limit')).toBeNull();
        expect(performance.now() - started).toBeLessThan(1_000);
      }
      // A structured warning in the gateway's log, not a console line.
      const warnings = lines.map((line) => JSON.parse(line) as { level: string; msg: string; service: string });
      expect(
        warnings.some(
          (line) => line.level === 'warn' && line.service === 'gateway' && /\[budgets\] not enforced/.test(line.msg),
        ),
      ).toBe(true);
    } finally {
      stopCapture();
      deadRedis.disconnect();
    }
  });
});

describe('admin IP allowlist', () => {
  const ADMIN_QUERY = '{ users(first: 1) { pageInfo { hasNextPage } } }';
  let admin: Record<string, string>;

  beforeAll(async () => {
    // No API makes the first admin: promote in the database, as an operator would, then log in again for the scopes.
    const registered = await registerAndLogin(stack, 'admin');
    const owner = createDatabase<{ users: { id: string; role: string } }>(stack.db.target, { schema: 'auth' });
    try {
      await sql`update auth.users set role = 'admin' where id = ${registered.userId}`.execute(owner.db);
    } finally {
      await owner.close();
    }
    const login = await stack.gql(LOGIN, {
      input: { usernameOrEmail: registered.username, password: newUser().password },
    });
    admin = bearer((login.body.data?.['login'] as { accessToken: string }).accessToken);
  });

  it('refuses admin-scoped operations from outside the allowlist with 403 before any subgraph, spoofing included', async () => {
    const gateway = await stack.startGatewayWith({
      adminIpAllowlist: ['10.1.0.0/16', '2001:db8::/32'],
      trustedProxyHops: 1,
    });
    // Non-admin fields are not affected (this also fetches the gateway's JWKS from auth before counting).
    const open = await postGraphQL(
      gateway.url,
      { query: '{ probePublic }' },
      { ...admin, 'x-forwarded-for': '203.0.113.5' },
    );
    expect(open.body).toEqual({ data: { probePublic: 'public' } });

    const before = stack.authRequests();
    // The leftmost entry is the client's own claim; the proxy saw 203.0.113.5.
    const spoofed = await postGraphQL(
      gateway.url,
      { query: ADMIN_QUERY },
      { ...admin, 'x-forwarded-for': '10.1.2.3, 203.0.113.5' },
    );
    expect(spoofed.status).toBe(403);
    expect(firstCode(spoofed)).toBe('FORBIDDEN');
    expect(spoofed.body.data ?? null).toBeNull();
    expect(spoofed.body.errors?.[0]?.message).not.toMatch(/203\.0\.113\.5|10\.1/);
    const fragment = await postGraphQL(
      gateway.url,
      { query: `fragment F on Query { users(first: 1) { pageInfo { hasNextPage } } } query { ...F }` },
      { ...admin, 'x-forwarded-for': '::ffff:198.51.100.1' },
    );
    expect(fragment.status).toBe(403);
    expect(stack.authRequests()).toBe(before);
  });

  it('lets admin operations through from an allowed address (IPv4, IPv4-mapped or IPv6)', async () => {
    const gateway = await stack.startGatewayWith({
      adminIpAllowlist: ['10.1.0.0/16', '2001:db8::/32'],
      trustedProxyHops: 1,
    });
    for (const client of ['10.1.2.3', '::ffff:10.1.9.9', '2001:db8:5::1']) {
      const result = await postGraphQL(
        gateway.url,
        { query: ADMIN_QUERY },
        { ...admin, 'x-forwarded-for': `203.0.113.5, ${client}` },
      );
      expect(result.body.errors).toBeUndefined();
      expect(result.body.data).toEqual({ users: { pageInfo: { hasNextPage: expect.any(Boolean) } } });
    }
  });

  it('applies to nobody when unset: the stack gateway serves the admin from anywhere', async () => {
    const result = await stack.gql(ADMIN_QUERY, undefined, admin);
    expect(result.body.errors).toBeUndefined();
  });
});
