import type { DatabaseTarget, SubgraphDatabaseSpec } from '@supergraph/db';
import type { DevKeys, Redis, SettingsSource } from '@supergraph/platform';
import type { CryptoKey, KeyObject } from 'jose';
import type { RateLimiterOptions } from './rate-limit.ts';
import type { RunningSubgraph } from './subgraph.ts';

/** The scopes a subgraph guards with `@requiresScopes`, by the role that holds them. */
export interface ScopeGrants {
  user?: readonly string[];
  admin?: readonly string[];
}

/** What the service runner (or `npm start`, or a test) hands a subgraph to start it. */
/**
 * What every subgraph's `start<Name>Subgraph(deps, port, host)` takes; each
 * adds its own (auth its config, tests a query counter). Tests pass only what
 * they need; the runner always passes a {@link SubgraphRuntime}.
 */
export interface SubgraphDeps {
  /** Where its schemas live, already migrated: its own role on PostgreSQL, or the embedded PGlite. */
  target: DatabaseTarget;
  /** The gateway's public key for internal tokens. */
  internalTokenKey: CryptoKey | KeyObject;
  /**
   * Rate-limit counters (and anything else shared across instances). The
   * caller closes what it passes; without one the subgraph keeps an
   * in-process stand-in, which `SUPERGRAPH_FORBID_EMBEDDED=1` refuses.
   */
  redis?: Redis;
  /** Tier multipliers, per-field overrides, a key prefix, or `disabled` (benchmarks; never in production). */
  rateLimits?: Omit<RateLimiterOptions, 'redis'>;
  /**
   * From `DB_STATEMENT_TIMEOUT_MS`: the subgraph passes it to `createDatabase`
   * for its request pool. Unset: `createDatabase`'s default (8 s).
   */
  statementTimeoutMs?: number;
  /**
   * The prefix of the Redis names of the live settings and the audit and
   * usage streams (`REDIS_PREFIX`, default `supergraph:`): tests pass their
   * run's, so parallel runs do not read each other's.
   */
  redisPrefix?: string;
  /**
   * The live settings of this process (one `subscribeToSettings` per process,
   * started by the runner or `npm start`). The runner also hands it to
   * `rateLimits.settings`, so the tier multipliers follow it. Unset: the defaults.
   */
  liveSettings?: SettingsSource;
}

/** What the service runner (or `npm start`) hands a subgraph to start it: its deps, complete, and where to listen. */
export interface SubgraphRuntime extends SubgraphDeps {
  redis: Redis;
  /** From `RATE_LIMIT_PREFIX`, `RATE_LIMIT_TIER_MULTIPLIERS`, `<NAME>_RATE_LIMITS`, `RATE_LIMITS_DISABLED`. */
  rateLimits: Omit<RateLimiterOptions, 'redis'>;
  port: number;
  host: string;
}

export interface SeedOptions {
  /** Import only the first N WordNet synsets (`SEED_LIMIT`), for every seeder alike. */
  limit?: number;
  log?: (line: string) => void;
}

/** What a subgraph reads from the environment beyond the shared variables: its config, or every problem with it. */
export type ConfigResult<TConfig> = { config: TConfig; problems?: undefined } | { problems: string[] };

export interface ConfigureOptions {
  production: boolean;
  /** Generated development keys, present only outside production and only when a key variable is unset. */
  devKeys?: DevKeys | undefined;
}

/**
 * Everything the platform needs to know about one subgraph, exported from its
 * package (`src/index.ts`) and listed once in `@supergraph/registry`. Compose,
 * migrate, seed, codegen, secrets, the launcher and the service runner all read
 * it; nothing else spells the subgraph's name.
 *
 * @example
 * export const notes = defineSubgraph({
 *   name: 'notes', port: 4006, database: { name: 'notes', role: 'supergraph_notes', schemas: [...] },
 *   schemaFile: fileURLToPath(new URL('./schema.graphql', import.meta.url)),
 *   codegen: { context: 'NotesContext', tableSchemas: ['notes'] },
 *   start: (runtime) => startNotesSubgraph(runtime),
 * });
 */
