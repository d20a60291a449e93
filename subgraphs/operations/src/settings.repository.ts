import { sql, type Kysely, type Transaction } from 'kysely';
import type { OperationsDb, SettingRow } from './operations.table.ts';

export function listSettings(db: Kysely<OperationsDb>): Promise<SettingRow[]> {
  return db.selectFrom('settings').selectAll().orderBy('key').execute();
}

/**
 * Serializes setting changes: the snapshot version is the highest row
 * version plus one, so two changes must not read the same highest at once.
 */
export async function lockSettings(trx: Transaction<OperationsDb>): Promise<void> {
  await sql`lock table operations.settings in share row exclusive mode`.execute(trx);
}

export async function upsertSetting(
  trx: Transaction<OperationsDb>,
  row: { key: string; value: unknown; version: number; updatedBy: string | null; updatedAt: Date },
): Promise<void> {
  const value = JSON.stringify(row.value);
  await trx
    .insertInto('settings')
    .values({ key: row.key, value, version: row.version, updated_at: row.updatedAt, updated_by: row.updatedBy })
    .onConflict((oc) =>
      oc
        .column('key')
        .doUpdateSet({ value, version: row.version, updated_at: row.updatedAt, updated_by: row.updatedBy }),
    )
    .execute();
}
