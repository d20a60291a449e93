/**
 * A second knowledge subgraph process for the cross-process rate-limit test:
 * starts on port 0 against the parent's database and Redis (`forkServer`).
 */
import { parseRateLimitOverrides } from '@supergraph/kit';
import { createRedis, importInternalVerifyKey } from '@supergraph/platform';
import { serveFromChild } from '@supergraph/testing';
import { startKnowledgeSubgraph } from '../server.ts';

await serveFromChild(
  async (config: {
    databaseUrl: string;
    redisUrl: string;
    publicKeyPem: string;
    prefix: string;
    overrides: string;
  }) => {
    const redis = await createRedis(config.redisUrl);
    const running = await startKnowledgeSubgraph(
      {
        target: { kind: 'postgres', url: config.databaseUrl },
        internalTokenKey: await importInternalVerifyKey(config.publicKeyPem),
        redis,
        rateLimits: { prefix: config.prefix, overrides: parseRateLimitOverrides(config.overrides) },
        poolMax: 4,
      },
      0,
    );
    return { url: running.url, stop: () => running.stop().finally(() => redis.disconnect()) };
  },
);
