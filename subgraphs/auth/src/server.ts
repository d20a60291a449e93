import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDatabase, type DatabaseTarget, type SubgraphDatabaseSpec } from '@supergraph/db';
import { sendJson, startSubgraph, type Redis, type RunningSubgraph } from '@supergraph/kit';
import { parse } from 'graphql';
import type { CryptoKey, KeyObject } from 'jose';
import type { AuthDb } from './auth.table.ts';
import { assertAuthConfig, type AuthConfig } from './config.ts';
import type { AuthContext, AuthRuntime } from './context.ts';
import { createLoaders } from './loaders.ts';
import { createPasswordHasher } from './passwords.ts';
import { resolvers } from './resolvers/index.ts';
import { loadSigningKeys } from './tokens.ts';

export { defaultAuthConfig, type AuthConfig } from './config.ts';
export type { Argon2Params } from './passwords.ts';
export type { PublicSigningJwk } from './tokens.ts';

/** The `auth` schema, owned by the `supergraph_auth` role. */
export const databaseSpec: SubgraphDatabaseSpec = {
  name: 'auth',
  role: 'supergraph_auth',
  schemas: [{ schema: 'auth', migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)) }],
};

export const JWKS_PATH = '/.well-known/jwks.json';

export interface AuthSubgraphDeps {
  /** Where the `auth` schema lives (already migrated). */
  target: DatabaseTarget;
  /** The gateway's public key for internal tokens. */
  internalTokenKey: CryptoKey | KeyObject;
  config: AuthConfig;
  /** Unused for now; accepted so every subgraph starts with the same deps shape. */
  redis?: Redis;
}

/**
 * Starts the auth subgraph: `/graphql` (internal token required), `/health`,
 * `/ready` and the public `/.well-known/jwks.json` with every signing key's public half.
 *
 * @example
 * const auth = await startAuthSubgraph({ target, internalTokenKey, config: await defaultAuthConfig() }, 0);
 */
export async function startAuthSubgraph(deps: AuthSubgraphDeps, port: number, host = '127.0.0.1'): Promise<RunningSubgraph> {
  assertAuthConfig(deps.config);
  const runtime: AuthRuntime = {
    config: deps.config,
    keys: await loadSigningKeys(deps.config.signingKeys),
    passwords: createPasswordHasher(deps.config.argon2),
  };
  const jwks = JSON.stringify({ keys: runtime.keys.publicJwks });
  const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));
  const database = createDatabase<AuthDb>(deps.target, { schema: 'auth' });
  try {
    return await startSubgraph<AuthContext>(
      {
        name: 'auth',
        typeDefs,
        resolvers,
        internalTokenKey: deps.internalTokenKey,
        createContext: (base) => ({ ...base, db: database.db, loaders: createLoaders(database.db), auth: runtime, provenUserIds: new Set() }),
        ready: database.ping,
        close: database.close,
        routes: {
          [JWKS_PATH]: (_req, res) => sendJson(res, 200, JSON.parse(jwks), { 'cache-control': 'public, max-age=300' }),
        },
      },
      port,
      host,
    );
  } catch (error) {
    await database.close();
    throw error;
  }
}
