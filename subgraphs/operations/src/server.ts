import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import type { Kysely } from 'kysely';
import { createDatabase, type SubgraphDatabaseSpec } from '@supergraph/db';
import {
  startSubgraph,
  withRateLimits,
  type RunningSubgraph,
  type SubgraphContext,
  type SubgraphDeps,
} from '@supergraph/kit';
import {
  AUDIT_STREAM,
  createAuditLog,
  DEFAULT_REDIS_PREFIX,
  redisOrStandIn,
  repoPath,
  USAGE_STREAM,
  type AuditLog,
  type Redis,
} from '@supergraph/platform';
import { insertAuditEvents } from './audit.repository.ts';
import type { OperationsContext } from './context.ts';
import { HealthChecker } from './health.service.ts';
import { auditRowOf, usageRowOf } from './ingest.ts';
import type { OperationsDb } from './operations.table.ts';
import { Pruner, type RetentionSettings } from './pruner.ts';
import { resolvers } from './resolvers/index.ts';
import { serviceTargetsFromFile, type ServiceTarget } from './service-targets.ts';
import { publishStoredSnapshot, readSnapshot } from './settings.service.ts';
import { StreamConsumer, type StreamConsumerHandle } from './stream-consumer.ts';
import type { SystemFacts } from './system.service.ts';
import { insertUsageRecords } from './usage.repository.ts';

export type { RunningSubgraph } from '@supergraph/kit';

/** What operations owns in PostgreSQL (used by `npm run migrate` and the tests). */
export const databaseSpec: SubgraphDatabaseSpec = {
  name: 'operations',
  role: 'supergraph_operations',
  schemas: [{ schema: 'operations', migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)) }],
};

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

/** Operations' own configuration (`OPERATIONS_*`, see the README). */
export interface OperationsConfig {
  /** The composed supergraph whose subgraphs it watches (`SUPERGRAPH_PATH`). */
  supergraphPath: string;
  /** `<NAME>_URL` overrides by subgraph name, as the gateway applies them. */
  subgraphUrls: Readonly<Record<string, string>>;
  /** The gateway's `/graphql`. */
  gatewayUrl: string;
  retention: RetentionSettings;
  /** The platform's release: the repository's package version. */
  version: string;
  environment: string;
  /** Where disk usage is measured. */
  dataDir: string;
}

export const DEFAULT_OPERATIONS_CONFIG: Readonly<OperationsConfig> = Object.freeze({
  supergraphPath: repoPath('schema', 'supergraph.graphql'),
  subgraphUrls: {},
  gatewayUrl: 'http://127.0.0.1:4000/graphql',
  retention: { usageDays: 30, auditDays: 365 },
  version: packageVersion(),
  environment: 'development',
  dataDir: repoPath('.data'),
});

/** The repository's version (root package.json). */
export function packageVersion(): string {
  try {
    const { version } = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export interface OperationsDeps extends SubgraphDeps {
  /** Operations' own configuration (`OPERATIONS_*`); unset parts take {@link DEFAULT_OPERATIONS_CONFIG}. */
  config?: Partial<OperationsConfig>;
  /** The services to watch, instead of the supergraph's (tests). */
  targets?: readonly ServiceTarget[];
  /** How long a health check, dependency probe or scrape may take. Default 1 s. */
  probeTimeoutMs?: number;
  poolMax?: number;
}

/** Everything a request context shares, one per process. */
export interface OperationsApp {
  db: Kysely<OperationsDb>;
  redis: Redis;
  redisPrefix: string;
  audit: AuditLog;
  system: SystemFacts;
  consumers: { audit: StreamConsumerHandle; usage: StreamConsumerHandle };
  pruner: Pruner;
  ping(): Promise<void>;
  /** Stops the consumers and the pruner, flushes the audit log, closes the pool and an own Redis. */
  close(): Promise<void>;
}

export interface RunningOperations extends RunningSubgraph {
  app: OperationsApp;
}

/** Builds the process-wide parts (consumers and pruner not yet started). */
export async function createOperationsApp(deps: OperationsDeps): Promise<OperationsApp> {
  const config: OperationsConfig = { ...DEFAULT_OPERATIONS_CONFIG, ...deps.config };
  const redisPrefix = deps.redisPrefix ?? DEFAULT_REDIS_PREFIX;
  const targets = deps.targets ?? serviceTargetsFromFile(config.supergraphPath, config.subgraphUrls, config.gatewayUrl);
  const database = createDatabase<OperationsDb>(deps.target, {
    schema: 'operations',
    poolMax: deps.poolMax ?? 10,
    statementTimeoutMs: deps.statementTimeoutMs,
  });
  const { redis, release } = await redisOrStandIn(deps.redis);
  const db = database.db;
  const audit = createAuditLog(redis, { service: 'operations', prefix: redisPrefix });
  const consumers = {
    audit: new StreamConsumer({
      db,
      redis,
      stream: `${redisPrefix}${AUDIT_STREAM}`,
      parse: auditRowOf,
      store: insertAuditEvents,
    }),
    usage: new StreamConsumer({
      db,
      redis,
      stream: `${redisPrefix}${USAGE_STREAM}`,
      parse: usageRowOf,
      store: insertUsageRecords,
    }),
  };
  const pruner = new Pruner(db, config.retention);
  const system: SystemFacts = {
    db,
    redis,
    health: new HealthChecker({
      redis,
      prefix: redisPrefix,
      fallbackVersion: config.version,
      ...(deps.probeTimeoutMs ? { timeoutMs: deps.probeTimeoutMs } : {}),
    }),
    targets,
    version: config.version,
    environment: config.environment,
    startedAt: new Date(),
    dataDir: config.dataDir,
    ...(deps.probeTimeoutMs ? { timeoutMs: deps.probeTimeoutMs } : {}),
  };
  return {
    db,
    redis,
    redisPrefix,
    audit,
    system,
    consumers,
    pruner,
    ping: database.ping,
    async close() {
      await Promise.all([consumers.audit.stop(), consumers.usage.stop(), pruner.stop()]);
      await audit.flush();
      await database.close();
      release();
    },
  };
}

export function contextFor(app: OperationsApp, base: SubgraphContext): OperationsContext {
  return { ...base, db: app.db, redis: app.redis, redisPrefix: app.redisPrefix, audit: app.audit, system: app.system };
}

/**
 * Starts the operations subgraph on `port` (0: any free port): publishes the
 * stored settings snapshot (a restarted Redis, or a fresh install, learns it
 * again), starts the audit and usage consumers and the pruner. Migrations
 * must have run (`migrateAll(target, [databaseSpec])`).
 *
 * @example
 * const running = await startOperationsSubgraph({ target, internalTokenKey, redis }, 0);
 * // ... running.url, then await running.stop();
 */
export async function startOperationsSubgraph(
  deps: OperationsDeps,
  port: number,
  host?: string,
): Promise<RunningOperations> {
  const app = await createOperationsApp(deps);
  try {
    await publishStoredSnapshot({ redis: app.redis, prefix: app.redisPrefix }, await readSnapshot(app.db));
  } catch (error) {
    await app.close();
    throw error;
  }
  app.consumers.audit.start();
  app.consumers.usage.start();
  app.pruner.start();
  const running = await startSubgraph<OperationsContext>(
    {
      name: 'operations',
      typeDefs,
      resolvers: withRateLimits(typeDefs, resolvers, { ...deps.rateLimits, redis: app.redis }),
      internalTokenKey: deps.internalTokenKey,
      createContext: (base) => contextFor(app, base),
      ready: app.ping,
      close: app.close,
    },
    port,
    host,
  );
  return { ...running, app };
}
