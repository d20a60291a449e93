import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRateAndQuota } from './rate-counter.ts';
import { createRedis, type Redis } from './redis.ts';

let redis: Redis;
const prefix = `test:${randomBytes(6).toString('hex')}:`;
let counter = 0;
const keys = () => {
  counter += 1;
  return { rate: `${prefix}{c${counter}}:m`, quota: `${prefix}{c${counter}}:d` };
};

beforeAll(async () => {
  redis = await createRedis(process.env['REDIS_URL']);
});

afterAll(async () => {
  const written = await redis.keys(`${prefix}*`);
  if (written.length > 0) await redis.del(...written);
  redis.disconnect();
});

describe('checkRateAndQuota (Redis when REDIS_URL is set, ioredis-mock otherwise)', () => {
  it('admits exactly the rate max of many simultaneous calls and counts only those in the quota', async () => {
    const { rate, quota } = keys();
    const decisions = await Promise.all(
      Array.from({ length: 40 }, () =>
        checkRateAndQuota(
          redis,
          { key: rate, max: 10, windowMs: 60_000 },
          { key: quota, max: 1_000, windowMs: 86_400_000 },
        ),
      ),
    );
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(10);
    expect(Number(await redis.get(quota))).toBe(10);
    const refused = decisions.find((decision) => !decision.allowed)!;
    expect(refused.retryAfterMs).toBeGreaterThan(55_000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(process.env['REDIS_URL'] ? 60_000 : 61_000);
  });

  it('refuses on the quota with its remaining lifetime as retry, without counting in the rate window', async () => {
    const { rate, quota } = keys();
    const windows = [
      { key: rate, max: 100, windowMs: 60_000 },
      { key: quota, max: 3, windowMs: 3_600_000 },
    ] as const;
    for (let call = 1; call <= 3; call++) {
      const admitted = await checkRateAndQuota(redis, ...windows);
      expect(admitted).toMatchObject({ allowed: true, rateCount: call, quotaCount: call });
    }
    const refused = await checkRateAndQuota(redis, ...windows);
    expect(refused).toMatchObject({ allowed: false, rateCount: 3, quotaCount: 3 });
    expect(refused.retryAfterMs).toBeGreaterThan(3_500_000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(3_600_000);
    expect(await redis.zcard(rate)).toBe(3);
    expect(await redis.pttl(quota)).toBeGreaterThan(3_500_000);
  });

  it('reports when the oldest call leaves the rate window and when the quota window ends', async () => {
    const { rate, quota } = keys();
    const first = await checkRateAndQuota(
      redis,
      { key: rate, max: 5, windowMs: 30_000 },
      { key: quota, max: 50, windowMs: 600_000 },
    );
    expect(first.allowed).toBe(true);
    expect(first.rateResetMs).toBeGreaterThan(29_000);
    expect(first.rateResetMs).toBeLessThanOrEqual(30_000);
    expect(first.quotaResetMs).toBeGreaterThan(599_000);
    expect(first.quotaResetMs).toBeLessThanOrEqual(600_000);
  });

  it('admits again once the rate window has slid past the old calls', async () => {
    const { rate, quota } = keys();
    const windows = [
      { key: rate, max: 2, windowMs: 300 },
      { key: quota, max: 100, windowMs: 60_000 },
    ] as const;
    expect((await checkRateAndQuota(redis, ...windows)).allowed).toBe(true);
    expect((await checkRateAndQuota(redis, ...windows)).allowed).toBe(true);
    const refused = await checkRateAndQuota(redis, ...windows);
    expect(refused.allowed).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, refused.retryAfterMs + 50));
    expect((await checkRateAndQuota(redis, ...windows)).allowed).toBe(true);
  });

  it('refuses bad limits before calling Redis', async () => {
    const { rate, quota } = keys();
    await expect(
      checkRateAndQuota(redis, { key: rate, max: 1.5, windowMs: 1 }, { key: quota, max: 1, windowMs: 1 }),
    ).rejects.toThrow(RangeError);
    await expect(
      checkRateAndQuota(redis, { key: rate, max: 1, windowMs: 1 }, { key: quota, max: 1, windowMs: 0 }),
    ).rejects.toThrow(RangeError);
  });
});
