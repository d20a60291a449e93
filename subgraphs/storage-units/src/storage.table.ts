import type { TablesMatch } from '@supergraph/db';
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { PhysicsUnitSchema, StorageRegistrySchema } from './generated/db.ts';

/** `storage_registry.units`. */
export interface UnitTable {
  id: string;
  name: string;
  description: string;
  domains: string[];
  schema_name: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** `<unit>_unit.records` — the same table in every unit schema. */
export interface RecordTable {
  id: Generated<string>;
  title: string;
  content: string;
  tags: string[];
  source: string;
  author_id: string | null;
  external_id: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  /** Generated: weighted tsvector of title (A) and content (B). Never written. */
  search: ColumnType<string, never, never>;
}

/**
 * One interface for every schema the subgraph owns: the registry's `units`
 * and each unit's `records`; which schema a query hits is chosen with
 * `db.withSchema(unit.schema)`.
 */
export interface StorageDb {
  units: UnitTable;
  records: RecordTable;
}

/** Fails type-checking when the hand-written registry table drifts from the migrations (`npm run generate`). */
export const registryTablesMatchMigrations: TablesMatch<Pick<StorageDb, 'units'>, StorageRegistrySchema> = true;

/** Fails type-checking when the hand-written records table drifts from the unit migrations (physics stands for all). */
export const unitTablesMatchMigrations: TablesMatch<Pick<StorageDb, 'records'>, PhysicsUnitSchema> = true;

export type UnitRow = Selectable<UnitTable>;
export type RecordRow = Omit<Selectable<RecordTable>, 'search'>;
export type NewRecord = Insertable<RecordTable>;

/** A record together with the unit it lives in. */
export interface UnitRecordRow extends RecordRow {
  unit_id: string;
}
