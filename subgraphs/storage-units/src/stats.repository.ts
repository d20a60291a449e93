import { quoteIdent } from '@supergraph/db';
import { sql, type Kysely } from 'kysely';
import type { StorageDb } from './storage.table.ts';
import { recordsTable, unitDb } from './unit-sql.ts';
import type { StorageUnitDefinition } from './units.ts';

// What `UnitStats` and `facilityStatus` report about a unit's records table.

/** `ts_stat` reads every vector it is given; top terms are computed over the most recently written rows only. */
export const TOP_TERMS_SAMPLE_ROWS = 5_000;

export async function countRecords(db: Kysely<StorageDb>, unit: StorageUnitDefinition): Promise<number> {
  const { rows } = await sql<{ count: number }>`select count(*)::int as count from ${recordsTable(unit)}`.execute(db);
  return rows[0]?.count ?? 0;
}

/** Bytes on disk of the unit's records table with its indexes and TOAST (`pg_total_relation_size`). */
export async function unitSizeBytes(db: Kysely<StorageDb>, unit: StorageUnitDefinition): Promise<number> {
  const relation = `${quoteIdent(unit.schema)}.records`;
  const { rows } = await sql<{
    bytes: number;
  }>`select pg_total_relation_size(${relation}::regclass)::float8 as bytes`.execute(db);
  return rows[0]?.bytes ?? 0;
}

export async function lastWriteAt(db: Kysely<StorageDb>, unit: StorageUnitDefinition): Promise<Date | null> {
  const row = await unitDb(db, unit)
    .selectFrom('records')
    .select((eb) => eb.fn.max('updated_at').as('last'))
    .executeTakeFirst();
  return row?.last ?? null;
}

export interface TermRow {
  term: string;
  documents: number;
  occurrences: number;
}

/** Most frequent lexemes (`ts_stat`) over the {@link TOP_TERMS_SAMPLE_ROWS} most recently written records. */
export async function topTerms(db: Kysely<StorageDb>, unit: StorageUnitDefinition, limit: number): Promise<TermRow[]> {
  const sample = `select search from ${quoteIdent(unit.schema)}.records order by updated_at desc limit ${TOP_TERMS_SAMPLE_ROWS}`;
  const { rows } = await sql<TermRow>`
    select word as term, ndoc as documents, nentry as occurrences
    from ts_stat(${sample})
    order by nentry desc, ndoc desc, word
    limit ${limit}
  `.execute(db);
  return rows;
}

export interface DayCountRow {
  day: string;
  count: number;
}

/** Records created per UTC day over the last `days` days, oldest first, days without records included as 0. */
export async function growthPerDay(
  db: Kysely<StorageDb>,
  unit: StorageUnitDefinition,
  days: number,
): Promise<DayCountRow[]> {
  const { rows } = await sql<DayCountRow>`
    with bounds as (select (now() at time zone 'utc')::date as today),
    days as (
      select generate_series(bounds.today - ${days - 1}::int, bounds.today, interval '1 day')::date as day from bounds
    ),
    counts as (
      select (r.created_at at time zone 'utc')::date as day, count(*)::int as count
      from ${recordsTable(unit)} r, bounds
      where r.created_at >= (bounds.today - ${days - 1}::int)::timestamp at time zone 'utc'
      group by 1
    )
    select to_char(days.day, 'YYYY-MM-DD') as day, coalesce(counts.count, 0)::int as count
    from days left join counts on counts.day = days.day
    order by days.day
  `.execute(db);
  return rows;
}

/** Whether the unit's table answers (facility health). */
export async function isUnitOnline(db: Kysely<StorageDb>, unit: StorageUnitDefinition): Promise<boolean> {
  try {
    await sql`select 1 from ${recordsTable(unit)} limit 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
