import { createDatabase, migrateAll, openEmbeddedPostgres, urlForRole, type DatabaseTarget } from '@supergraph/db';
import {
  createRedis,
  envPrefix,
  EnvError,
  flag,
  importInternalVerifyKey,
  isWeakSecret,
  loadOrCreateDevKeys,
  nodeEnv,
  optionalUrl,
  port,
  repoPath,
  startTelemetry,
  stopOnSignals,
  subscribeToSettings,
  DEFAULT_REDIS_PREFIX,
  type DevKeys,
} from '@supergraph/platform';
import { z } from 'zod';
import type { SubgraphDescriptor, SubgraphRuntime } from './descriptor.ts';
import { parseRateLimitOverrides, parseTierMultipliers } from './rate-limit.ts';
import type { RunningSubgraph } from './subgraph.ts';

/** A subgraph's database password must be at least this long in production. */
export const MIN_DB_PASSWORD_LENGTH = 16;

/**
 * `DB_STATEMENT_TIMEOUT_MS` when unset: `createDatabase`'s own default, below
 * the gateway's default subgraph timeout (10 s) so a statement never outlives
 * the error its client already has (docs/services.md, "Timeouts").
 */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 8_000;

/** Shorter statement timeouts would cancel ordinary queries under load; they are refused as a typo. */
export const MIN_STATEMENT_TIMEOUT_MS = 100;

/** The `sslmode`s that refuse a connection without TLS. */
export const TLS_SSL_MODES = ['require', 'verify-ca', 'verify-full'] as const;

/** Whether a PostgreSQL URL insists on TLS (`sslmode=require` or stricter). */
export function hasDatabaseTls(databaseUrl: string): boolean {
  try {
    const mode = new URL(databaseUrl).searchParams.get('sslmode');
    return (TLS_SSL_MODES as readonly (string | null)[]).includes(mode);
  } catch {
    return false;
  }
}

/** Shared variables an earlier release read, and what replaced them (a warning names each one still set). */
const RENAMED: Readonly<Record<string, string>> = {
  PGLITE_DIR: 'DATA_DIR (each subgraph started alone keeps DATA_DIR/pglite-<name>)',
  DEV_KEYS_FILE: 'DATA_DIR (development keys live in DATA_DIR/dev-keys.json)',
  RATE_LIMIT_OVERRIDES: '<NAME>_RATE_LIMITS',
};

/** Every variable that is no longer read but still set (shared ones and the subgraph's own), one warning line each. */
export function renamedVariableWarnings(
  env: NodeJS.ProcessEnv,
  descriptor?: Pick<SubgraphDescriptor, 'renamed'>,
): string[] {
  return Object.entries({ ...RENAMED, ...descriptor?.renamed })
    .filter(([name]) => env[name] !== undefined && env[name] !== '')
    .map(([name, replacement]) => `${name} is no longer read; use ${replacement}`);
}

/** The variables every subgraph reads, by the one naming rule `<NAME>_HOST`, `<NAME>_PORT`, `<NAME>_DB_PASSWORD`, `<NAME>_RATE_LIMITS`. */
export interface ServiceSettings {
  production: boolean;
  databaseUrl: string | undefined;
  databasePassword: string | undefined;
  redisUrl: string | undefined;
  /** `REDIS_PREFIX`: the prefix of the live settings' and the audit and usage streams' Redis names. */
  redisPrefix: string;
  internalTokenPublicKey: string | undefined;
  forbidEmbedded: boolean;
  /** Absolute: `DATA_DIR` against the repository root. */
  dataDir: string;
  host: string;
  port: number;
  rateLimits: SubgraphRuntime['rateLimits'];
  /** `DB_STATEMENT_TIMEOUT_MS`: PostgreSQL cancels any statement of the subgraph's pool running longer. */
  statementTimeoutMs: number;
}

