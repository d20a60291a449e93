/**
 * Per-account login backoff: slows password guessing spread over many client
 * addresses (the per-IP limit alone let 30 wrong passwords from 3 IPs through,
 * and the right one from a 4th signed in) without letting a stranger lock the
 * owner out.
 *
 * Failures are counted per account (all networks together). Once an account
 * has `freeFailures` in the window, an attempt from a network (IPv4 /24, IPv6
 * /64) that has tried this account without signing in must wait
 * `baseDelayMs × 2^(failures − freeFailures)` (at most `maxDelayMs`) since
 * the account's last failure or admitted attempt; earlier ones answer
 * RATE_LIMITED with the wait in `retryAfterSeconds`, before any password
 * work. Each admitted failure doubles the wait: it slows, it never locks.
 * A network with no attempt on the account is let through, so the owner
 * signs in from home while their account is under attack; a success clears
 * that network's mark.
 */
import { randomUUID } from 'node:crypto';
import { rateLimiterUnavailable, warnStoreError } from '@supergraph/kit';
import { ErrorCode, errorCode, rateLimited, type Redis } from '@supergraph/platform';
import type { GraphQLFieldResolver } from 'graphql';
import type { AuthContext } from './context.ts';
import { ipPrefix } from './ip-prefix.ts';
import { sha256Hex } from './secrets.ts';
import { findUserByLogin } from './users.repository.ts';

export interface LoginBackoffPolicy {
  /** Failures per account in the window before the backoff starts; default 10 (the per-IP login limit). */
  freeFailures: number;
  /** The first wait; doubles with each failure beyond `freeFailures`. Default 2 s. */
  baseDelayMs: number;
  /** The longest wait; default 15 minutes. */
  maxDelayMs: number;
  /** How long a failure counts; default 1 hour. */
  windowMs: number;
}

export const DEFAULT_LOGIN_BACKOFF: Readonly<LoginBackoffPolicy> = Object.freeze({
  freeFailures: 10,
  baseDelayMs: 2_000,
  maxDelayMs: 15 * 60_000,
  windowMs: 60 * 60_000,
});

/** The wait an attempt from a marked network owes after `failures` failures (0 below the threshold). */
export function backoffDelayMs(failures: number, policy: LoginBackoffPolicy): number {
  if (failures < policy.freeFailures) return 0;
  const doublings = Math.min(failures - policy.freeFailures, 40);
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** doublings);
}

/**
 * KEYS: failures (sorted set of failure times), network mark (attempts without
 * a success), last (time of the last failure or admitted attempt).
 * ARGV: window, free failures, base delay, max delay.
 * Returns {1, 0} to admit (and marks the network) or {0, wait ms}.
 */
const ADMIT_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local free = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local failures = redis.call('ZCARD', KEYS[1])
local marked = tonumber(redis.call('GET', KEYS[2]) or '0') > 0
if failures >= free and marked then
  local delay = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ math.min(failures - free, 40))
  local last = tonumber(redis.call('GET', KEYS[3]) or '0')
  if now - last < delay then return {0, delay - (now - last)} end
  redis.call('SET', KEYS[3], now, 'PX', window)
end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], window)
return {1, 0}
`;

/** KEYS: failures, last. ARGV: window, member. */
const FAILURE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], now, 'PX', ARGV[1])
return 1
`;

type BackoffRedis = Redis & {
  supergraphLoginAdmit(...args: Array<string | number>): Promise<[number, number]>;
  supergraphLoginFailure(...args: Array<string | number>): Promise<number>;
};

function withCommands(redis: Redis): BackoffRedis {
  const client = redis as BackoffRedis;
  if (typeof client.supergraphLoginAdmit !== 'function') {
    redis.defineCommand('supergraphLoginAdmit', { numberOfKeys: 3, lua: ADMIT_LUA });
    redis.defineCommand('supergraphLoginFailure', { numberOfKeys: 2, lua: FAILURE_LUA });
  }
  return client;
}

/** One account as seen from one network. */
export interface LoginAttempt {
  /** Stable per account: the user id when the login names one, else the normalised login text. */
  account: string;
  /** {@link ipPrefix} of the client. */
  network: string;
}

