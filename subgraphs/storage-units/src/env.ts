import {
  flag,
  nodeEnv,
  optionalUrl,
  parseEnv,
  parseRateLimitOverrides,
  parseTierMultipliers,
  port,
} from '@supergraph/kit';
import { z } from 'zod';

/**
 * The storage-units service configuration: the only place that reads
 * `process.env`. Service mode sets DATABASE_URL and REDIS_URL; without them
 * the service runs on an embedded PGlite in PGLITE_DIR and an in-process Redis
 * (development only: production refuses).
 */
const schema = z
  .object({
    NODE_ENV: nodeEnv,
    STORAGE_UNITS_PORT: port(4003),
    STORAGE_UNITS_HOST: z.string().min(1).default('127.0.0.1'),
    DATABASE_URL: optionalUrl,
    /** Password of the `supergraph_storage_units` role (none under trust auth). */
    STORAGE_UNITS_DB_PASSWORD: z.string().optional(),
    REDIS_URL: optionalUrl,
    /** The gateway's Ed25519 public key (SPKI PEM; `\n` escapes allowed). Development falls back to DEV_KEYS_FILE. */
    INTERNAL_TOKEN_PUBLIC_KEY: z.string().optional(),
    DEV_KEYS_FILE: z.string().default('.data/dev-keys.json'),
    PGLITE_DIR: z.string().default('.data/pglite'),
    SUPERGRAPH_FORBID_EMBEDDED: flag(false),
    /** e.g. `pro=5,enterprise=20` (the default). */
    RATE_LIMIT_TIER_MULTIPLIERS: z
      .string()
      .optional()
      .transform((text, ctx) => parseOr(ctx, () => parseTierMultipliers(text))),
    /** e.g. `Query.searchUnit=60/1h,Mutation.storeRecord=20`. */
    RATE_LIMIT_OVERRIDES: z
      .string()
      .optional()
      .transform((text, ctx) => parseOr(ctx, () => parseRateLimitOverrides(text))),
    RATE_LIMITS_DISABLED: flag(false),
  })
  .superRefine((value, ctx) => {
    if (value.NODE_ENV !== 'production') return;
    if (!value.DATABASE_URL)
      ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'required in production' });
    if (!value.REDIS_URL) ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'required in production' });
    if (!value.INTERNAL_TOKEN_PUBLIC_KEY)
      ctx.addIssue({ code: 'custom', path: ['INTERNAL_TOKEN_PUBLIC_KEY'], message: 'required in production' });
    if (value.RATE_LIMITS_DISABLED)
      ctx.addIssue({ code: 'custom', path: ['RATE_LIMITS_DISABLED'], message: 'not allowed in production' });
  });

function parseOr<T>(ctx: z.RefinementCtx, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
    return z.NEVER;
  }
}

export type StorageUnitsEnv = z.infer<typeof schema>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Readonly<StorageUnitsEnv> {
  return parseEnv(schema, source);
}
