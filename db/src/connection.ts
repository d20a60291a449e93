import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import { PgliteDialect } from './pglite-dialect.ts';

/** Where a subgraph's data lives: a real PostgreSQL server, or the embedded PGlite. */
export type DatabaseTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; pglite: PGlite };

export interface DatabaseOptions {
  /** The PostgreSQL schema this Kysely instance is bound to (`withSchema`, and `search_path` on pg). */
  schema: string;
  /**
   * Abort any statement running longer than this (pg only). Default 8 s: below
   * the gateway's subgraph timeout (10 s), so a query does not outlive the
   * answer its client already has (docs/services.md, timeouts).
   */
  statementTimeoutMs?: number;
  /** Give up acquiring a connection after this long. Default 5 s. */
  connectionTimeoutMs?: number;
  poolMax?: number;
  /** Called for errors of idle pooled connections (e.g. PostgreSQL restarted); the pool replaces them. */
  onPoolError?: (error: Error) => void;
  /** Run `SET ROLE` on every new connection (migrations that must create objects owned by a subgraph role). */
  setRole?: string;
}

/** Connections of one pool right now, for `db_pool_connections` (see {@link openPools}). */
export interface PoolUsage {
  /** The pool's schema, which names its owner (`auth`, `knowledge`, …). */
  schema: string;
  total: number;
  idle: number;
  waiting: number;
}

const pools = new Set<() => PoolUsage>();

/**
 * Every pool this process has open, read now: pg pools report their
 * `totalCount`/`idleCount`/`waitingCount`; a PGlite database is one
 * connection, always busy-or-idle, so it reports 1/0/0.
 */
export function openPools(): PoolUsage[] {
  return [...pools].map((usage) => usage());
}

export interface Database<DB> {
  db: Kysely<DB>;
  /** Throws unless the database answers `select 1` (readiness probes). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Creates a Kysely instance bound to one schema. Over `pg` the pool is set up
 * to survive a PostgreSQL restart: broken idle clients are dropped (the `error`
 * listener keeps the process alive) and the next query opens a new connection.
 *
 * @example
 * const { db } = createDatabase<AuthDb>({ kind: 'postgres', url }, { schema: 'auth' });
 */
export function createDatabase<DB>(target: DatabaseTarget, options: DatabaseOptions): Database<DB> {
  if (target.kind === 'pglite') {
    const db = new Kysely<DB>({ dialect: new PgliteDialect(target.pglite) }).withSchema(options.schema);
    const usage = () => ({ schema: options.schema, total: 1, idle: 0, waiting: 0 });
    pools.add(usage);
    return {
      db,
      ping: async () => void (await sql`select 1`.execute(db)),
      // The PGlite instance is shared by every subgraph of the process; its opener closes it.
      close: async () => void pools.delete(usage),
    };
  }
  const pool = new pg.Pool({
    connectionString: target.url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? 8_000,
    options: `-c search_path=${quoteIdent(options.schema)},public`,
    application_name: `supergraph:${options.schema}`,
  });
  pool.on('error', (error) => (options.onPoolError ?? defaultPoolError)(error));
  if (options.setRole) {
    const role = quoteIdent(options.setRole);
    pool.on('connect', (client) => void client.query(`set role ${role}`).catch(() => {}));
  }
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }).withSchema(options.schema);
  const usage = () => ({
    schema: options.schema,
    total: pool.totalCount,
    idle: pool.idleCount,
    waiting: pool.waitingCount,
  });
  pools.add(usage);
  return {
    db,
    ping: async () => void (await sql`select 1`.execute(db)),
    close: () => {
      pools.delete(usage);
      return db.destroy();
    },
  };
}

function defaultPoolError(error: Error): void {
  console.error(`[db] idle connection error (the pool will reconnect): ${error.message}`);
}

/** Quotes a PostgreSQL identifier (schema, role) for the few places DDL cannot take parameters. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The same server and database as `adminUrl`, logged in as `role` (with its password, if any). */
export function urlForRole(adminUrl: string, role: string, password?: string): string {
  const url = new URL(adminUrl);
  url.username = role;
  url.password = password ?? '';
  return url.toString();
}
