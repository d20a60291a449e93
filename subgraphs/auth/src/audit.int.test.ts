import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis as RedisClient } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_STREAM,
  createAuditLog,
  parseAuditEntry,
  REDIS_CLIENT_OPTIONS,
  type AuditEvent,
} from '@supergraph/platform';
import { startAuthSubgraph } from './server.ts';
import { ANONYMOUS, AuthHarness, PAYLOAD_FIELDS, STRONG_PASSWORD, type LoginPayload } from '../test/harness.ts';

const CLIENT_IP = '203.0.113.9';
const NEW_PASSWORD = 'Another-Horse-77-staple';
const WRONG_PASSWORD = 'Wrong-Horse-13-battery';

let harness: AuthHarness;

beforeAll(async () => {
  harness = await AuthHarness.start();
});

afterAll(async () => {
  await harness?.stop();
});

/** Every audit event in the run's stream, read back with XRANGE, once at least `count` of `types` are there. */
async function auditEvents(until: (events: AuditEvent[]) => boolean): Promise<{ raw: string; events: AuditEvent[] }> {
  const stream = `${harness.services.keyPrefix}${AUDIT_STREAM}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const entries = await harness.redis.xrange(stream, '-', '+');
    const events = entries.map(([, fields]) => parseAuditEntry(fields)).filter((event) => event !== null);
    if (until(events)) return { raw: JSON.stringify(entries), events };
    if (Date.now() > deadline) throw new Error(`audit events not there in time: ${JSON.stringify(events)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('audit events from the auth subgraph', () => {
  it('records every account and admin change with actor, subject and ip, and never a password, token or key', async () => {
    const user = await harness.register();
    const failed = await harness.gql(
      `mutation ($input: LoginInput!) { login(input: $input) { accessToken } }`,
      { input: { usernameOrEmail: user.username, password: WRONG_PASSWORD } },
      { ...ANONYMOUS, clientIp: CLIENT_IP },
    );
    expect(failed.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const login = await harness.ok<{ login: LoginPayload }>(
      `mutation ($input: LoginInput!) { login(input: $input) { ${PAYLOAD_FIELDS} } }`,
      { input: { usernameOrEmail: user.username, password: STRONG_PASSWORD } },
    );
    const identity = { ...(await harness.identityFromAccessToken(login.login.accessToken)), clientIp: CLIENT_IP };

    await harness.ok(
      'mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }',
      { c: STRONG_PASSWORD, n: NEW_PASSWORD },
      identity,
    );
    const created = await harness.ok<{ createApiKey: { key: string; apiKey: { id: string } } }>(
      'mutation ($name: String!, $scopes: [String!]!) { createApiKey(name: $name, scopes: $scopes) { key apiKey { id } } }',
      { name: 'ci', scopes: ['knowledge:read'] },
      identity,
    );
    await harness.ok(
      'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }',
      { id: created.createApiKey.apiKey.id },
      identity,
    );
    const providerKey = `sk-proj-${'q7Zx'.repeat(10)}`;
    await harness.ok(
      'mutation ($p: String!, $k: String!) { setProviderKey(provider: $p, key: $k) { provider } }',
      { p: 'openai', k: providerKey },
      identity,
    );
    await harness.ok('mutation { removeProviderKey(provider: "openai") }', {}, identity);

    const admin = await harness.signUp();
    const adminIdentity = { ...(await harness.makeAdmin(admin.user.id)), clientIp: CLIENT_IP };
    const id = user.id;
    await harness.ok('mutation ($id: ID!) { setUserRole(userId: $id, role: ADMIN) { id } }', { id }, adminIdentity);
    await harness.ok('mutation ($id: ID!) { setUserTier(userId: $id, tier: PRO) { id } }', { id }, adminIdentity);
    await harness.ok('mutation ($id: ID!) { deactivateUser(userId: $id) { id } }', { id }, adminIdentity);
    await harness.ok('mutation ($id: ID!) { reactivateUser(userId: $id) { id } }', { id }, adminIdentity);
    await harness.ok('mutation { logoutEverywhere }', {}, identity);
    await harness.ok('mutation { logout }', {}, identity);

    const expected: AuditEvent['type'][] = [
      'auth.registered',
      'auth.login_failed',
      'auth.login',
      'auth.password_changed',
      'auth.api_key_created',
      'auth.api_key_revoked',
      'auth.provider_key_set',
      'auth.provider_key_removed',
      'auth.role_changed',
      'auth.tier_changed',
      'auth.user_deactivated',
      'auth.user_reactivated',
      'auth.logout_everywhere',
      'auth.logout',
    ];
    const { raw, events } = await auditEvents((all) =>
      expected.every((type) => all.some((event) => event.type === type && (event.subjectId ?? id) === id)),
    );
    const about = events.filter((event) => event.subjectId === id || event.type === 'auth.login_failed');
    const of = (type: AuditEvent['type']) => about.find((event) => event.type === type)!;

    expect(of('auth.registered')).toMatchObject({ service: 'auth', actorId: id, outcome: 'success' });
    expect(of('auth.login_failed')).toMatchObject({
      actorId: null,
      subjectId: null,
      ip: CLIENT_IP,
      outcome: 'failure',
      details: { username: user.username },
    });
    expect(of('auth.password_changed')).toMatchObject({ actorId: id, subjectId: id, ip: CLIENT_IP });
    expect(of('auth.api_key_created').details).toMatchObject({ keyId: created.createApiKey.apiKey.id, name: 'ci' });
    expect(of('auth.provider_key_set').details).toEqual({ provider: 'openai' });
    expect(of('auth.role_changed')).toMatchObject({
      actorId: admin.user.id,
      subjectId: id,
      ip: CLIENT_IP,
      details: { from: 'user', to: 'admin' },
    });
    expect(of('auth.tier_changed').details).toEqual({ from: 'free', to: 'pro' });
    expect(of('auth.user_deactivated')).toMatchObject({ actorId: admin.user.id, subjectId: id });

    for (const secret of [
      STRONG_PASSWORD,
      NEW_PASSWORD,
      WRONG_PASSWORD,
      login.login.accessToken,
      login.login.refreshToken,
      login.login.sessionToken,
      created.createApiKey.key,
      created.createApiKey.key.slice(11),
      providerKey,
      providerKey.slice(8, 24),
    ]) {
      expect(raw).not.toContain(secret);
    }
  });

  it('with Redis unreachable for the audit log: logins still succeed, and the loss is counted', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const dead = new RedisClient(`redis://127.0.0.1:${port}`, { ...REDIS_CLIENT_OPTIONS });
    dead.on('error', () => {});
    const warnings: string[] = [];
    const audit = createAuditLog(dead, { service: 'auth', log: (line) => warnings.push(line) });
    const other = await startAuthSubgraph(
      {
        target: harness.target,
        internalTokenKey: harness.internalVerifyKey,
        config: harness.config,
        redis: harness.redis,
        rateLimits: harness.rateLimits,
        audit,
      },
      0,
    );
    try {
      const user = await harness.register();
      const started = performance.now();
      const result = await harness.gql<{ login: { accessToken: string } }>(
        `mutation ($input: LoginInput!) { login(input: $input) { accessToken } }`,
        { input: { usernameOrEmail: user.username, password: STRONG_PASSWORD } },
        undefined,
        { url: other.url },
      );
      expect(result.errors).toBeUndefined();
      expect(result.data?.login.accessToken).toBeTruthy();
      expect(performance.now() - started).toBeLessThan(10_000);
      await audit.flush();
      expect(audit.dropped()).toBeGreaterThanOrEqual(1);
      expect(warnings.join('\n')).toMatch(/dropped 1 audit event/);
    } finally {
      await other.stop();
      dead.disconnect();
    }
  });
});
