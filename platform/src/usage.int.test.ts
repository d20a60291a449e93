import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis as RedisClient } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, REDIS_CLIENT_OPTIONS, type Redis } from './redis.ts';
import { createUsageRecorder, parseUsageEntry, USAGE_STREAM, type UsageRecord } from './usage.ts';

const prefix = `test:${randomBytes(6).toString('hex')}:`;
const stream = `${prefix}${USAGE_STREAM}`;

function record(index: number): Omit<UsageRecord, 'id'> {
  return {
    at: new Date().toISOString(),
    userId: `u${index}`,
    operationName: 'Me',
    operationType: 'query',
    status: 'ok',
    errorCodes: [],
    latencyMs: 3,
    subgraphs: ['auth'],
  };
}

async function eventually(check: () => Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('not within the deadline');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('createUsageRecorder (Redis when REDIS_URL is set, ioredis-mock otherwise)', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await createRedis(process.env['REDIS_URL']);
  });
  afterAll(async () => {
    await redis.del(stream);
    redis.disconnect();
  });

  it('sends nothing on record, then the whole batch on the timer, each entry a parseable record with an id', async () => {
    const usage = createUsageRecorder(redis, { prefix, flushMs: 50 });
    try {
      for (let index = 0; index < 3; index += 1) usage.record(record(index));
      expect(await redis.xlen(stream)).toBe(0);
      await eventually(async () => (await redis.xlen(stream)) === 3);
      const entries = await redis.xrange(stream, '-', '+');
      const records = entries.map(([, fields]) => parseUsageEntry(fields));
      expect(records.map((entry) => entry?.userId)).toEqual(['u0', 'u1', 'u2']);
      expect(new Set(records.map((entry) => entry?.id)).size).toBe(3);
      expect(records[0]).toMatchObject({ operationName: 'Me', operationType: 'query', subgraphs: ['auth'] });
    } finally {
      await usage.close();
      await redis.del(stream);
    }
  });

  it('flushes a full batch of 500 without waiting for the timer', async () => {
    const usage = createUsageRecorder(redis, { prefix, flushMs: 3_600_000 });
    try {
      for (let index = 0; index < 500; index += 1) usage.record(record(index));
      await eventually(async () => (await redis.xlen(stream)) === 500);
    } finally {
      await usage.close();
      await redis.del(stream);
    }
  });

  it('with Redis unreachable: keeps up to 10,000 for the next try, then drops and counts, logged once', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const dead = new RedisClient(`redis://127.0.0.1:${port}`, { ...REDIS_CLIENT_OPTIONS });
    dead.on('error', () => {});
    const logs: string[] = [];
    const usage = createUsageRecorder(dead, { prefix, flushMs: 3_600_000, log: (line) => logs.push(line) });
    try {
      const started = performance.now();
      for (let index = 0; index < 10_250; index += 1) usage.record(record(index));
      expect(performance.now() - started).toBeLessThan(2_000);
      await usage.flush();
      expect(usage.dropped()).toBe(250);
      expect(logs.length).toBeGreaterThanOrEqual(1);
      expect(logs.length).toBeLessThanOrEqual(2);
    } finally {
      await usage.close();
      dead.disconnect();
    }
  });
});
