import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from './redis.ts';
import {
  createInProcessRevocations,
  createRedisRevocationPublisher,
  RevocationMap,
  revocationKeys,
  subscribeToRevocations,
} from './revocations.ts';

const REDIS_URL = process.env['REDIS_URL'];
const prefix = `test:${randomBytes(6).toString('hex')}:`;

async function eventually(check: () => boolean, deadlineMs = 5_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('not within the deadline');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('RevocationMap', () => {
  it('keeps the latest revocation per key, whatever order they arrive in', () => {
    const map = new RevocationMap();
    const now = Date.now();
    expect(map.apply({ kind: 'user', id: 'A', revokedBefore: now })).toBe(true);
    expect(map.apply({ kind: 'user', id: 'a', revokedBefore: now - 1_000 })).toBe(false);
    expect(map.revokedBefore('user', 'a')).toBe(now);
    expect(map.revokedBefore('session', 'a')).toBeUndefined();
  });

  it('in process: a publish reaches the list at once', async () => {
    const { publisher, list } = createInProcessRevocations();
    await publisher.publish('session', 's1', 42);
    expect(list.revokedBefore('session', 's1')).toBe(42);
  });
});

describe.skipIf(!REDIS_URL)('revocations over a real Redis', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await createRedis(REDIS_URL);
  });
  afterAll(async () => {
    const keys = revocationKeys(prefix);
    await redis.del(keys.hash, keys.expiry);
    redis.disconnect();
  });

  it('is monotonic in Redis too, loads the stored set at start, and resubscribes and reloads after a lost connection', async () => {
    const publisher = createRedisRevocationPublisher(redis, { prefix });
    const now = Date.now();
    await publisher.publish('user', 'u1', now);
    await publisher.publish('user', 'u1', now - 5_000);
    const list = await subscribeToRevocations(redis, { prefix, log: () => {} });
    try {
      expect(list.revokedBefore('user', 'u1')).toBe(now);

      await publisher.publish('session', 's1', now + 1);
      await eventually(() => list.revokedBefore('session', 's1') === now + 1);

      const before = list.learnedAt('api-keys', 'nobody');
      const clients = (await redis.client('LIST')) as string;
      const id = /id=(\d+) .*name=(\S+)/
        .exec(clients.split('\n').find((line) => line.includes(`name=${revocationKeys(prefix).channel} `)) ?? '')
        ?.at(1);
      expect(id).toBeDefined();
      await redis.client('KILL', 'ID', id as string);
      // Published while the subscriber may be away: the reload after reconnecting finds it.
      await publisher.publish('user', 'u2', now + 2);
      await eventually(() => list.revokedBefore('user', 'u2') === now + 2);
      // After a gap every cached credential counts as stale.
      await eventually(() => list.learnedAt('api-keys', 'nobody') > before);
      await publisher.publish('user', 'u3', now + 3);
      await eventually(() => list.revokedBefore('user', 'u3') === now + 3);
    } finally {
      await list.close();
    }
  });
});
