/**
 * A second conversation process for the cross-process fan-out test: starts
 * on port 0 against the parent's database and Redis and prints `{"url": ...}`
 * on stdout; exits on SIGTERM or when stdin closes.
 */
import { createRedis, importInternalVerifyKey } from '@supergraph/platform';
import { startConversationSubgraph } from '../server.ts';

const config = JSON.parse(process.env['CONVERSATION_CHILD_CONFIG'] ?? '{}') as {
  databaseUrl: string;
  redisUrl: string;
  publicKeyPem: string;
  streamPrefix: string;
  rateLimitPrefix: string;
  deadUrl: string;
};
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
