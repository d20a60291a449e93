/**
 * A second conversation process for the cross-process fan-out test: starts
 * on port 0 against the parent's database and Redis (`forkServer`).
 */
import { createRedis, importInternalVerifyKey } from '@supergraph/platform';
import { serveFromChild } from '@supergraph/testing';
import { startConversationSubgraph } from '../server.ts';

await serveFromChild(
  async (config: {
    databaseUrl: string;
    redisUrl: string;
    publicKeyPem: string;
    streamPrefix: string;
    rateLimitPrefix: string;
    deadUrl: string;
  }) => {
    const redis = await createRedis(config.redisUrl);
    const running = await startConversationSubgraph(
      {
        target: { kind: 'postgres', url: config.databaseUrl },
        internalTokenKey: await importInternalVerifyKey(config.publicKeyPem),
        redis,
        streamPrefix: config.streamPrefix,
        rateLimits: { prefix: config.rateLimitPrefix },
        settings: { gatewayUrl: config.deadUrl, authUrl: new URL(config.deadUrl).origin, tokenDelayMs: 2 },
        poolMax: 4,
      },
      0,
    );
    return { url: running.url, stop: () => running.stop().finally(() => redis.disconnect()) };
  },
);
