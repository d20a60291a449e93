export { databaseSpec, defaultAuthConfig, JWKS_PATH, startAuthSubgraph } from './server.ts';
export type { Argon2Params, AuthConfig, AuthSubgraphDeps, PublicSigningJwk } from './server.ts';
