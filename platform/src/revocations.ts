import { withDeadline } from './deadline.ts';
import { createLogger } from './logger.ts';
import type { Redis } from 'ioredis';

/**
 * What a revocation covers: every credential of a user issued before it
 * (`user`), one session's (`session`), or the user's cached API keys
 * (`api-keys`: keys are checked by auth on every lookup, so only caches care).
 */
export type RevocationKind = 'user' | 'session' | 'api-keys';

/** One revocation as published: tokens of `kind`/`id` issued before `revokedBefore` (ms, auth's clock) are dead. */
export interface Revocation {
  kind: RevocationKind;
  id: string;
  revokedBefore: number;
}

/** Auth's side: announces a revocation to every gateway. */
export interface RevocationPublisher {
  publish(kind: RevocationKind, id: string, revokedBefore?: number): Promise<void>;
}

/** The gateway's side: the revocations it knows, kept in memory and refreshed by pub/sub. */
export interface RevocationList {
  /** Tokens of `kind`/`id` issued before this (ms, auth's clock) are refused; undefined when none is known. */
  revokedBefore(kind: RevocationKind, id: string): number | undefined;
  /**
   * When this process last learned something that may affect `kind`/`id`
   * (ms, its own clock): credentials it cached before then are stale. A
   * reconnect to Redis counts for every key (messages may have been missed).
   */
  learnedAt(kind: RevocationKind, id: string): number;
  close(): Promise<void>;
}

/** Default lifetime of a stored revocation: the gateway's default maximum access-token age (1 h). */
export const DEFAULT_REVOCATION_TTL_MS = 3_600_000;

const KINDS: ReadonlySet<string> = new Set<RevocationKind>(['user', 'session', 'api-keys']);

/** The Redis names under `prefix`: the hash of current revocations, its expiry index, the pub/sub channel. */
export function revocationKeys(prefix = '') {
  return { hash: `${prefix}revocations`, expiry: `${prefix}revocations:expiry`, channel: `${prefix}revocations` };
}

/** The wire format (JSON); null for anything that is not a revocation. */
export function parseRevocation(message: string): Revocation | null {
  try {
    const value = JSON.parse(message) as Partial<Revocation> | null;
    if (
      value &&
      typeof value.kind === 'string' &&
      KINDS.has(value.kind) &&
      typeof value.id === 'string' &&
      value.id.length > 0 &&
      typeof value.revokedBefore === 'number' &&
      Number.isFinite(value.revokedBefore)
    ) {
      return { kind: value.kind, id: value.id, revokedBefore: value.revokedBefore };
    }
  } catch {
    // not JSON: ignored like any other stranger on the channel
  }
  return null;
}

export function formatRevocation(revocation: Revocation): string {
  return JSON.stringify(revocation);
}

/**
 * The in-memory set both implementations keep: per key the latest
 * revocation (a later one always wins, whatever order messages arrive in)
 * and when it was learned; entries older than `ttlMs` are dropped, since
 * every token they could refuse has expired.
 */
export class RevocationMap {
  readonly #entries = new Map<string, { revokedBefore: number; learnedAt: number }>();
  readonly #ttlMs: number;
  #allLearnedAt = 0;
  #applied = 0;

  constructor(ttlMs = DEFAULT_REVOCATION_TTL_MS) {
    this.#ttlMs = ttlMs;
  }

