import { EnvError, nodeEnv, optionalUrl, port } from '@supergraph/kit';
import type { JWK } from 'jose';
import { z } from 'zod';
import { ARGON2_MIN_MEMORY_KIB, ARGON2_MIN_TIME_COST } from './passwords.ts';
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
    z.string().regex(/^[A-Za-z0-9_-]{3,32}$/, 'must be a valid username (3-32 of A-Z a-z 0-9 _ -)').optional(),
  ),
  INTERNAL_TOKEN_PUBLIC_KEY: optionalText,
  /** Development only: where keys are generated and kept when AUTH_SIGNING_KEYS / INTERNAL_TOKEN_PUBLIC_KEY are unset. */
  AUTH_DEV_KEYS_FILE: z.string().default('.data/dev-keys.json'),
  /** Development only: PGlite directory when DATABASE_URL is unset. */
  AUTH_EMBEDDED_DIR: z.string().default('.data/pglite-auth'),
  NODE_ENV: nodeEnv,
});

export type AuthEnv = z.infer<typeof authEnvSchema>;

/**
 * Reads and checks the environment once, reporting every problem together.
 * Production refuses to start without real keys and a database: no
 * generated development keys, no embedded PostgreSQL.
 */
export function loadAuthEnv(source: NodeJS.ProcessEnv = process.env): Readonly<AuthEnv> {
  const result = authEnvSchema.safeParse(source);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
  if (source['NODE_ENV'] === 'production') {
    const required = ['AUTH_SIGNING_KEYS', 'INTERNAL_TOKEN_PUBLIC_KEY', 'DATABASE_URL'] as const;
    for (const name of required) {
      if (!source[name]?.trim()) problems.push(`${name}: required in production`);
    }
  }
  if (problems.length > 0 || !result.success) {
    throw new EnvError(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
  return Object.freeze(result.data);
}