function parseWith<T>(parse: (text: string | undefined) => T) {
  return z
    .string()
    .optional()
    .transform((text, ctx) => {
      try {
        return parse(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
        return z.NEVER;
      }
    });
}

/**
 * Reads the shared variables for subgraph `name` and applies the one
 * production policy every subgraph follows: PostgreSQL over TLS (unless
 * `DATABASE_TLS=disable`) with a strong password, Redis, the gateway's public
 * key, rate limits on. Returns every problem at
 * once instead of throwing.
 */
export function readServiceSettings(
  descriptor: Pick<SubgraphDescriptor, 'name' | 'port'>,
  env: NodeJS.ProcessEnv,
): { settings?: ServiceSettings; problems: string[] } {
  const prefix = envPrefix(descriptor.name);
  const schema = z.object({
    NODE_ENV: nodeEnv,
    DATABASE_URL: optionalUrl,
    [`${prefix}_DB_PASSWORD`]: z.string().optional(),
    REDIS_URL: optionalUrl,
    REDIS_PREFIX: z.string().min(1).default(DEFAULT_REDIS_PREFIX),
    INTERNAL_TOKEN_PUBLIC_KEY: z.string().optional(),
    SUPERGRAPH_FORBID_EMBEDDED: flag(false),
    DATA_DIR: z.string().min(1).default('.data'),
    HOST: z.string().min(1).default('127.0.0.1'),
    [`${prefix}_HOST`]: z.string().min(1).optional(),
    [`${prefix}_PORT`]: port(descriptor.port),
    RATE_LIMIT_PREFIX: z.string().min(1).optional(),
    RATE_LIMIT_TIER_MULTIPLIERS: parseWith(parseTierMultipliers),
    [`${prefix}_RATE_LIMITS`]: parseWith(parseRateLimitOverrides),
    RATE_LIMITS_DISABLED: flag(false),
    DATABASE_TLS: z.enum(['require', 'disable']).default('require'),
    DB_STATEMENT_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(MIN_STATEMENT_TIMEOUT_MS, `at least ${MIN_STATEMENT_TIMEOUT_MS} ms`)
      .default(DEFAULT_STATEMENT_TIMEOUT_MS),
  });
  const result = schema.safeParse(env);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
  const production = env['NODE_ENV'] === 'production';
  const password = env[`${prefix}_DB_PASSWORD`]?.trim() || undefined;
  if (production) {
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'INTERNAL_TOKEN_PUBLIC_KEY']) {
      if (!env[name]?.trim()) problems.push(`${name}: required in production`);
    }
    if (env['DATABASE_URL']?.trim() && isWeakSecret(password, MIN_DB_PASSWORD_LENGTH)) {
      problems.push(
        `${prefix}_DB_PASSWORD: required in production, at least ${MIN_DB_PASSWORD_LENGTH} characters and not a placeholder`,
      );
    }
    const databaseUrl = env['DATABASE_URL']?.trim();
    if (databaseUrl && env['DATABASE_TLS'] !== 'disable' && !hasDatabaseTls(databaseUrl)) {
      problems.push(
        `DATABASE_URL: must use TLS in production (sslmode=${TLS_SSL_MODES.join(', sslmode=')}), or set DATABASE_TLS=disable on purpose`,
      );
    }
    if (flag(false).parse(env['RATE_LIMITS_DISABLED']))
      problems.push('RATE_LIMITS_DISABLED: not allowed in production');
  }
  if (!result.success || problems.length > 0) return { problems };
  const parsed = result.data as Record<string, unknown>;
  const rateLimits: SubgraphRuntime['rateLimits'] = {
    tierMultipliers: parsed['RATE_LIMIT_TIER_MULTIPLIERS'] as ReturnType<typeof parseTierMultipliers>,
    overrides: parsed[`${prefix}_RATE_LIMITS`] as ReturnType<typeof parseRateLimitOverrides>,
    disabled: parsed['RATE_LIMITS_DISABLED'] as boolean,
  };
  if (parsed['RATE_LIMIT_PREFIX']) rateLimits.prefix = parsed['RATE_LIMIT_PREFIX'] as string;
  return {
    problems,
    settings: {
      production,
      databaseUrl: parsed['DATABASE_URL'] as string | undefined,
      databasePassword: password,
      redisUrl: parsed['REDIS_URL'] as string | undefined,
      redisPrefix: parsed['REDIS_PREFIX'] as string,
      internalTokenPublicKey: (parsed['INTERNAL_TOKEN_PUBLIC_KEY'] as string | undefined)?.trim() || undefined,
      forbidEmbedded: parsed['SUPERGRAPH_FORBID_EMBEDDED'] as boolean,
      dataDir: repoPath(parsed['DATA_DIR'] as string),
      host: (parsed[`${prefix}_HOST`] as string | undefined) ?? (parsed['HOST'] as string),
      port: parsed[`${prefix}_PORT`] as number,
      rateLimits,
      statementTimeoutMs: parsed['DB_STATEMENT_TIMEOUT_MS'] as number,
    },
  };
}

/**
 * The shared variables and the subgraph's own, checked together: a starter
 * with its settings, or every problem found (never both). `devKeys` stand in
 * for unset keys outside production.
 */
export function configureService(
  descriptor: SubgraphDescriptor,
  env: NodeJS.ProcessEnv,
  devKeys?: DevKeys,
): {
  problems: string[];
  settings?: ServiceSettings;
  start?: (runtime: SubgraphRuntime) => Promise<RunningSubgraph>;
} {
  const shared = readServiceSettings(descriptor, env);
  const own = descriptor.configure(env, { production: env['NODE_ENV'] === 'production', devKeys });
  const problems = [...shared.problems, ...own.problems];
  if (problems.length > 0 || !shared.settings || !own.start) return { problems };
  return { problems, settings: shared.settings, start: own.start };
}

/**
 * Runs one subgraph as its own process: reads and checks the environment
 * (every problem listed at once, no stack), connects as the subgraph's own
 * PostgreSQL role (or, in development without `DATABASE_URL`, its own PGlite
 * in `DATA_DIR/pglite-<name>`, migrated here, never the one `npm start`
 * holds), uses development keys only outside production, starts, and drains
 * on SIGTERM/SIGINT. Every `src/main.ts` is one call to it.
 *
 * @example
 * await runSubgraph(knowledge);
 */