export interface SubgraphDefinition<TConfig> {
  /** Also the internal-token audience, the supergraph's graph name and the `<NAME>_*` variable prefix. */
  name: string;
  /** What it owns, in a few words (the docs' tables are generated from it). */
  description: string;
  /** Default port (`<NAME>_PORT` overrides it). */
  port: number;
  /** Its role and schemas, each with a migrations folder. */
  database: SubgraphDatabaseSpec;
  /** Absolute path of its federation 2 SDL. */
  schemaFile: string;
  /** graphql-codegen's context type (in `src/context.ts`) and the schemas whose tables `generated/db.ts` describes. */
  codegen: { context: string; tableSchemas: readonly string[] };
  scopes?: ScopeGrants;
  /** The subgraph's own variables (beyond the shared ones), with its production policy. */
  configure?: (env: NodeJS.ProcessEnv, options: ConfigureOptions) => ConfigResult<TConfig>;
  start: (runtime: SubgraphRuntime, config: TConfig) => Promise<RunningSubgraph>;
  seed?: (target: DatabaseTarget, options: SeedOptions) => Promise<{ durationMs: number }>;
  /** Fresh values of its own secret variables for `npm run secrets` (beyond `<NAME>_DB_PASSWORD`), as `.env` values. */
  secrets?: () => Promise<Record<string, string>>;
  /** Its variables an earlier release read → what replaced them; the runner warns about each one still set. */
  renamed?: Readonly<Record<string, string>>;
}

/** A subgraph with its configuration type erased: the registry's element. */
export interface SubgraphDescriptor {
  readonly name: string;
  readonly description: string;
  readonly port: number;
  readonly database: SubgraphDatabaseSpec;
  readonly schemaFile: string;
  readonly codegen: { readonly context: string; readonly tableSchemas: readonly string[] };
  readonly scopes: Required<ScopeGrants>;
  readonly seed?: ((target: DatabaseTarget, options: SeedOptions) => Promise<{ durationMs: number }>) | undefined;
  readonly secrets?: (() => Promise<Record<string, string>>) | undefined;
  readonly renamed: Readonly<Record<string, string>>;
  /** Reads its own variables: a starter, or every problem found (never throws for bad config). */
  configure(
    env: NodeJS.ProcessEnv,
    options: ConfigureOptions,
  ): { problems: string[]; start?: (runtime: SubgraphRuntime) => Promise<RunningSubgraph> };
}

/** Checks a definition's shape once and erases its config type. */
export function defineSubgraph<TConfig = undefined>(definition: SubgraphDefinition<TConfig>): SubgraphDescriptor {
  if (!/^[a-z][a-z0-9-]*$/.test(definition.name))
    throw new Error(`subgraph name "${definition.name}" must be lower-case kebab (it becomes <NAME>_* variables)`);
  if (definition.database.name !== definition.name)
    throw new Error(`subgraph ${definition.name}: database.name is "${definition.database.name}"`);
  return Object.freeze({
    name: definition.name,
    description: definition.description,
    port: definition.port,
    database: definition.database,
    schemaFile: definition.schemaFile,
    codegen: definition.codegen,
    scopes: { user: definition.scopes?.user ?? [], admin: definition.scopes?.admin ?? [] },
    seed: definition.seed,
    secrets: definition.secrets,
    renamed: definition.renamed ?? {},
    configure(env: NodeJS.ProcessEnv, options: ConfigureOptions) {
      const result: ConfigResult<TConfig> = definition.configure
        ? definition.configure(env, options)
        : { config: undefined as TConfig };
      if (result.problems) return { problems: result.problems };
      const config = result.config;
      return { problems: [], start: (runtime: SubgraphRuntime) => definition.start(runtime, config) };
    },
  });
}
