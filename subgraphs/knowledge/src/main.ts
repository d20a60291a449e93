import { migrateAll, openEmbeddedPostgres, urlForRole, type DatabaseTarget } from '@supergraph/db';
import {
  createRedis,
  importInternalVerifyKey,
  parseRateLimitOverrides,
  parseTierMultipliers,
  stopOnSignals,
} from '@supergraph/kit';
import { loadKnowledgeEnv } from './env.ts';
import { databaseSpec, startKnowledgeSubgraph } from './server.ts';

/**
 * Service mode: `DATABASE_URL` + `REDIS_URL` (logs in as `supergraph_knowledge`;
 * `npm run migrate` has run). Without them: embedded PGlite in `PGLITE_DIR`
 * (migrated here) and an in-process Redis.
 */
const env = loadKnowledgeEnv();
let target: DatabaseTarget;
if (env.DATABASE_URL) {
  target = { kind: 'postgres', url: urlForRole(env.DATABASE_URL, databaseSpec.role, env.KNOWLEDGE_DB_PASSWORD) };
} else {
  if (env.SUPERGRAPH_FORBID_EMBEDDED) throw new Error('DATABASE_URL is unset but SUPERGRAPH_FORBID_EMBEDDED=1');
  target = { kind: 'pglite', pglite: await openEmbeddedPostgres(env.PGLITE_DIR) };
  await migrateAll(target, [databaseSpec], { log: console.log });
}
const redis = await createRedis(env.REDIS_URL, { forbidEmbedded: env.SUPERGRAPH_FORBID_EMBEDDED });
const running = await startKnowledgeSubgraph(
  {
    target,
    internalTokenKey: await importInternalVerifyKey(env.INTERNAL_TOKEN_PUBLIC_KEY),
    redis,
    rateLimits: {
      tierMultipliers: parseTierMultipliers(env.RATE_LIMIT_TIER_MULTIPLIERS),
      overrides: parseRateLimitOverrides(env.KNOWLEDGE_RATE_LIMITS),
    },
    search: { candidateCap: env.KNOWLEDGE_SEARCH_CANDIDATE_CAP },
  },
  env.KNOWLEDGE_PORT,
  env.KNOWLEDGE_HOST,
);
console.log(`knowledge subgraph listening on ${running.url}`);

stopOnSignals('knowledge', async () => {
  await running.stop();
  redis.disconnect();
  if (target.kind === 'pglite') await target.pglite.close();
});
