import { fileURLToPath } from 'node:url';
import { defineSubgraph } from '@supergraph/kit';
import { generateSigningJwk } from '@supergraph/platform';
import { authConfigFromEnv } from './env.ts';
import { generateProviderKeySecret } from './provider-key-cipher.ts';
import { databaseSpec, startAuthSubgraph } from './server.ts';

export {
  AUTH_RATE_LIMIT_PREFIX,
  databaseSpec,
  defaultAuthConfig,
  generateProviderKeySecret,
  GRANTS_PATH,
  JWKS_PATH,
  startAuthSubgraph,
} from './server.ts';
export type { Argon2Params, AuthConfig, AuthRateLimits, AuthSubgraphDeps, PublicSigningJwk } from './server.ts';

/** The auth subgraph: users, credentials, sessions, API keys, preferences; issues the access tokens. */
export const auth = defineSubgraph({
  name: 'auth',
  description: 'users, credentials, sessions, API keys, preferences',
  port: 4001,
  database: databaseSpec,
  schemaFile: fileURLToPath(new URL('./schema.graphql', import.meta.url)),
  codegen: { context: 'AuthContext', tableSchemas: ['auth'] },
  scopes: { user: ['profile:read', 'profile:write'], admin: ['admin'] },
  configure: authConfigFromEnv,
  renamed: {
    AUTH_EMBEDDED_DIR: 'DATA_DIR (started alone, auth keeps DATA_DIR/pglite-auth)',
    AUTH_DEV_KEYS_FILE: 'DATA_DIR (development keys live in DATA_DIR/dev-keys.json)',
    AUTH_RATE_LIMIT_REGISTER: 'AUTH_RATE_LIMITS=Mutation.register=5/1h',
    AUTH_RATE_LIMIT_LOGIN: 'AUTH_RATE_LIMITS=Mutation.login=10/1h',
    AUTH_RATE_LIMIT_REFRESH: 'AUTH_RATE_LIMITS=Mutation.refresh=30/1h',
    AUTH_RATE_LIMIT_DISABLED: 'RATE_LIMITS_DISABLED',
  },
  secrets: async () => ({
    AUTH_SIGNING_KEYS: `'${JSON.stringify([await generateSigningJwk()])}'`,
    AUTH_PROVIDER_KEY_SECRETS: generateProviderKeySecret(),
  }),
  start: (runtime, config) => startAuthSubgraph({ ...runtime, config }, runtime.port, runtime.host),
});
