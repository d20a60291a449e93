export { AUTH_RATE_LIMIT_PREFIX, databaseSpec, defaultAuthConfig, JWKS_PATH, startAuthSubgraph } from './server.ts';
export type { Argon2Params, AuthConfig, AuthRateLimits, AuthSubgraphDeps, PublicSigningJwk } from './server.ts';
