import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, QueryObserver, type SubgraphDatabaseSpec } from '@supergraph/db';
import { startSubgraph, withRateLimits, type RunningSubgraph, type SubgraphDeps } from '@supergraph/kit';
import { pingRedis, redisOrStandIn } from '@supergraph/platform';
import { parse } from 'graphql';
import type { StorageContext } from './context.ts';
import { createLoaders } from './loaders.ts';
import { resolvers } from './resolvers/index.ts';
import { syncUnitRegistry } from './registry.repository.ts';
import type { StorageDb } from './storage.table.ts';
import { REGISTRY_SCHEMA, UNITS } from './units.ts';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * What storage-units owns in PostgreSQL: the registry schema and one schema
 * per unit of `units.ts`, every unit schema migrated from the same folder
 * (each keeps its own migration table), all owned by one role.
 */
export const databaseSpec: SubgraphDatabaseSpec = {
  name: 'storage-units',
  role: 'supergraph_storage_units',
  schemas: [
    { schema: REGISTRY_SCHEMA, migrationsDir: path.join(packageRoot, 'migrations', 'registry') },
    ...UNITS.map((unit) => ({ schema: unit.schema, migrationsDir: path.join(packageRoot, 'migrations', 'unit') })),
  ],
};

/** The subgraph SDL (also read by `npm run compose`). */
export const typeDefs = parse(readFileSync(path.join(packageRoot, 'src', 'schema.graphql'), 'utf8'));

export interface StorageUnitsDeps extends SubgraphDeps {
  /** Called once per SQL statement the resolvers execute (tests count queries with it). */
  onQuery?: () => void;
}

/**
 * Starts the storage-units subgraph: syncs the unit registry from `units.ts`
 * (the schemas must be migrated), then serves `/graphql`, `/health`, `/ready`.
 *
 * @example
 * const subgraph = await startStorageUnitsSubgraph({ target, internalTokenKey }, 4003);
 */
export async function startStorageUnitsSubgraph(
  deps: StorageUnitsDeps,
  port: number,
  host = '127.0.0.1',
): Promise<RunningSubgraph> {
  const database = createDatabase<StorageDb>(deps.target, {
    schema: REGISTRY_SCHEMA,
    statementTimeoutMs: deps.statementTimeoutMs,
  });
  const db = deps.onQuery ? database.db.withPlugin(new QueryObserver(deps.onQuery)) : database.db;
  const { redis, release } = await redisOrStandIn(deps.redis);
  const close = async () => {
    await database.close();
    release();
  };
  await syncUnitRegistry(database.db).catch(async (error: unknown) => {
    await close();
    throw error;
  });
  return startSubgraph<StorageContext>(
    {
      name: 'storage-units',
      typeDefs,
      resolvers: withRateLimits(typeDefs, resolvers, { ...deps.rateLimits, redis }),
      internalTokenKey: deps.internalTokenKey,
      createContext: (base) => ({
        ...base,
        db,
        target: deps.target,
        loaders: createLoaders(db),
      }),
      ready: { postgres: database.ping, redis: pingRedis(redis) },
      close,
    },
    port,
    host,
  );
}