export async function runSubgraph(descriptor: SubgraphDescriptor, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const label = `[${descriptor.name}]`;
  try {
    // First: the instrumentations patch pg, ioredis and http before the subgraph opens a connection.
    const telemetry = startTelemetry(descriptor.name, { env });
    const running = await startSubgraphService(descriptor, env, label);
    console.log(`${label} listening on ${running.subgraph.url} (${running.target.kind})`);
    stopOnSignals(descriptor.name, async () => {
      await running.stop();
      await telemetry.shutdown();
    });
  } catch (error) {
    console.error(startFailureMessage(error, descriptor));
    process.exit(1);
  }
}

/** What went wrong at start-up, for a person: the configuration problems, or one line without a stack. */
export function startFailureMessage(error: unknown, descriptor: Pick<SubgraphDescriptor, 'name'>): string {
  if (error instanceof EnvError) return `[${descriptor.name}] ${error.message}`;
  const { code, port: busyPort } = (error ?? {}) as { code?: string; port?: number };
  if (code === 'EADDRINUSE')
    return `[${descriptor.name}] port ${busyPort} is already in use; set ${envPrefix(descriptor.name)}_PORT to another one`;
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `[${descriptor.name}] failed to start: ${message}${cause}`;
}

async function startSubgraphService(
  descriptor: SubgraphDescriptor,
  env: NodeJS.ProcessEnv,
  label: string,
): Promise<{ subgraph: RunningSubgraph; target: DatabaseTarget; stop: () => Promise<void> }> {
  for (const warning of renamedVariableWarnings(env, descriptor)) console.warn(`${label} warning: ${warning}`);
  let devKeys: DevKeys | undefined;
  if (env['NODE_ENV'] !== 'production') {
    // Outside production, keys left unset come from the development keys `npm start` and the gateway share.
    const keysFile = repoPath(env['DATA_DIR'] || '.data', 'dev-keys.json');
    devKeys = await loadOrCreateDevKeys(keysFile);
    if (!env['INTERNAL_TOKEN_PUBLIC_KEY']?.trim()) console.warn(`${label} using development keys from ${keysFile}`);
  }
  const { settings, start, problems } = configureService(descriptor, env, devKeys);
  if (!settings || !start)
    throw new EnvError(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);

  let target: DatabaseTarget;
  let closeEmbedded = async () => {};
  if (settings.databaseUrl) {
    target = {
      kind: 'postgres',
      url: urlForRole(settings.databaseUrl, descriptor.database.role, settings.databasePassword),
    };
    // Fail fast, and clearly, when the server or the role is not there (run `npm run migrate` first).
    const probe = createDatabase(target, { schema: descriptor.database.schemas[0]?.schema ?? 'public', poolMax: 1 });
    await probe
      .ping()
      .catch((error: unknown) => {
        throw new Error(`cannot connect to PostgreSQL as ${descriptor.database.role} (has \`npm run migrate\` run?)`, {
          cause: error,
        });
      })
      .finally(() => probe.close());
  } else {
    if (settings.forbidEmbedded)
      throw new EnvError('DATABASE_URL is unset but SUPERGRAPH_FORBID_EMBEDDED=1 forbids PGlite');
    const pglite = await openEmbeddedPostgres(`${settings.dataDir}/pglite-${descriptor.name}`);
    target = { kind: 'pglite', pglite };
    closeEmbedded = () => pglite.close();
    try {
      // Nobody else migrates a subgraph's private embedded database.
      await migrateAll(target, [descriptor.database], { log: (line) => console.log(`${label} ${line}`) });
    } catch (error) {
      await closeEmbedded();
      throw error;
    }
  }
  const redis = await createRedis(settings.redisUrl, { forbidEmbedded: settings.forbidEmbedded }).catch(
    async (error: unknown) => {
      await closeEmbedded();
      throw error;
    },
  );
  const publicKeyPem = (settings.internalTokenPublicKey ?? devKeys?.internalPublicKeyPem ?? '').replaceAll('\\n', '\n');
  // One per process: the live settings every part of the subgraph reads (rate-limit multipliers, flags).
  const liveSettings = await subscribeToSettings(redis, { prefix: settings.redisPrefix });
  let subgraph: RunningSubgraph;
  try {
    subgraph = await start({
      target,
      internalTokenKey: await importInternalVerifyKey(publicKeyPem).catch(() => {
        throw new EnvError('Invalid configuration:\n  - INTERNAL_TOKEN_PUBLIC_KEY: not an Ed25519 SPKI PEM public key');
      }),
      redis,
      rateLimits: { ...settings.rateLimits, settings: liveSettings },
      redisPrefix: settings.redisPrefix,
      liveSettings,
      statementTimeoutMs: settings.statementTimeoutMs,
      port: settings.port,
      host: settings.host,
    });
  } catch (error) {
    await liveSettings.close();
    redis.disconnect();
    await closeEmbedded();
    throw error;
  }
  return {
    subgraph,
    target,
    stop: async () => {
      await subgraph.stop();
      await liveSettings.close();
      redis.disconnect();
      await closeEmbedded();
    },
  };
}