  /** Records a revocation; whether it moved the key forward. */
  apply(revocation: Revocation, learnedAt = Date.now()): boolean {
    const key = `${revocation.kind}:${revocation.id.toLowerCase()}`;
    const known = this.#entries.get(key);
    if (known && known.revokedBefore >= revocation.revokedBefore) return false;
    this.#entries.set(key, { revokedBefore: revocation.revokedBefore, learnedAt });
    if (++this.#applied % 1_000 === 0) this.prune();
    return true;
  }

  /** Marks every cached credential stale (after a gap in which messages may have been lost). */
  invalidateAll(at = Date.now()): void {
    this.#allLearnedAt = at;
  }

  revokedBefore(kind: RevocationKind, id: string): number | undefined {
    return this.#entries.get(`${kind}:${id.toLowerCase()}`)?.revokedBefore;
  }

  learnedAt(kind: RevocationKind, id: string): number {
    return Math.max(this.#allLearnedAt, this.#entries.get(`${kind}:${id.toLowerCase()}`)?.learnedAt ?? 0);
  }

  prune(now = Date.now()): void {
    for (const [key, entry] of this.#entries) {
      if (entry.revokedBefore < now - this.#ttlMs) this.#entries.delete(key);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}

/**
 * The embedded default (`npm start`, tests without Redis): one process, so
 * the publisher writes straight into the list every gateway in it reads.
 *
 * @example
 * const revocations = createInProcessRevocations();
 * startAuthSubgraph({ ..., revocations: revocations.publisher }, 0);
 * startGateway({ ..., revocations: revocations.list }, 0);
 */
export function createInProcessRevocations(ttlMs = DEFAULT_REVOCATION_TTL_MS): {
  publisher: RevocationPublisher;
  list: RevocationList;
} {
  const map = new RevocationMap(ttlMs);
  return {
    publisher: {
      publish: async (kind, id, revokedBefore = Date.now()) => {
        map.apply({ kind, id, revokedBefore });
      },
    },
    list: {
      revokedBefore: (kind, id) => map.revokedBefore(kind, id),
      learnedAt: (kind, id) => map.learnedAt(kind, id),
      close: async () => {},
    },
  };
}

/*
 * Stores the revocation if it is later than the stored one (monotonic per
 * key), drops entries past their lifetime, and publishes the stored (latest)
 * value, so a gateway that starts or reconnects later loads the same set.
 */
const PUBLISH_LUA = `
local field, at, ttl, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl, 'LIMIT', 0, 500)
for _, old in ipairs(stale) do
  redis.call('HDEL', KEYS[1], old)
  redis.call('ZREM', KEYS[2], old)
end
local current = tonumber(redis.call('HGET', KEYS[1], field))
if current and current >= at then
  at = current
else
  redis.call('HSET', KEYS[1], field, at)
  redis.call('ZADD', KEYS[2], at, field)
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return tostring(at)
`;

export interface RedisRevocationOptions {
  /** Prepended to every key and the channel (tests use a per-run prefix). */
  prefix?: string;
  /** How long a revocation is kept: at least the longest access-token lifetime. Default 1 h. */
  ttlMs?: number;
}

/** Auth's publisher over Redis: stores the revocation (monotonic per key), then publishes it. Rejects when Redis does. */
export function createRedisRevocationPublisher(
  redis: Redis,
  options: RedisRevocationOptions = {},
): RevocationPublisher {
  const keys = revocationKeys(options.prefix);
  const ttlMs = options.ttlMs ?? DEFAULT_REVOCATION_TTL_MS;
  return {
    async publish(kind, id, revokedBefore = Date.now()) {
      const field = `${kind}:${id.toLowerCase()}`;
      const stored = Number(
        await redis.eval(PUBLISH_LUA, 2, keys.hash, keys.expiry, field, revokedBefore, ttlMs, Date.now()),
      );
      await redis.publish(keys.channel, formatRevocation({ kind, id: id.toLowerCase(), revokedBefore: stored }));
    },
  };
}

/**
 * The gateway's list over Redis: subscribes on its own connection (a
 * subscribed connection can do nothing else), then loads the stored set, so
 * nothing published in between is lost. After a lost connection it
 * resubscribes, reloads and treats every cached credential as stale. While
 * Redis is down it keeps the last known set and says so loudly; start-up
 * does not wait for Redis (a gateway restarting during a Redis outage still
 * serves, with what it could load).
 */
export async function subscribeToRevocations(
  redis: Redis,
  options: RedisRevocationOptions & { log?: (message: string) => void; startupTimeoutMs?: number } = {},
): Promise<RevocationList> {
  const keys = revocationKeys(options.prefix);
  const ttlMs = options.ttlMs ?? DEFAULT_REVOCATION_TTL_MS;
  const logger = createLogger('revocations');
  const log = options.log ?? ((message: string) => logger.error(message));
  const map = new RevocationMap(ttlMs);
  // Named after its channel, so an operator (or a test) can find this connection in CLIENT LIST.
  const subscriber = redis.duplicate({
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    connectionName: keys.channel,
  });
  let closed = false;
  let lost = false;

  async function reload(): Promise<void> {
    const now = Date.now();
    const stored = await redis.hgetall(keys.hash);
    for (const [field, value] of Object.entries(stored)) {
      const separator = field.indexOf(':');
      const revokedBefore = Number(value);
      if (separator < 0 || !Number.isFinite(revokedBefore) || revokedBefore < now - ttlMs) continue;
      const kind = field.slice(0, separator);
      if (!KINDS.has(kind)) continue;
      map.apply({ kind: kind as RevocationKind, id: field.slice(separator + 1), revokedBefore }, now);
    }
  }

  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== keys.channel) return;
    const revocation = parseRevocation(message);
    if (revocation) map.apply(revocation);
  });
  subscriber.on('error', (error: Error) => log(`subscriber error: ${error.message}`));
  subscriber.on('close', () => {
    if (closed || lost) return;
    lost = true;
    log('LOST the Redis subscription: serving with the last known revocations until it returns');
  });
  subscriber.on('ready', () => {
    if (closed || !lost) return;
    // ioredis resubscribes by itself; what was published meanwhile comes from the stored set.
    lost = false;
    map.invalidateAll();
    reload().then(
      () => log('Redis subscription restored; revocations reloaded'),
      (error: unknown) => log(`reload after reconnect failed: ${error instanceof Error ? error.message : error}`),
    );
  });

  try {
    await withDeadline(subscriber.subscribe(keys.channel).then(reload), options.startupTimeoutMs ?? 3_000, () => {
      throw new Error('Redis did not answer');
    });
  } catch (error) {
    lost = true;
    log(
      `could not load revocations at start-up (${error instanceof Error ? error.message : error}); serving without them until Redis answers`,
    );
  }

  return {
    revokedBefore: (kind, id) => map.revokedBefore(kind, id),
    learnedAt: (kind, id) => map.learnedAt(kind, id),
    close: async () => {
      closed = true;
      subscriber.disconnect();
    },
  };
}
