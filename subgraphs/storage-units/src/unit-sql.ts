import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { StorageDb } from './storage.table.ts';
import type { StorageUnitDefinition } from './units.ts';

/*
 * SQL pieces every repository of the unit schemas shares. Single-unit queries
 * use the query builder on `unitDb(db, unit)`; queries spanning every unit are
 * raw SQL naming each schema with `sql.id` (a nested builder query would be
 * re-qualified with the outer query's schema), and every raw statement names
 * its schema because PGlite's search_path is `public`.
 */

/** The columns of a record every read returns (never the generated `search`). */
export const RECORD_COLUMNS = [
  'id',
  'title',
  'content',
  'tags',
  'source',
  'author_id',
  'external_id',
  'created_at',
  'updated_at',
] as const;

/** `"<unit>_unit"."records"`, for raw SQL. */
export function recordsTable(unit: StorageUnitDefinition): RawBuilder<unknown> {
  return sql.id(unit.schema, 'records');
}

/** The query builder on one unit's schema. */
export function unitDb(db: Kysely<StorageDb>, unit: StorageUnitDefinition): Kysely<StorageDb> {
  return db.withSchema(unit.schema);
}

export function unionAll(parts: readonly RawBuilder<unknown>[]): RawBuilder<unknown> {
  return sql.join(parts, sql` union all `);
}

/** {@link RECORD_COLUMNS} qualified with `alias`, for raw SQL select lists. */
export function recordColumnListOf(alias: string): RawBuilder<unknown> {
  return sql.raw(RECORD_COLUMNS.map((column) => `${alias}.${column}`).join(', '));
}

/** {@link RECORD_COLUMNS} of the alias `r` every raw query gives a records table. */
export const recordColumnList = recordColumnListOf('r');
