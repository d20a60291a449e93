import { createSecretKey, randomBytes } from 'node:crypto';
import { generateSigningJwk, loadScopeCatalog, type ScopeCatalog } from '@supergraph/platform';
import type { JWK } from 'jose';
import { providerKeySecretProblems, type ProviderKeySecret } from './provider-key-cipher.ts';
import { ARGON2_MIN_MEMORY_KIB, ARGON2_MIN_TIME_COST, assertArgon2Params, type Argon2Params } from './passwords.ts';
import { signingKeyProblems } from './tokens.ts';

/** Everything the auth subgraph needs besides its database and the gateway's key; built from env by `main.ts`. */
export interface AuthConfig {
  /** Private Ed25519 JWKs with `kid`; the first signs, all are published in the JWKS. */
  signingKeys: JWK[];
  /** Which scopes each role holds (`schema/scopes.json`, collected from every subgraph's descriptor). */
  scopes: ScopeCatalog;
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  sessionTtlDays: number;
  argon2: Argon2Params;
  /** Username promoted to admin when registered while the install has no admin yet. */
  bootstrapAdmin?: string | undefined;
  /** AES-256-GCM secrets for users' provider keys (`AUTH_PROVIDER_KEY_SECRETS`); the first encrypts. */
  providerKeySecrets: ProviderKeySecret[];
  /**
   * Subgraphs whose internal tokens `/internal/grants` accepts as proof that a
   * user asked them just now (`AUTH_GRANT_AUDIENCES`, default `conversation`). Never `auth`.
   */
  grantAudiences: string[];
}

export const DEFAULT_GRANT_AUDIENCES: readonly string[] = ['conversation'];

export const DEFAULT_ISSUER = 'supergraph-auth';
export const DEFAULT_AUDIENCE = 'supergraph';

/**
 * A complete config for tests and development: a fresh signing key unless
 * given, and the argon2 minimums (fast enough for tests, still argon2id).
 *
 * @example
 * const config = await defaultAuthConfig({ bootstrapAdmin: 'root' });
 */
export async function defaultAuthConfig(overrides: Partial<AuthConfig> = {}): Promise<AuthConfig> {
  return {
    signingKeys: overrides.signingKeys ?? [await generateSigningJwk()],
    scopes: overrides.scopes ?? loadScopeCatalog(),
    issuer: overrides.issuer ?? DEFAULT_ISSUER,
    audience: overrides.audience ?? DEFAULT_AUDIENCE,
    accessTokenTtlSeconds: overrides.accessTokenTtlSeconds ?? 900,
    sessionTtlDays: overrides.sessionTtlDays ?? 7,
    argon2: overrides.argon2 ?? { memoryCost: ARGON2_MIN_MEMORY_KIB, timeCost: ARGON2_MIN_TIME_COST, parallelism: 1 },
    bootstrapAdmin: overrides.bootstrapAdmin,
    providerKeySecrets: overrides.providerKeySecrets ?? [{ version: 1, key: createSecretKey(randomBytes(32)) }],
    grantAudiences: overrides.grantAudiences ?? [...DEFAULT_GRANT_AUDIENCES],
  };
}

/** Throws with every problem of `config` (start-up refuses a bad one). */
export function assertAuthConfig(config: AuthConfig): void {
  const problems = signingKeyProblems(config.signingKeys).map((problem) => `signingKeys: ${problem}`);
  if (!config.issuer) problems.push('issuer must not be empty');
  if (!config.audience) problems.push('audience must not be empty');
  if (!Number.isInteger(config.accessTokenTtlSeconds) || config.accessTokenTtlSeconds < 30) {
    problems.push('accessTokenTtlSeconds must be an integer of at least 30');
  }
  if (!(config.sessionTtlDays > 0)) problems.push('sessionTtlDays must be positive');
  problems.push(
    ...providerKeySecretProblems(config.providerKeySecrets).map((problem) => `providerKeySecrets: ${problem}`),
  );
  if (config.grantAudiences.includes('auth'))
    problems.push('grantAudiences must not include auth (a hop to auth must not be replayable as a grant)');
  try {
    assertArgon2Params(config.argon2);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (problems.length > 0) throw new Error(`Invalid auth config:\n  - ${problems.join('\n  - ')}`);
}
