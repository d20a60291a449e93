/**
 * Atomic counters in Redis shared by every service that limits callers: the
 * subgraphs' per-field `@rateLimit` (through kit) and the gateway's tier
 * budgets. Each check is one Lua script, so concurrent callers in any process
 * are serialised inside Redis, timed by Redis' own clock so every process
 * agrees. Both work against Redis and ioredis-mock (which runs Lua too).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface RateLimitDecision {
  allowed: boolean;
  /** Calls counted in the window after this one (or at refusal). */
  count: number;
  limit: number;
  /** 0 when allowed; otherwise how long until enough calls leave the window. */
  retryAfterMs: number;
}

/**
 * Sliding-window log in a sorted set: KEYS[1] the counter, ARGV = window ms,
 * max, cost, member prefix. Redis runs a script atomically, so concurrent
 * callers (any process) are serialised here. TIME before the first write is
 * allowed since Redis 5 (effects replication).
 */
const SLIDING_WINDOW_LUA = `
local key = KEYS[1]
local window = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count + cost <= max then
  for i = 1, cost do
    redis.call('ZADD', key, now, ARGV[4] .. ':' .. i)
  end
  redis.call('PEXPIRE', key, window)
  return {1, count + cost, 0}
end
local retry = window
if cost <= max and count > 0 then
  local index = count + cost - max - 1
  local entry = redis.call('ZRANGE', key, index, index, 'WITHSCORES')
  if entry[2] then retry = tonumber(entry[2]) + window - now end
end
return {0, count, retry}
`;

const COMMAND = 'supergraphRateLimit';

type RateLimitRedis = Redis & {
  [COMMAND](
    key: string,
    windowMs: number,
    max: number,
    cost: number,
    member: string,
  ): Promise<[number, number, number]>;
};

function withCommand(redis: Redis): RateLimitRedis {
  const client = redis as RateLimitRedis;
  if (typeof client[COMMAND] !== 'function') {
    redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: SLIDING_WINDOW_LUA });
  }
  return client;
}

/**
 * Atomically counts `cost` calls against `max` per sliding `windowMs` under
 * `key`. Refused calls are not counted, so a client that keeps hammering gets
 * in again as soon as its old calls leave the window. Works against Redis and
 * ioredis-mock (which runs Lua too).
 *
 * @example
 * const { allowed, retryAfterMs } = await checkRateLimit(redis, 'rl:login:ip:1.2.3.4', 10, 3_600_000);
 */
export async function checkRateLimit(
  redis: Redis,
  key: string,
  max: number,
  windowMs: number,
  cost = 1,
): Promise<RateLimitDecision> {
  if (!Number.isInteger(max) || max < 0) throw new RangeError(`max must be a non-negative integer, got ${max}`);
  if (!Number.isInteger(windowMs) || windowMs < 1)
    throw new RangeError(`windowMs must be a positive integer, got ${windowMs}`);
  const [allowed, count, retry] = await withCommand(redis)[COMMAND](
    key,
    windowMs,
    max,
    Math.max(1, cost),
    randomUUID(),
  );
  // Never longer than the window: a clock that steps back (the in-process stand-in's TIME, an adjusted host
  // clock) must not tell a client to wait longer than any call can stay counted.
  return {
    allowed: Number(allowed) === 1,
    count: Number(count),
    limit: max,
    retryAfterMs: within(Number(retry), windowMs),
  };
}

export interface RateAndQuotaWindow {
  /** The Redis key of this window's counter. */
  key: string;
  max: number;
  windowMs: number;
}

export interface RateAndQuotaDecision {
  allowed: boolean;
  /** Calls in the sliding window after this one (or at refusal). */
  rateCount: number;
  /** Milliseconds until the oldest call leaves the sliding window (one more call fits again). */
  rateResetMs: number;
  /** Calls in the fixed window after this one (or at refusal). */
  quotaCount: number;
  /** Milliseconds until the fixed window ends and its count starts from 0. */
  quotaResetMs: number;
  /** 0 when allowed; otherwise how long until a call would be admitted. */
  retryAfterMs: number;
}

/**
 * Two windows checked and counted together: KEYS[1] a sliding log (sorted
 * set, exact, memory grows with `max`: for short windows), KEYS[2] a fixed
 * window counter (one integer, starts at the client's first call: for long
 * windows such as a day, where a log of a million calls would not do).
 * ARGV = rate window ms, rate max, quota window ms, quota max, member. A call
 * is counted in both or in neither; refused calls are not counted.
 */
