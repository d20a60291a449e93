/**
 * A second knowledge subgraph process for the cross-process rate-limit test:
 * starts on port 0 against the parent's database and Redis and prints
 * `{"url": ...}` on stdout; exits on SIGTERM or when stdin closes.
 */
import { parseRateLimitOverrides } from '@supergraph/kit';
import { createRedis, importInternalVerifyKey } from '@supergraph/platform';
import { startKnowledgeSubgraph } from '../server.ts';

const config = JSON.parse(process.env['KNOWLEDGE_CHILD_CONFIG'] ?? '{}') as {
  databaseUrl: string;
  redisUrl: string;
  publicKeyPem: string;
  prefix: string;
  overrides: string;
};
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
process.stdout.write(`${JSON.stringify({ url: running.url })}\n`);

const shutdown = () => {
  void running.stop().finally(() => {
    redis.disconnect();
    process.exit(0);
  });
};
process.once('SIGTERM', shutdown);
process.stdin.on('close', shutdown);
process.stdin.resume();
