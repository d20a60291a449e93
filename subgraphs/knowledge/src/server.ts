import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import { createDatabase, QueryObserver, type SubgraphDatabaseSpec } from '@supergraph/db';
import { startSubgraph, withRateLimits, type RunningSubgraph, type SubgraphDeps } from '@supergraph/kit';
import { pingRedis, redisOrStandIn } from '@supergraph/platform';
import type { KnowledgeContext, SearchSettings } from './context.ts';
import type { KnowledgeDb } from './knowledge.table.ts';
import { createLoaders } from './loaders.ts';
import { resolvers } from './resolvers/index.ts';

export type { RunningSubgraph } from '@supergraph/kit';

/** What knowledge owns in PostgreSQL (used by `npm run migrate` and the tests). */
export const databaseSpec: SubgraphDatabaseSpec = {
  name: 'knowledge',
  role: 'supergraph_knowledge',
  schemas: [{ schema: 'knowledge', migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)) }],
  extensions: ['pg_trgm'],
};

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export const DEFAULT_SEARCH_SETTINGS: Readonly<SearchSettings> = Object.freeze({
  candidateCap: 1000,
  fuzzyBelow: 3,
  countCap: 10_000,
});

export interface KnowledgeDeps extends SubgraphDeps {
  search?: Partial<SearchSettings>;
  /** Called once per SQL statement executed (tests count queries with it). */
  onQuery?: () => void;
  poolMax?: number;
}

/**
 * Starts the knowledge subgraph on `port` (0: any free port). Migrations must
 * have run (`migrateAll(target, [databaseSpec])`).
 *
 * @example
 * const running = await startKnowledgeSubgraph({ target, internalTokenKey }, 0);
 * // ... running.url, then await running.stop();
 */
export async function startKnowledgeSubgraph(
  deps: KnowledgeDeps,
  port: number,
  host?: string,
): Promise<RunningSubgraph> {
  const database = createDatabase<KnowledgeDb>(deps.target, {
    schema: 'knowledge',
    poolMax: deps.poolMax ?? 10,
    statementTimeoutMs: deps.statementTimeoutMs,
  });
  const db = deps.onQuery ? database.db.withPlugin(new QueryObserver(deps.onQuery)) : database.db;
  const { redis, release } = await redisOrStandIn(deps.redis);
  const search: SearchSettings = { ...DEFAULT_SEARCH_SETTINGS, ...deps.search };
  return startSubgraph<KnowledgeContext>(
    {
      name: 'knowledge',
      typeDefs,
      resolvers: withRateLimits(typeDefs, resolvers, { ...deps.rateLimits, redis }),
      internalTokenKey: deps.internalTokenKey,
      createContext: (base) => ({ ...base, db, loaders: createLoaders(db), search }),
      ready: { postgres: database.ping, redis: pingRedis(redis) },
      close: async () => {
        await database.close();
        release();
      },
    },
    port,
    host,
  );
}