const RATE_AND_QUOTA_LUA = `
local rateKey = KEYS[1]
local quotaKey = KEYS[2]
local rateWindow = tonumber(ARGV[1])
local rateMax = tonumber(ARGV[2])
local quotaWindow = tonumber(ARGV[3])
local quotaMax = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', rateKey, '-inf', now - rateWindow)
local rateCount = redis.call('ZCARD', rateKey)
local quotaCount = tonumber(redis.call('GET', quotaKey) or '0')
local quotaTtl = redis.call('PTTL', quotaKey)
local quotaFresh = quotaTtl < 0
if quotaFresh then quotaTtl = quotaWindow end
local function oldestExpiry(index)
  local entry = redis.call('ZRANGE', rateKey, index, index, 'WITHSCORES')
  if entry[2] then return tonumber(entry[2]) + rateWindow - now end
  return rateWindow
end
if rateCount < rateMax and quotaCount < quotaMax then
  redis.call('ZADD', rateKey, now, ARGV[5])
  redis.call('PEXPIRE', rateKey, rateWindow)
  quotaCount = redis.call('INCR', quotaKey)
  if quotaFresh then redis.call('PEXPIRE', quotaKey, quotaWindow) end
  return {1, rateCount + 1, oldestExpiry(0), quotaCount, quotaTtl, 0}
end
local retry = 0
if rateCount >= rateMax then
  retry = rateWindow
  if rateMax > 0 then retry = oldestExpiry(rateCount - rateMax) end
end
if quotaCount >= quotaMax and quotaTtl > retry then retry = quotaTtl end
return {0, rateCount, oldestExpiry(0), quotaCount, quotaTtl, retry}
`;

const RATE_AND_QUOTA_COMMAND = 'supergraphRateAndQuota';

type RateAndQuotaRedis = Redis & {
  [RATE_AND_QUOTA_COMMAND](
    rateKey: string,
    quotaKey: string,
    rateWindowMs: number,
    rateMax: number,
    quotaWindowMs: number,
    quotaMax: number,
    member: string,
  ): Promise<number[]>;
};

/**
 * Counts one call against a short sliding window (`rate`) and a long fixed
 * window (`quota`) at once, atomically: admitted only when both have room,
 * and then counted in both. The gateway's tier budgets (per minute, per day)
 * are this check. In Redis Cluster give both keys one hash tag.
 *
 * @example
 * const decision = await checkRateAndQuota(
 *   redis,
 *   { key: 'budget:{ip:1.2.3.4}:m', max: 60, windowMs: 60_000 },
 *   { key: 'budget:{ip:1.2.3.4}:d', max: 10_000, windowMs: 86_400_000 },
 * );
 */
export async function checkRateAndQuota(
  redis: Redis,
  rate: RateAndQuotaWindow,
  quota: RateAndQuotaWindow,
): Promise<RateAndQuotaDecision> {
  for (const window of [rate, quota]) {
    if (!Number.isInteger(window.max) || window.max < 0)
      throw new RangeError(`max must be a non-negative integer, got ${window.max}`);
    if (!Number.isInteger(window.windowMs) || window.windowMs < 1)
      throw new RangeError(`windowMs must be a positive integer, got ${window.windowMs}`);
  }
  const client = redis as RateAndQuotaRedis;
  if (typeof client[RATE_AND_QUOTA_COMMAND] !== 'function') {
    redis.defineCommand(RATE_AND_QUOTA_COMMAND, { numberOfKeys: 2, lua: RATE_AND_QUOTA_LUA });
  }
  const [allowed, rateCount, rateResetMs, quotaCount, quotaResetMs, retryAfterMs] = (
    await client[RATE_AND_QUOTA_COMMAND](
      rate.key,
      quota.key,
      rate.windowMs,
      rate.max,
      quota.windowMs,
      quota.max,
      randomUUID(),
    )
  ).map(Number) as [number, number, number, number, number, number];
  return {
    allowed: allowed === 1,
    rateCount,
    rateResetMs: within(rateResetMs, rate.windowMs),
    quotaCount,
    quotaResetMs: within(quotaResetMs, quota.windowMs),
    retryAfterMs: within(retryAfterMs, Math.max(rate.windowMs, quota.windowMs)),
  };
}

/** `ms` clamped to [0, `windowMs`]. */
function within(ms: number, windowMs: number): number {
  return Math.min(windowMs, Math.max(0, ms));
}
