import { Redis } from 'ioredis';

export type { Redis } from 'ioredis';

/**
 * A Redis client: the real server when `url` is set, otherwise an in-process
 * stand-in (`ioredis-mock`) for the embedded mode. `forbidEmbedded` (CI)
 * turns that fallback into an error.
 */
export async function createRedis(
  url: string | undefined,
  { forbidEmbedded = process.env['SUPERGRAPH_FORBID_EMBEDDED'] === '1' } = {},
): Promise<Redis> {
  if (url) {
    const client = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
    client.on('error', (error: Error) => console.error(`[redis] ${error.message}`));
    return client;
  }
  if (forbidEmbedded)
    throw new Error('REDIS_URL is unset but SUPERGRAPH_FORBID_EMBEDDED=1 forbids the in-process Redis');
  const { default: RedisMock } = await import('ioredis-mock');
  return new RedisMock() as unknown as Redis;
}

/**
 * The caller's Redis client, or (when it passes none) an in-process stand-in
 * that the subgraph owns: `release()` disconnects only what this call created.
 */
export async function redisOrStandIn(
  given: Redis | undefined,
  options?: { forbidEmbedded?: boolean },
): Promise<{ redis: Redis; release(): void }> {
  if (given) return { redis: given, release: () => {} };
  const redis = await createRedis(undefined, options);
  return { redis, release: () => redis.disconnect() };
}
