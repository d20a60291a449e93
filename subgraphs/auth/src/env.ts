import type { ConfigureOptions } from '@supergraph/kit';
import { checkEnv, loadScopeCatalog, repoPath, type ScopeCatalog } from '@supergraph/platform';
import type { JWK } from 'jose';
import { z } from 'zod';
import { ARGON2_MIN_MEMORY_KIB, ARGON2_MIN_TIME_COST } from './passwords.ts';
import { DEFAULT_AUDIENCE, DEFAULT_GRANT_AUDIENCES, DEFAULT_ISSUER, type AuthConfig } from './config.ts';
import { parseProviderKeySecrets, type ProviderKeySecret } from './provider-key-cipher.ts';
import { signingKeyProblems } from './tokens.ts';

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value));

const signingKeys = optionalText.transform((value, ctx): JWK[] | undefined => {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON array of private Ed25519 JWKs' });
    return z.NEVER;
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'object' && item !== null)) {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON array of private Ed25519 JWKs' });
    return z.NEVER;
  }
  const keys = parsed as JWK[];
  for (const problem of signingKeyProblems(keys)) ctx.addIssue({ code: 'custom', message: problem });
  return keys;
});

const providerKeySecrets = optionalText.transform((value, ctx): ProviderKeySecret[] | undefined => {
  if (value === undefined) return undefined;
  const { secrets, problems } = parseProviderKeySecrets(value);
  for (const problem of problems) ctx.addIssue({ code: 'custom', message: problem });
  return secrets;
});

const grantAudiences = optionalText.transform((value, ctx): string[] => {
  if (value === undefined) return [...DEFAULT_GRANT_AUDIENCES];
  const audiences = [...new Set(value.split(',').map((audience) => audience.trim()))].filter(Boolean);
  if (audiences.length === 0) ctx.addIssue({ code: 'custom', message: 'must name at least one subgraph' });
  for (const audience of audiences) {
    if (!/^[a-z][a-z0-9-]*$/.test(audience))
      ctx.addIssue({ code: 'custom', message: `"${audience}" is not a subgraph name` });
    if (audience === 'auth')
      ctx.addIssue({ code: 'custom', message: 'must not include auth (a hop to auth must not be replayable)' });
  }
  return audiences;
});

const authEnvSchema = z.object({
  AUTH_SIGNING_KEYS: signingKeys,
  AUTH_ISSUER: z.string().min(1).default(DEFAULT_ISSUER),
  AUTH_AUDIENCE: z.string().min(1).default(DEFAULT_AUDIENCE),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
  SESSION_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  ARGON2_MEMORY_KIB: z.coerce.number().int().min(ARGON2_MIN_MEMORY_KIB).default(ARGON2_MIN_MEMORY_KIB),
  ARGON2_TIME_COST: z.coerce.number().int().min(ARGON2_MIN_TIME_COST).default(ARGON2_MIN_TIME_COST),
  AUTH_BOOTSTRAP_ADMIN: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{3,32}$/, 'must be a valid username (3-32 of A-Z a-z 0-9 _ -)')
      .optional(),
  ),
  /** The composed scope catalog; default `schema/scopes.json`. */
  SCOPES_PATH: optionalText,
  /** `<version>:<32 bytes hex or base64>,...`, newest first: encrypts users' provider keys. */
  AUTH_PROVIDER_KEY_SECRETS: providerKeySecrets,
  /** Subgraphs whose internal tokens `/internal/grants` accepts; default `conversation`. */
  AUTH_GRANT_AUDIENCES: grantAudiences,
});

/**
 * Auth's own variables (the shared ones, `DATABASE_URL`, `REDIS_URL`,
 * `AUTH_PORT`, `AUTH_RATE_LIMITS`…, are the service runner's). Production
 * insists on real signing keys; outside production the development keys
 * stand in for unset ones.
 */
export function authConfigFromEnv(
  source: NodeJS.ProcessEnv,
  options: ConfigureOptions,
): { config: AuthConfig } | { problems: string[] } {
  const { data, problems } = checkEnv(authEnvSchema, source);
  if (options.production && !source['AUTH_SIGNING_KEYS']?.trim())
    problems.push('AUTH_SIGNING_KEYS: required in production');
  if (options.production && !source['AUTH_PROVIDER_KEY_SECRETS']?.trim())
    problems.push('AUTH_PROVIDER_KEY_SECRETS: required in production');
  if (!data || problems.length > 0) return { problems };
  let scopes: ScopeCatalog;
  try {
    scopes = loadScopeCatalog(data.SCOPES_PATH ? repoPath(data.SCOPES_PATH) : undefined);
  } catch (error) {
    return { problems: [`SCOPES_PATH: ${(error as Error).message}`] };
  }
  const signingKeys = data.AUTH_SIGNING_KEYS ?? options.devKeys?.authSigningKeys;
  if (!signingKeys) return { problems: ['AUTH_SIGNING_KEYS: required (no development keys to fall back on)'] };
  const providerKeySecrets = data.AUTH_PROVIDER_KEY_SECRETS ?? devProviderKeySecrets(options);
  if (!providerKeySecrets)
    return { problems: ['AUTH_PROVIDER_KEY_SECRETS: required (no development keys to fall back on)'] };
  return {
    config: {
      signingKeys,
      scopes,
      issuer: data.AUTH_ISSUER,
      audience: data.AUTH_AUDIENCE,
      accessTokenTtlSeconds: data.ACCESS_TOKEN_TTL_SECONDS,
      sessionTtlDays: data.SESSION_TTL_DAYS,
      argon2: { memoryCost: data.ARGON2_MEMORY_KIB, timeCost: data.ARGON2_TIME_COST, parallelism: 1 },
      bootstrapAdmin: data.AUTH_BOOTSTRAP_ADMIN,
      providerKeySecrets,
      grantAudiences: data.AUTH_GRANT_AUDIENCES,
    },
  };
}

/** The development secret of `.data/dev-keys.json` as version 1 (files written before it existed lack it). */
function devProviderKeySecrets(options: ConfigureOptions): ProviderKeySecret[] | undefined {
  const text = options.devKeys?.providerKeySecret;
  if (!text) return undefined;
  const { secrets, problems } = parseProviderKeySecrets(text);
  return problems.length === 0 ? secrets : undefined;
}
