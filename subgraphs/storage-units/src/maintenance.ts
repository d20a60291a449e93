import { createDatabase, quoteIdent, type DatabaseTarget } from '@supergraph/db';
import { sql, type Kysely } from 'kysely';
import type { MaintenanceAction } from './generated/resolvers.ts';
import { unitSizeBytes } from './stats.repository.ts';
import type { StorageDb } from './storage.table.ts';
import type { StorageUnitDefinition } from './units.ts';

export interface MaintenanceOutcome {
  action: MaintenanceAction;
  durationMs: number;
  sizeBeforeBytes: number;
  sizeAfterBytes: number;
  startedAt: Date;
}

/** Maintenance may run far longer than the request pool's statement timeout (`DB_STATEMENT_TIMEOUT_MS`, 8 s by default). */
const MAINTENANCE_STATEMENT_TIMEOUT_MS = 10 * 60_000;

function statementFor(action: MaintenanceAction, unit: StorageUnitDefinition): string {
  const table = `${quoteIdent(unit.schema)}.records`;
  switch (action) {
    case 'ANALYZE':
      return `analyze ${table}`;
    case 'VACUUM':
      return `vacuum (analyze) ${table}`;
    case 'REINDEX':
      return `reindex table ${table}`;
  }
}

/**
 * Runs ANALYZE, VACUUM or REINDEX on a unit's records table for real and
 * measures it. VACUUM refuses to run inside a transaction block, so on
 * PostgreSQL the statement runs on a dedicated autocommit connection (with a
 * long statement timeout) rather than a pooled one; on PGlite it runs through
 * Kysely outside any transaction, holding the single backend so no other
 * subgraph's transaction can be open around it.
 */
export async function runMaintenance(
  target: DatabaseTarget,
  db: Kysely<StorageDb>,
  unit: StorageUnitDefinition,
  action: MaintenanceAction,
): Promise<MaintenanceOutcome> {
  const statement = statementFor(action, unit);
  const sizeBeforeBytes = await unitSizeBytes(db, unit);
  const startedAt = new Date();
  let durationMs: number;
  if (target.kind === 'postgres') {
    // A one-connection pool of its own: autocommit, never a pooled client left mid-transaction.
    const dedicated = createDatabase<StorageDb>(target, {
      schema: unit.schema,
      poolMax: 1,
      statementTimeoutMs: MAINTENANCE_STATEMENT_TIMEOUT_MS,
    });
    try {
      const started = performance.now();
      await sql.raw(statement).execute(dedicated.db);
      durationMs = performance.now() - started;
    } finally {
      await dedicated.close();
    }
  } else {
    durationMs = await db.connection().execute(async (connection) => {
      const started = performance.now();
      await sql.raw(statement).execute(connection);
      return performance.now() - started;
    });
  }
  const sizeAfterBytes = await unitSizeBytes(db, unit);
  return { action, durationMs, sizeBeforeBytes, sizeAfterBytes, startedAt };
}
