import { Redis, type RedisOptions } from 'ioredis';
import { createLogger } from './logger.ts';

export type { Redis } from 'ioredis';

/**
 * How a real Redis client behaves when the server goes away: commands fail at
 * once instead of queueing (a queued command held every rate-limited request
 * for 0.8-2.9 s while Redis was down), a command the server does not answer
 * fails after `commandTimeout`, and the client keeps reconnecting at most a
 * second apart, so service resumes without a restart when Redis returns.
 */
export const REDIS_CLIENT_OPTIONS: Readonly<RedisOptions> = Object.freeze({
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 1_000,
  connectTimeout: 2_000,
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 1_000),
  lazyConnect: false,
});

/** How long {@link createRedis} waits for the first connection before it returns the client anyway. */
const FIRST_CONNECTION_WAIT_MS = 3_000;

/**
 * A Redis client: the real server when `url` is set, otherwise an in-process
 * stand-in (`ioredis-mock`) for the embedded mode. `forbidEmbedded` (CI)
 * turns that fallback into an error.
 *
 * The real client is returned once connected (or after 3 s without: a Redis
 * that is down at start-up is an outage like any other, which each limiter
 * handles by its own policy, and the client connects when Redis comes up).
 * An outage is logged once when it starts and once when it ends.
 */
export async function createRedis(
  url: string | undefined,
  { forbidEmbedded = process.env['SUPERGRAPH_FORBID_EMBEDDED'] === '1' } = {},
): Promise<Redis> {
  if (url) {
    const client = new Redis(url, { ...REDIS_CLIENT_OPTIONS });
    let isDown = false;
    client.on('error', (error: Error) => {
      if (isDown) return;
      isDown = true;
      createLogger('redis').error(`unavailable: ${error.message} (reconnecting)`);
    });
    client.on('ready', () => {
      if (!isDown) return;
      isDown = false;
      createLogger('redis').warn('reconnected');
    });
    await waitForReady(client, FIRST_CONNECTION_WAIT_MS);
    return client;
  }
  if (forbidEmbedded)
    throw new Error('REDIS_URL is unset but SUPERGRAPH_FORBID_EMBEDDED=1 forbids the in-process Redis');
  const { default: RedisMock } = await import('ioredis-mock');
  return new RedisMock() as unknown as Redis;
}

function waitForReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    timer.unref();
    client.on('ready', done);
  });
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
