import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis as RedisClient } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_STREAM, createAuditLog, looksLikeCredential, parseAuditEntry, redactAuditDetails } from './audit.ts';
import { createRedis, REDIS_CLIENT_OPTIONS, type Redis } from './redis.ts';

const prefix = `test:${randomBytes(6).toString('hex')}:`;

async function deadRedis(): Promise<Redis> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const client = new RedisClient(`redis://127.0.0.1:${port}`, { ...REDIS_CLIENT_OPTIONS });
  client.on('error', () => {});
  return client;
}

describe('audit redaction', () => {
  it('drops credential-named keys and redacts credential-shaped values, keeping ids and plain words', () => {
    const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl';
    expect(
      redactAuditDetails({
        password: 'hunter2',
        newPassword: 'x',
        accessToken: 't',
        refresh_token: 't',
        clientSecret: 's',
        Authorization: 'Bearer x',
        cookie: 'c',
        key: 'k',
        providerKey: 'sk-abc',
        apiKey: 'sg_x',
        keyId: '0b5e2c1e-7f4b-4c3a-9d2e-1a2b3c4d5e6f',
        provider: 'openai',
        username: 'ada',
        note: `Bearer ${jwt}`,
        pasted: 'sk-proj-abcdefghijklmnop',
        ours: `sg_${'A'.repeat(43)}`,
        hex: 'f'.repeat(64),
        count: 3,
        flag: true,
        none: null,
      }),
    ).toEqual({
      keyId: '0b5e2c1e-7f4b-4c3a-9d2e-1a2b3c4d5e6f',
      provider: 'openai',
      username: 'ada',
      note: '[redacted]',
      pasted: '[redacted]',
      ours: '[redacted]',
      hex: '[redacted]',
      count: 3,
      flag: true,
      none: null,
    });
    expect(looksLikeCredential('user 0b5e2c1e-7f4b-4c3a-9d2e-1a2b3c4d5e6f became admin')).toBe(false);
    expect(looksLikeCredential('ingestKnowledgeBatch')).toBe(false);
  });
});

describe('createAuditLog (Redis when REDIS_URL is set, ioredis-mock otherwise)', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await createRedis(process.env['REDIS_URL']);
  });
  afterAll(async () => {
    await redis.del(`${prefix}${AUDIT_STREAM}`);
    redis.disconnect();
  });

  it('XADDs one entry per event with its id, time, service and redacted details', async () => {
    const audit = createAuditLog(redis, { service: 'auth', prefix });
    audit.record({
      type: 'auth.login_failed',
      actorId: null,
      subjectId: null,
      ip: '203.0.113.7',
      outcome: 'failure',
      details: { username: 'ada', password: 'correct horse battery staple' },
    });
    audit.record({
      type: 'auth.role_changed',
      actorId: 'a1',
      subjectId: 'u1',
      ip: null,
      outcome: 'success',
      details: { from: 'user', to: 'admin' },
      at: '2030-01-01T00:00:00.000Z',
    });
    await audit.flush();
    const entries = await redis.xrange(`${prefix}${AUDIT_STREAM}`, '-', '+');
    expect(entries).toHaveLength(2);
    const [failed, changed] = entries.map(([, fields]) => parseAuditEntry(fields));
    expect(failed).toMatchObject({
      type: 'auth.login_failed',
      service: 'auth',
      ip: '203.0.113.7',
      outcome: 'failure',
      details: { username: 'ada' },
    });
    expect(failed!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Date.parse(failed!.at)).not.toBeNaN();
    expect(changed).toMatchObject({ at: '2030-01-01T00:00:00.000Z', actorId: 'a1', subjectId: 'u1' });
    expect(JSON.stringify(entries)).not.toContain('correct horse');
    expect(audit.dropped()).toBe(0);
    expect(parseAuditEntry(['other', '{}'])).toBeNull();
    expect(parseAuditEntry(['event', 'not json'])).toBeNull();
  });

  it('with Redis unreachable: record returns at once and never throws; losses are counted and logged once', async () => {
    const dead = await deadRedis();
    const logs: string[] = [];
    const audit = createAuditLog(dead, { service: 'auth', prefix, log: (line) => logs.push(line) });
    try {
      const started = performance.now();
      for (let index = 0; index < 20; index += 1) {
        audit.record({ type: 'auth.logout', actorId: 'u', subjectId: 'u', ip: null, outcome: 'success', details: {} });
      }
      expect(performance.now() - started).toBeLessThan(500);
      await audit.flush();
      expect(audit.dropped()).toBe(20);
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatch(/dropped 1 audit event/);
    } finally {
      dead.disconnect();
    }
  });

  it('a closed client is an outage too', async () => {
    const client = await createRedis(process.env['REDIS_URL']);
    client.disconnect();
    const audit = createAuditLog(client, { service: 'auth', prefix, log: () => {} });
    expect(() =>
      audit.record({ type: 'auth.logout', actorId: 'u', subjectId: 'u', ip: null, outcome: 'success', details: {} }),
    ).not.toThrow();
    await audit.flush();
    // ioredis-mock keeps answering after disconnect; a real client refuses.
    if (process.env['REDIS_URL']) expect(audit.dropped()).toBe(1);
  });
});
