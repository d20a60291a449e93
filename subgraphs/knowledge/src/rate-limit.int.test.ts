import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importInternalVerifyKey } from '@supergraph/platform';
import { forkServer, type ForkedServer } from '@supergraph/testing';
import { startKnowledgeSubgraph, type RunningSubgraph } from './server.ts';
import { anonymousIdentity, startHarness, userIdentity, type KnowledgeHarness } from './testing/harness.ts';

const SEARCH = '{ searchKnowledge(query: "anything", first: 1) { edges { rank } } }';
const ASK = '{ askKnowledge(question: "what is light?") { rank } }';
const INGEST = 'mutation ($input: KnowledgeInput!) { ingestKnowledge(input: $input) { id } }';

/** The overrides every subgraph of this file runs with (askKnowledge small so tiers are cheap to test). */
const OVERRIDES = 'Query.askKnowledge=2/1h';

let harness: KnowledgeHarness;

beforeAll(async () => {
  harness = await startHarness({ rateLimits: { overrides: { 'Query.askKnowledge': { max: 2 } } } });
});

afterAll(async () => {
  await harness?.close();
});

function codes(results: ReadonlyArray<{ errors?: Array<{ extensions?: Record<string, unknown> }> }>): string[] {
  return results.map((result) => String(result.errors?.[0]?.extensions?.['code'] ?? 'OK'));
}

describe('rate limits', () => {
  it('allows a free user 30 searches an hour, then answers RATE_LIMITED with the retry time', async () => {
    const user = userIdentity();
    for (let i = 0; i < 30; i++) expect((await harness.call(SEARCH, {}, user)).errors).toBeUndefined();
    const refused = await harness.call(SEARCH, {}, user);
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    const retry = Number(refused.errors?.[0]?.extensions?.['retryAfterSeconds']);
    expect(retry).toBeGreaterThan(3500);
    expect(retry).toBeLessThanOrEqual(3600);
    // Another user is unaffected.
    expect((await harness.call(SEARCH, {}, userIdentity())).errors).toBeUndefined();
  });

  it('scales the budget by tier: pro ×5, enterprise ×20', async () => {
    const allowedCount = async (tier: 'free' | 'pro' | 'enterprise', attempts: number) => {
      const user = userIdentity({ tier });
      const results = await Promise.all(Array.from({ length: attempts }, () => harness.call(ASK, {}, user)));
      return codes(results).filter((code) => code === 'OK').length;
    };
    expect(await allowedCount('free', 5)).toBe(2);
    expect(await allowedCount('pro', 15)).toBe(10);
    expect(await allowedCount('enterprise', 45)).toBe(40);
  });

  it('keys anonymous callers by client IP', async () => {
    const a = anonymousIdentity('192.0.2.1');
    const b = anonymousIdentity('192.0.2.2');
    // Exactly two admitted and one refused, in whatever order the three raced.
    expect(codes(await Promise.all([1, 2, 3].map(() => harness.call(ASK, {}, a)))).sort()).toEqual([
      'OK',
      'OK',
      'RATE_LIMITED',
    ]);
    expect(codes([await harness.call(ASK, {}, b)])).toEqual(['OK']);
  });

  it('limits ingestKnowledge to 5 an hour on the free tier; refused callers spend no quota', async () => {
    const user = userIdentity();
    const anonymous = await harness.call(INGEST, { input: { title: 'x' } }, { ...anonymousIdentity(), userId: null });
    expect(anonymous.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await harness.call(INGEST, { input: { title: `Limited ${i}` } }, user));
    expect(codes(results)).toEqual(['OK', 'OK', 'OK', 'OK', 'OK', 'RATE_LIMITED']);
  });

  it('admits exactly 10 of 50 simultaneous calls against a limit of 10 across two subgraph processes', async () => {
    const overrides = `Query.searchKnowledge=10/1h,${OVERRIDES}`;
    // The second process logs in as the subgraph's own role, like the first.
    const databaseUrl = harness.target.kind === 'postgres' ? harness.target.url : undefined;
    const redisUrl = process.env['REDIS_URL'];
    let second: { url: string; stop: () => Promise<void> };
    // A first server with the limit of 10 (the harness' own runs with the default 30).
    const first: RunningSubgraph = await startKnowledgeSubgraph(
      {
        target: harness.target,
        internalTokenKey: await importInternalVerifyKey(harness.publicKeyPem),
        redis: harness.redis,
        rateLimits: { prefix: harness.rateLimitPrefix, overrides: { 'Query.searchKnowledge': { max: 10 } } },
      },
      0,
    );
    if (databaseUrl && redisUrl) {
      second = await forkSubgraph({
        databaseUrl,
        redisUrl,
        publicKeyPem: harness.publicKeyPem,
        prefix: harness.rateLimitPrefix,
        overrides,
      });
    } else {
      // Embedded mode: PGlite and ioredis-mock live in this process, so the "second process" is a second server here.
      const running = await startKnowledgeSubgraph(
        {
          target: harness.target,
          internalTokenKey: await importInternalVerifyKey(harness.publicKeyPem),
          redis: harness.redis,
          rateLimits: { prefix: harness.rateLimitPrefix, overrides: { 'Query.searchKnowledge': { max: 10 } } },
        },
        0,
      );
      second = { url: running.url, stop: running.stop };
    }
    try {
      const user = userIdentity();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => harness.call(SEARCH, {}, user, i % 2 === 0 ? first.url : second.url)),
      );
      const outcome = codes(results);
      expect(outcome.filter((code) => code === 'OK')).toHaveLength(10);
      expect(outcome.filter((code) => code === 'RATE_LIMITED')).toHaveLength(40);
      // 25 calls reached each server: per-process counters would have admitted 20.
    } finally {
      await first.stop();
      await second.stop();
    }
  });
});

function forkSubgraph(config: Record<string, string>): Promise<ForkedServer> {
  return forkServer(fileURLToPath(new URL('./testing/child-subgraph.ts', import.meta.url)), config);
}
