import { randomBytes } from 'node:crypto';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkRateLimit,
  parseRateLimitOverrides,
  parseTierMultipliers,
  parseWindow,
  rateLimitIdentityKey,
  rateLimitRulesFromSdl,
} from './rate-limit.ts';
import { createRedis, type Redis } from '@supergraph/platform';

let redis: Redis;
const prefix = `test:${randomBytes(6).toString('hex')}:`;

beforeAll(async () => {
  redis = await createRedis(process.env['REDIS_URL']);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('checkRateLimit (Redis when REDIS_URL is set, ioredis-mock otherwise)', () => {
  it('admits exactly max of many simultaneous calls', async () => {
    const decisions = await Promise.all(
      Array.from({ length: 50 }, () => checkRateLimit(redis, `${prefix}burst`, 10, 60_000)),
    );
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(10);
    const refused = decisions.find((decision) => !decision.allowed);
    expect(refused?.retryAfterMs).toBeGreaterThan(55_000);
    // The stand-in's TIME takes seconds from Date.now() and microseconds from hrtime, so inside
    // one burst it can step back by up to 1 s; real Redis must stay within the window.
    expect(refused?.retryAfterMs).toBeLessThanOrEqual(process.env['REDIS_URL'] ? 60_000 : 61_000);
  });

  it('admits again once the window has slid past the old calls', async () => {
    const key = `${prefix}slide`;
    const windowMs = 400;
    expect((await checkRateLimit(redis, key, 2, windowMs)).allowed).toBe(true);
    expect((await checkRateLimit(redis, key, 2, windowMs)).allowed).toBe(true);
    expect((await checkRateLimit(redis, key, 2, windowMs)).allowed).toBe(false);
    // Poll instead of sleeping a guessed amount: the stand-in's TIME is only second-accurate, and a
    // loaded machine stretches any sleep. A window that never slides (or slides in seconds, not ms)
    // still fails: 5 s is over ten windows.
    const deadline = Date.now() + 5_000;
    let admitted = false;
    while (!admitted && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      admitted = (await checkRateLimit(redis, key, 2, windowMs)).allowed;
    }
    expect(admitted).toBe(true);
  });

  it('counts a cost of several calls at once and refuses what does not fit', async () => {
    const key = `${prefix}cost`;
    expect(await checkRateLimit(redis, key, 10, 60_000, 7)).toMatchObject({ allowed: true, count: 7 });
    expect(await checkRateLimit(redis, key, 10, 60_000, 4)).toMatchObject({ allowed: false, count: 7 });
    expect(await checkRateLimit(redis, key, 10, 60_000, 3)).toMatchObject({ allowed: true, count: 10 });
  });

  it('sets an expiry so idle counters disappear', async () => {
    const key = `${prefix}ttl`;
    await checkRateLimit(redis, key, 5, 30_000);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });
});

describe('configuration', () => {
  it('parses windows in ms syntax', () => {
    expect(parseWindow('1h')).toBe(3_600_000);
    expect(parseWindow('30m')).toBe(1_800_000);
    expect(parseWindow('10s')).toBe(10_000);
    expect(parseWindow('250ms')).toBe(250);
    expect(parseWindow('2d')).toBe(172_800_000);
    expect(() => parseWindow('soon')).toThrow(RangeError);
  });

  it('reads @rateLimit from SDL, type extensions included', () => {
    const rules = rateLimitRulesFromSdl(
      parse(`
        type Query { a: Int @rateLimit(window: "1h", max: 30) b: Int }
        extend type Mutation { c(items: [Int]): Int @rateLimit(max: 3, window: "10s", arrayLengthField: "items", message: "slow down") }
      `),
    );
    expect(rules).toEqual([
      { coordinate: 'Query.a', max: 30, windowMs: 3_600_000, identityArgs: [] },
      {
        coordinate: 'Mutation.c',
        max: 3,
        windowMs: 10_000,
        identityArgs: [],
        message: 'slow down',
        arrayLengthField: 'items',
      },
    ]);
  });

  it('parses env overrides and tier multipliers', () => {
    expect(parseTierMultipliers('pro=4, enterprise=50')).toEqual({ pro: 4, enterprise: 50 });
    expect(() => parseTierMultipliers('gold=2')).toThrow(RangeError);
    expect(parseRateLimitOverrides('Query.searchKnowledge=60/30m,Query.askKnowledge=5')).toEqual({
      'Query.searchKnowledge': { max: 60, windowMs: 1_800_000 },
      'Query.askKnowledge': { max: 5 },
    });
    expect(() => parseRateLimitOverrides('searchKnowledge=5')).toThrow(RangeError);
  });

  it('keys by user, else client IP', () => {
    const base = { roles: [], scopes: [], tier: 'free', via: 'jwt' } as const;
    expect(rateLimitIdentityKey({ ...base, userId: 'u1', clientIp: '1.2.3.4' })).toBe('user:u1');
    expect(rateLimitIdentityKey({ ...base, userId: null, clientIp: '1.2.3.4' })).toBe('ip:1.2.3.4');
    expect(rateLimitIdentityKey({ ...base, userId: null })).toBe('anonymous');
  });
});
