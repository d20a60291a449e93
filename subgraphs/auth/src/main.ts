import { createDatabase, migrateAll, openEmbeddedPostgres, urlForRole, type DatabaseTarget } from '@supergraph/db';
import { createRedis, EnvError, importInternalVerifyKey, loadOrCreateDevKeys, stopOnSignals } from '@supergraph/kit';
import type { JWK } from 'jose';
import { loadAuthEnv, rateLimitsFromEnv } from './env.ts';
import { databaseSpec, startAuthSubgraph, type AuthConfig } from './server.ts';

/**
 * Service mode: `DATABASE_URL` set → connects as `supergraph_auth` (run
 * `npm run migrate` first), rate-limit counters in `REDIS_URL`. Without them
 * (development only) the subgraph keeps its own PGlite under
 * AUTH_EMBEDDED_DIR, migrates it itself, and counts in process.
 */
async function main(): Promise<void> {
  const env = loadAuthEnv();
  let target: DatabaseTarget;
  let closeEmbedded = async () => {};
  if (env.DATABASE_URL) {
    target = { kind: 'postgres', url: urlForRole(env.DATABASE_URL, databaseSpec.role, env.AUTH_DB_PASSWORD) };
  } else {
    if (env.SUPERGRAPH_FORBID_EMBEDDED) throw new EnvError('DATABASE_URL is unset but SUPERGRAPH_FORBID_EMBEDDED=1');
    const pglite = await openEmbeddedPostgres(env.AUTH_EMBEDDED_DIR);
    target = { kind: 'pglite', pglite };
    await migrateAll(target, [databaseSpec], { log: console.log });
    closeEmbedded = () => pglite.close();
  }
  const devKeys =
    env.AUTH_SIGNING_KEYS && env.INTERNAL_TOKEN_PUBLIC_KEY
      ? undefined
      : await loadOrCreateDevKeys(env.AUTH_DEV_KEYS_FILE);
  const signingKeys: JWK[] = env.AUTH_SIGNING_KEYS ?? devKeys?.authSigningKeys ?? [];
  const internalPublicKeyPem = env.INTERNAL_TOKEN_PUBLIC_KEY ?? devKeys?.internalPublicKeyPem ?? '';
  if (devKeys) console.warn(`[auth] using development keys from ${env.AUTH_DEV_KEYS_FILE}`);

  const config: AuthConfig = {
    signingKeys,
    issuer: env.AUTH_ISSUER,
    audience: env.AUTH_AUDIENCE,
    accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    sessionTtlDays: env.SESSION_TTL_DAYS,
    argon2: { memoryCost: env.ARGON2_MEMORY_KIB, timeCost: env.ARGON2_TIME_COST, parallelism: 1 },
    bootstrapAdmin: env.AUTH_BOOTSTRAP_ADMIN,
  };
  if (target.kind === 'postgres') {
    // Fail fast with a clear message when the database or the role is not there.
    const probe = createDatabase(target, { schema: 'auth', poolMax: 1 });
    await probe.ping().finally(() => probe.close());
  }
  const redis = await createRedis(env.REDIS_URL, { forbidEmbedded: env.SUPERGRAPH_FORBID_EMBEDDED });
  const running = await startAuthSubgraph(
    {
      target,
      internalTokenKey: await importInternalVerifyKey(internalPublicKeyPem),
      config,
      redis,
      rateLimits: rateLimitsFromEnv(env),
    },
    env.AUTH_PORT,
    env.HOST,
  );
  console.log(`[auth] listening on ${running.url}`);
  stopOnSignals('auth', async () => {
    await running.stop();
    redis.disconnect();
    await closeEmbedded();
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof EnvError ? error.message : error);
  process.exit(1);
});
