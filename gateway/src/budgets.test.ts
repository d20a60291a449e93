import type { ServerResponse } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { ANONYMOUS, HttpError, type Identity, type Redis } from '@supergraph/platform';
import {
  applyBudgetVerdict,
  budgetOwner,
  createBudgets,
  DEFAULT_TIER_BUDGETS,
  parseTierLimits,
  resolveTierBudgets,
  tierBudgetsFromLimits,
} from './budgets.ts';

/** A Redis whose budget script answers `reply` (the script's return array) and records its arguments. */
function scriptedRedis(reply: (args: unknown[]) => Promise<number[]>) {
  const calls: unknown[][] = [];
  const redis = {
    defineCommand(name: string) {
      (redis as Record<string, unknown>)[name] = (...args: unknown[]) => {
        calls.push(args);
        return reply(args);
      };
    },
  };
  return { redis: redis as unknown as Redis, calls };
}

const user = (tier: Identity['tier']): Identity => ({ ...ANONYMOUS, userId: 'u1', tier, via: 'jwt' });

describe('budgetOwner', () => {
  it('is the user when authenticated, else the client address (IPv6 by /64), else one anonymous bucket', () => {
    expect(budgetOwner({ ...user('pro'), clientIp: '203.0.113.7' })).toBe('user:u1');
    expect(budgetOwner({ ...ANONYMOUS, clientIp: '::ffff:203.0.113.7' })).toBe('ip:203.0.113.7');
    expect(budgetOwner({ ...ANONYMOUS, clientIp: '2001:db8:0:1::99' })).toBe('ip:2001:db8:0:1::/64');
    expect(budgetOwner(ANONYMOUS)).toBe('anonymous');
  });
});

describe('createBudgets', () => {
  it('sizes the budget by tier and keys both windows by the owner under one hash tag', async () => {
    const { redis, calls } = scriptedRedis(async () => [1, 1, 60_000, 1, 86_400_000, 0]);
    const budgets = createBudgets({ redis, prefix: 'p:', tiers: { pro: { perMinute: 7 } } });
    await budgets.check(user('pro'));
    await budgets.check({ ...ANONYMOUS, clientIp: '198.51.100.4' });
    expect(calls[0]!.slice(0, 6)).toEqual(['p:{user:u1}:minute', 'p:{user:u1}:day', 60_000, 7, 86_400_000, 100_000]);
    expect(calls[1]!.slice(0, 6)).toEqual([
      'p:{ip:198.51.100.4}:minute',
      'p:{ip:198.51.100.4}:day',
      60_000,
      60,
      86_400_000,
      10_000,
    ]);
  });

  it('describes the window closer to running out in RateLimit-* and lists both in RateLimit-Policy', async () => {
    const replies = [
      [1, 10, 42_500, 10, 3_600_000, 0],
      [1, 11, 42_500, 9_990, 3_600_000, 0],
    ];
    const { redis } = scriptedRedis(async () => replies.shift()!);
    const budgets = createBudgets({ redis });
    expect(await budgets.check(ANONYMOUS)).toEqual({
      allowed: true,
      retryAfterSeconds: 0,
      headers: {
        'RateLimit-Limit': '60',
        'RateLimit-Remaining': '50',
        'RateLimit-Reset': '43',
        'RateLimit-Policy': '60;w=60, 10000;w=86400',
      },
    });
    expect((await budgets.check(ANONYMOUS))?.headers).toMatchObject({
      'RateLimit-Limit': '10000',
      'RateLimit-Remaining': '10',
      'RateLimit-Reset': '3600',
    });
  });

  it('refuses with Retry-After in whole seconds (at least 1)', async () => {
    const { redis } = scriptedRedis(async () => [0, 60, 30_000, 60, 80_000_000, 1_200]);
    const verdict = await createBudgets({ redis }).check(ANONYMOUS);
    expect(verdict).toMatchObject({ allowed: false, retryAfterSeconds: 2 });
    expect(verdict?.headers).toMatchObject({ 'Retry-After': '2', 'RateLimit-Remaining': '0' });
    const { redis: instant } = scriptedRedis(async () => [0, 60, 0, 60, 80_000_000, 0]);
    expect((await createBudgets({ redis: instant }).check(ANONYMOUS))?.retryAfterSeconds).toBe(1);
  });

  it('fails open, warning at most once per 10 s, when Redis errors or does not answer in time', async () => {
    const warn = vi.fn();
    const { redis } = scriptedRedis(async () => {
      throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
    });
    const budgets = createBudgets({ redis, warn });
    expect(await budgets.check(ANONYMOUS)).toBeUndefined();
    expect(await budgets.check(ANONYMOUS)).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/\[budgets\] not enforced.*enableOfflineQueue/);

    const { redis: hanging } = scriptedRedis(() => new Promise<number[]>(() => {}));
    const started = performance.now();
    expect(await createBudgets({ redis: hanging, timeoutMs: 50, warn }).check(ANONYMOUS)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(warn.mock.calls[1]![0]).toMatch(/no answer within 50 ms/);
  });
});

describe('applyBudgetVerdict', () => {
  it('sets the headers when admitted and throws a 429 carrying retryAfterSeconds when refused', () => {
    const set = new Map<string, string>();
    const res = { setHeader: (name: string, value: string) => set.set(name, value) } as unknown as ServerResponse;
    applyBudgetVerdict(res, { allowed: true, retryAfterSeconds: 0, headers: { 'RateLimit-Limit': '60' } });
    expect(set.get('RateLimit-Limit')).toBe('60');
    applyBudgetVerdict(res, undefined);

    let thrown: unknown;
    try {
      applyBudgetVerdict(res, { allowed: false, retryAfterSeconds: 9, headers: { 'Retry-After': '9' } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HttpError);
    expect(thrown).toMatchObject({
      status: 429,
      code: 'RATE_LIMITED',
      headers: { 'Retry-After': '9' },
      extensions: { retryAfterSeconds: 9 },
    });
  });
});

describe('tier limits from the environment', () => {
  it('parses per-tier limits and merges minute and day over the defaults', () => {
    const tiers = tierBudgetsFromLimits(parseTierLimits('free=30, enterprise=9000'), parseTierLimits('pro=5'));
    expect(tiers).toEqual({ free: { perMinute: 30 }, pro: { perDay: 5 }, enterprise: { perMinute: 9000 } });
    expect(resolveTierBudgets(tiers)).toEqual({
      free: { perMinute: 30, perDay: DEFAULT_TIER_BUDGETS.free.perDay },
      pro: { perMinute: 600, perDay: 5 },
      enterprise: { perMinute: 9000, perDay: 1_000_000 },
    });
    expect(parseTierLimits('')).toEqual({});
  });

  it('refuses unknown tiers and non-integers', () => {
    expect(() => parseTierLimits('gold=5')).toThrow(/invalid tier limit "gold=5"/);
    expect(() => parseTierLimits('free=1.5')).toThrow(RangeError);
    expect(() => resolveTierBudgets({ free: { perDay: -1 } })).toThrow(/free perDay/);
  });
});
