import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDatabase, type SubgraphDatabaseSpec } from '@supergraph/db';
import { startSubgraph, type RunningSubgraph, type SubgraphDeps } from '@supergraph/kit';
import {
  createAuditLog,
  createRedisRevocationPublisher,
  DEFAULT_REVOCATION_TTL_MS,
  pingRedis,
  redisOrStandIn,
  sendJson,
  type AuditLog,
  type RevocationPublisher,
} from '@supergraph/platform';
import { parse } from 'graphql';
import type { AuthDb } from './auth.table.ts';
import { assertAuthConfig, type AuthConfig } from './config.ts';
import type { AuthContext, AuthRuntime } from './context.ts';
import { createGrantsRoute, GRANTS_PATH } from './grants.route.ts';
import { createLoaders } from './loaders.ts';
import { createPasswordHasher } from './passwords.ts';
import { withClientIpRateLimits, type AuthRateLimits } from './rate-limits.ts';
import { resolvers } from './resolvers/index.ts';
import { loadSigningKeys } from './tokens.ts';

export { defaultAuthConfig, type AuthConfig } from './config.ts';
export type { Argon2Params } from './passwords.ts';
export type { PublicSigningJwk } from './tokens.ts';
export { AUTH_RATE_LIMIT_PREFIX, type AuthRateLimits } from './rate-limits.ts';
export { GRANTS_PATH } from './grants.route.ts';
export { generateProviderKeySecret } from './provider-key-cipher.ts';

/** The `auth` schema, owned by the `supergraph_auth` role. */
export const databaseSpec: SubgraphDatabaseSpec = {
  name: 'auth',
  role: 'supergraph_auth',
  schemas: [{ schema: 'auth', migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)) }],
};

export const JWKS_PATH = '/.well-known/jwks.json';

export interface AuthSubgraphDeps extends SubgraphDeps {
  config: AuthConfig;
  /**
   * Where logouts, deactivations, password, role and tier changes and key
   * revocations are announced to the gateways. Default: Redis pub/sub over
   * `redis` (the stand-in's when none is given, which reaches no gateway).
   */
  revocations?: RevocationPublisher;
  /**
   * Replaces the SDL limits, counted per client IP (`{ overrides: { 'Mutation.register': { max: 100 } } }`),
   * or switches them off (`disabled`, never in production). Tier multipliers do not apply here.
   */
  rateLimits?: AuthRateLimits;
  /** Where security events go. Default: the `<prefix>audit` stream on `redis` (`redisPrefix`, default `supergraph:`). */
  audit?: AuditLog;
}

/**
 * Starts the auth subgraph: `/graphql` (internal token required), `/health`,
 * `/ready`, the public `/.well-known/jwks.json` with every signing key's public half,
 * and `POST /internal/grants` for subgraphs acting for the user who is asking them
 * (`grants.route.ts`).
 *
 * @example
 * const auth = await startAuthSubgraph({ target, internalTokenKey, config: await defaultAuthConfig() }, 0);
 */
export async function startAuthSubgraph(
  deps: AuthSubgraphDeps,
  port: number,
  host = '127.0.0.1',
): Promise<RunningSubgraph> {
  assertAuthConfig(deps.config);
  const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));
  // Without a client: the in-process counter (one instance only), refused under SUPERGRAPH_FORBID_EMBEDDED=1.
  const { redis, release } = await redisOrStandIn(deps.redis);
  const runtime: AuthRuntime = {
    config: deps.config,
    keys: await loadSigningKeys(deps.config.signingKeys),
    passwords: createPasswordHasher(deps.config.argon2),
    revocations:
      deps.revocations ??
      createRedisRevocationPublisher(redis, {
        ...(deps.redisPrefix !== undefined ? { prefix: deps.redisPrefix } : {}),
        ttlMs: Math.max(DEFAULT_REVOCATION_TTL_MS, deps.config.accessTokenTtlSeconds * 1000),
      }),
    audit: deps.audit ?? createAuditLog(redis, { service: 'auth', prefix: deps.redisPrefix }),
  };
  const jwks = { keys: runtime.keys.publicJwks };
  const database = createDatabase<AuthDb>(deps.target, { schema: 'auth', statementTimeoutMs: deps.statementTimeoutMs });
  return startSubgraph<AuthContext>(
    {
      name: 'auth',
      typeDefs,
      resolvers: withClientIpRateLimits(typeDefs, resolvers, redis, deps.rateLimits),
      internalTokenKey: deps.internalTokenKey,
      createContext: (base) => ({
        ...base,
        db: database.db,
        loaders: createLoaders(database.db),
        auth: runtime,
        provenUserIds: new Set(),
      }),
      ready: { postgres: database.ping, redis: pingRedis(redis) },
      close: async () => {
        await runtime.audit.flush();
        await database.close();
        release();
      },
      routes: {
        [JWKS_PATH]: (_req, res) => sendJson(res, 200, jwks, { 'cache-control': 'public, max-age=300' }),
        [GRANTS_PATH]: createGrantsRoute({ db: database.db, runtime, internalTokenKey: deps.internalTokenKey }),
      },
    },
    port,
    host,
  );
}
