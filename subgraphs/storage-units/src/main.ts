import { migrateAll, openEmbeddedPostgres, urlForRole, type DatabaseTarget } from '@supergraph/db';
import { createRedis, EnvError, importInternalVerifyKey, loadOrCreateDevKeys, stopOnSignals } from '@supergraph/kit';
import { loadEnv } from './env.ts';
import { databaseSpec, startStorageUnitsSubgraph } from './server.ts';

/**
 * Service mode: `node subgraphs/storage-units/src/main.ts`. Connects as the
 * `supergraph_storage_units` role (schemas must be migrated: `npm run migrate`),
 * listens, and drains on SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  const env = loadEnv();
  let closeEmbedded = async () => {};
  let target: DatabaseTarget;
  if (env.DATABASE_URL) {
    target = { kind: 'postgres', url: urlForRole(env.DATABASE_URL, databaseSpec.role, env.STORAGE_UNITS_DB_PASSWORD) };
  } else {
    if (env.SUPERGRAPH_FORBID_EMBEDDED) throw new EnvError('DATABASE_URL is unset but SUPERGRAPH_FORBID_EMBEDDED=1');
    const pglite = await openEmbeddedPostgres(env.PGLITE_DIR);
    target = { kind: 'pglite', pglite };
    closeEmbedded = () => pglite.close();
    // Nobody else migrates a private embedded database; service mode runs `npm run migrate` instead.
    await migrateAll(target, [databaseSpec]);
  }
  const publicKeyPem =
    env.INTERNAL_TOKEN_PUBLIC_KEY?.replaceAll('\\n', '\n') ??
    (await loadOrCreateDevKeys(env.DEV_KEYS_FILE)).internalPublicKeyPem;
  const redis = await createRedis(env.REDIS_URL, { forbidEmbedded: env.SUPERGRAPH_FORBID_EMBEDDED });
  const subgraph = await startStorageUnitsSubgraph(
    {
      target,
      internalTokenKey: await importInternalVerifyKey(publicKeyPem),
      redis,
      rateLimits: {
        tierMultipliers: env.RATE_LIMIT_TIER_MULTIPLIERS,
        overrides: env.RATE_LIMIT_OVERRIDES,
        disabled: env.RATE_LIMITS_DISABLED,
      },
    },
    env.STORAGE_UNITS_PORT,
    env.STORAGE_UNITS_HOST,
  );
  console.log(`[storage-units] listening on ${subgraph.url} (${target.kind})`);
  stopOnSignals('storage-units', async () => {
    await subgraph.stop();
    redis.disconnect();
    await closeEmbedded();
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof EnvError ? error.message : error);
  process.exit(1);
});
