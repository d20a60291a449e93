import { randomBytes } from 'node:crypto';
import { parse, type GraphQLFieldResolver, type GraphQLResolveInfo } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedis,
  DEFAULT_SETTINGS,
  publishSettings,
  subscribeToSettings,
  type Identity,
  type Redis,
  type SettingsSource,
} from '@supergraph/platform';
import { RATE_LIMIT_DIRECTIVE_SDL, tierMultiplier, withRateLimits } from './rate-limit.ts';

let redis: Redis;
let settings: SettingsSource;
const prefix = `test:${randomBytes(6).toString('hex')}:`;

beforeAll(async () => {
  redis = await createRedis(process.env['REDIS_URL']);
  settings = await subscribeToSettings(redis, { prefix });
});

afterAll(async () => {
  await settings.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const typeDefs = parse(`${RATE_LIMIT_DIRECTIVE_SDL}\ntype Query { ping: String @rateLimit(max: 2, window: "1h") }`);

function user(tier: Identity['tier']): Identity {
  return { userId: `u-${randomBytes(4).toString('hex')}`, roles: ['user'], scopes: [], tier, via: 'jwt' };
}

describe('rate limits follow the live tier multipliers (Redis when REDIS_URL is set, ioredis-mock otherwise)', () => {
  it('the env multiplier until a snapshot is published, then the live one, without a restart', async () => {
    const resolvers = withRateLimits(
      typeDefs,
      { Query: { ping: () => 'pong' } },
      { redis, prefix: `${prefix}rl:`, tierMultipliers: { pro: 2 }, settings },
    );
    const ping = resolvers.Query.ping as GraphQLFieldResolver<unknown, { identity: Identity }>;
    const call = (identity: Identity) =>
      Promise.resolve(ping(undefined, {}, { identity }, {} as GraphQLResolveInfo)).then(
        () => 'ok',
        (error: { extensions?: { code?: string } }) => error.extensions?.code ?? 'error',
      );

    const free = user('free');
    const pro = user('pro');
    expect(tierMultiplier('pro', { tierMultipliers: { pro: 2 }, settings })).toBe(2);
    expect(await Promise.all([call(free), call(free), call(free)])).toEqual(['ok', 'ok', 'RATE_LIMITED']);
    // The env's pro=2 applies: 4 calls.
    expect(await Promise.all(Array.from({ length: 5 }, () => call(pro)))).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'RATE_LIMITED',
    ]);

    await publishSettings(
      redis,
      {
        version: 1,
        updatedAt: new Date().toISOString(),
        values: { ...DEFAULT_SETTINGS, rateLimitMultipliers: { free: 2, pro: 0.1, enterprise: 20 } },
      },
      { prefix },
    );
    const deadline = Date.now() + 10_000;
    while (settings.version() < 1) {
      if (Date.now() > deadline) throw new Error('the snapshot did not arrive');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // free now gets 2 × 2 = 4 in the same window (2 used), pro 0.1 × 2 = at least 1 (4 used: refused).
    expect(await Promise.all([call(free), call(free), call(free)])).toEqual(['ok', 'ok', 'RATE_LIMITED']);
    expect(await call(pro)).toBe('RATE_LIMITED');
    expect(await call(user('pro'))).toBe('ok');
    expect(await call(user('enterprise'))).toBe('ok');
  });
});
