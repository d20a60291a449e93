import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { PGlite } from '@electric-sql/pglite';
import { traceStatement } from './pglite-spans.ts';

/**
 * A Kysely dialect over an in-process PGlite instance.
 *
 * PGlite has exactly one backend, so a transaction must own it until it ends:
 * the driver hands out one connection at a time and queues the rest. Several
 * Kysely instances (one per subgraph schema) may share one PGlite through one
 * shared {@link PgliteLock}.
 */
export class PgliteDialect implements Dialect {
  readonly #pglite: PGlite;
  readonly #lock: PgliteLock;

  constructor(pglite: PGlite, lock: PgliteLock = lockFor(pglite)) {
    this.#pglite = pglite;
    this.#lock = lock;
  }

  createAdapter() {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new PgliteDriver(this.#pglite, this.#lock);
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }

  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

/** A FIFO mutex: the single PGlite backend is lent to one connection at a time. */
export class PgliteLock {
  #tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const acquired = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return acquired;
  }
}

const locks = new WeakMap<PGlite, PgliteLock>();

function lockFor(pglite: PGlite): PgliteLock {
  let lock = locks.get(pglite);
  if (!lock) {
    lock = new PgliteLock();
    locks.set(pglite, lock);
  }
  return lock;
}

class PgliteDriver implements Driver {
  readonly #pglite: PGlite;
  readonly #lock: PgliteLock;
  readonly #releases = new WeakMap<DatabaseConnection, () => void>();

  constructor(pglite: PGlite, lock: PgliteLock) {
    this.#pglite = pglite;
    this.#lock = lock;
  }

  async init(): Promise<void> {
    await this.#pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.#lock.acquire();
    const connection = new PgliteConnection(this.#pglite);
    this.#releases.set(connection, release);
    return connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const isolation = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    await connection.executeQuery(CompiledQuery.raw(`begin${isolation}`));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#releases.get(connection)?.();
    this.#releases.delete(connection);
  }

  async destroy(): Promise<void> {
    // The PGlite instance is shared and closed by its owner.
  }
}

class PgliteConnection implements DatabaseConnection {
  readonly #pglite: PGlite;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const result = await traceStatement(compiledQuery.sql, () =>
      this.#pglite.query<R>(compiledQuery.sql, [...compiledQuery.parameters]),
    );
    const affected = result.affectedRows;
    return {
      rows: result.rows,
      ...(affected !== undefined ? { numAffectedRows: BigInt(affected) } : {}),
    };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite dialect does not support streaming queries');
  }
}
