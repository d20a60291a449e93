import { EnvError, flag, isWeakSecret, nodeEnv, optionalUrl, port } from '@supergraph/kit';
import type { JWK } from 'jose';
import { z } from 'zod';
import { ARGON2_MIN_MEMORY_KIB, ARGON2_MIN_TIME_COST } from './passwords.ts';
import { parseRateLimit, type AuthRateLimits } from './rate-limits.ts';
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

/** `5/1h` or `5` (the SDL's window); unset keeps the SDL's value. */
const rateLimit = optionalText.transform((value, ctx) => {
  try {
    return parseRateLimit(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** The database password must be at least this long in production. */
export const MIN_DB_PASSWORD_LENGTH = 16;

const authEnvSchema = z.object({
  AUTH_PORT: port(4001),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: optionalUrl,
  AUTH_DB_PASSWORD: optionalText,
  AUTH_SIGNING_KEYS: signingKeys,
  AUTH_ISSUER: z.string().min(1).default('supergraph-auth'),
  AUTH_AUDIENCE: z.string().min(1).default('supergraph'),
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
  INTERNAL_TOKEN_PUBLIC_KEY: optionalText,
  /** Rate-limit counters shared by every instance. Required in production. */
  REDIS_URL: optionalUrl,
  AUTH_RATE_LIMIT_REGISTER: rateLimit,
  AUTH_RATE_LIMIT_LOGIN: rateLimit,
  AUTH_RATE_LIMIT_REFRESH: rateLimit,
  /** Benchmarks only; production refuses it. */
  AUTH_RATE_LIMIT_DISABLED: flag(false),
  /** CI: no PGlite, no in-process Redis, whatever else is unset. */
  SUPERGRAPH_FORBID_EMBEDDED: flag(false),
  /** Development only: where keys are generated and kept when AUTH_SIGNING_KEYS / INTERNAL_TOKEN_PUBLIC_KEY are unset. */
  AUTH_DEV_KEYS_FILE: z.string().default('.data/dev-keys.json'),
  /** Development only: PGlite directory when DATABASE_URL is unset. */
  AUTH_EMBEDDED_DIR: z.string().default('.data/pglite-auth'),
  NODE_ENV: nodeEnv,
});

export type AuthEnv = z.infer<typeof authEnvSchema>;

/**
 * Reads and checks the environment once, reporting every problem together.
 * Production refuses to start without real keys, a database with a strong
 * password and Redis: no generated development keys, no embedded PostgreSQL,
 * no per-process rate-limit counters, no switched-off rate limits.
 */
export function loadAuthEnv(source: NodeJS.ProcessEnv = process.env): Readonly<AuthEnv> {
  const result = authEnvSchema.safeParse(source);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
  if (source['NODE_ENV'] === 'production') {
    const required = ['AUTH_SIGNING_KEYS', 'INTERNAL_TOKEN_PUBLIC_KEY', 'DATABASE_URL', 'REDIS_URL'] as const;
    for (const name of required) {
      if (!source[name]?.trim()) problems.push(`${name}: required in production`);
    }
    if (source['DATABASE_URL']?.trim() && isWeakSecret(source['AUTH_DB_PASSWORD'], MIN_DB_PASSWORD_LENGTH)) {
      problems.push(
        `AUTH_DB_PASSWORD: required in production with DATABASE_URL, at least ${MIN_DB_PASSWORD_LENGTH} characters and not a placeholder`,
      );
    }
    if (flag(false).parse(source['AUTH_RATE_LIMIT_DISABLED']))
      problems.push('AUTH_RATE_LIMIT_DISABLED: not allowed in production');
  }
  if (problems.length > 0 || !result.success) {
    throw new EnvError(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
  return Object.freeze(result.data);
}

/** The `AUTH_RATE_LIMIT_*` variables as `startAuthSubgraph`'s `rateLimits`. */
export function rateLimitsFromEnv(
  env: Pick<
    AuthEnv,
    'AUTH_RATE_LIMIT_REGISTER' | 'AUTH_RATE_LIMIT_LOGIN' | 'AUTH_RATE_LIMIT_REFRESH' | 'AUTH_RATE_LIMIT_DISABLED'
  >,
): AuthRateLimits {
  const overrides: Record<string, { max: number; windowMs?: number }> = {};
  if (env.AUTH_RATE_LIMIT_REGISTER) overrides['Mutation.register'] = env.AUTH_RATE_LIMIT_REGISTER;
  if (env.AUTH_RATE_LIMIT_LOGIN) overrides['Mutation.login'] = env.AUTH_RATE_LIMIT_LOGIN;
  if (env.AUTH_RATE_LIMIT_REFRESH) overrides['Mutation.refresh'] = env.AUTH_RATE_LIMIT_REFRESH;
  return { overrides, disabled: env.AUTH_RATE_LIMIT_DISABLED };
}