export interface LoginBackoff {
  /** 0 when the attempt may go ahead (and is counted as pending for its network), else the wait in ms. */
  admit(attempt: LoginAttempt): Promise<number>;
  recordFailure(attempt: LoginAttempt): Promise<void>;
  /** The network signed in: it is no longer marked for this account. */
  recordSuccess(attempt: LoginAttempt): Promise<void>;
}

/**
 * The backoff's state in Redis under `prefix`, shared by every auth instance.
 *
 * @example
 * const backoff = createLoginBackoff(redis, 'supergraph:rl:auth:');
 * const waitMs = await backoff.admit({ account: `user:${id}`, network: ipPrefix(clientIp) });
 */
export function createLoginBackoff(
  redis: Redis,
  prefix: string,
  policy: Partial<LoginBackoffPolicy> = {},
): LoginBackoff {
  const settings = { ...DEFAULT_LOGIN_BACKOFF, ...policy };
  const keys = ({ account, network }: LoginAttempt) => {
    const base = `${prefix}login-backoff:${account}`;
    return { failures: `${base}:failures`, last: `${base}:last`, mark: `${base}:net:${network}` };
  };
  return {
    async admit(attempt) {
      const { failures, mark, last } = keys(attempt);
      const [allowed, waitMs] = await withCommands(redis).supergraphLoginAdmit(
        failures,
        mark,
        last,
        settings.windowMs,
        settings.freeFailures,
        settings.baseDelayMs,
        settings.maxDelayMs,
      );
      return Number(allowed) === 1 ? 0 : Math.max(1, Number(waitMs));
    },
    async recordFailure(attempt) {
      const { failures, last } = keys(attempt);
      await withCommands(redis).supergraphLoginFailure(failures, last, settings.windowMs, randomUUID());
    },
    async recordSuccess(attempt) {
      await redis.del(keys(attempt).mark);
    },
  };
}

type LoginResolver = GraphQLFieldResolver<unknown, AuthContext, { input: { usernameOrEmail: string } }>;

/**
 * Wraps the `login` resolver in the backoff: refuses early attempts from
 * marked networks (RATE_LIMITED), records UNAUTHENTICATED outcomes as
 * failures and successes as clearing the network's mark. Without Redis it
 * answers SERVICE_UNAVAILABLE, like the login limiter, unless `failOpen`.
 */
export function withLoginBackoff(resolve: LoginResolver, backoff: LoginBackoff, failOpen = false): LoginResolver {
  return async (source, args, ctx, info) => {
    const attempt = {
      account: await accountKey(ctx, args.input.usernameOrEmail),
      network: ipPrefix(ctx.identity.clientIp),
    };
    let waitMs: number;
    try {
      waitMs = await backoff.admit(attempt);
    } catch (error) {
      if (failOpen) {
        warnStoreError('login backoff', error, 'not enforcing it (failing open)');
        return resolve(source, args, ctx, info);
      }
      warnStoreError('login backoff', error, 'refusing logins until it is back (failing closed)');
      throw rateLimiterUnavailable();
    }
    if (waitMs > 0) throw rateLimited(waitMs / 1000, TOO_MANY_FAILURES);
    let result: unknown;
    try {
      result = await resolve(source, args, ctx, info);
    } catch (error) {
      if (errorCode(error) === ErrorCode.Unauthenticated) {
        await backoff
          .recordFailure(attempt)
          .catch((storeError: unknown) => warnStoreError('login backoff', storeError, 'a failure went uncounted'));
      }
      throw error;
    }
    await backoff.recordSuccess(attempt).catch(() => {});
    return result;
  };
}

const TOO_MANY_FAILURES = 'Too many failed sign-ins for this account from your network; try again later';

/** The user's id when the login names one (so username and e-mail share one count), else a hash of the text. */
async function accountKey(ctx: AuthContext, usernameOrEmail: string): Promise<string> {
  const login = usernameOrEmail.trim().toLowerCase();
  const user = login.length > 0 && login.length <= 254 ? await findUserByLogin(ctx.db, login) : undefined;
  return user ? `user:${user.id}` : `login:${sha256Hex(login).slice(0, 32)}`;
}
