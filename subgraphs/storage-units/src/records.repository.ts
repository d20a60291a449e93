import { sql, type Kysely } from 'kysely';
import type { NewRecord, RecordRow, StorageDb, UnitRecordRow } from './storage.table.ts';
import { RECORD_COLUMNS, recordColumnList, recordColumnListOf, recordsTable, unionAll, unitDb } from './unit-sql.ts';
import { UNITS, type StorageUnitDefinition } from './units.ts';

// Records: written in one unit, read by id or by author across every unit.

export async function insertRecord(
  db: Kysely<StorageDb>,
  unit: StorageUnitDefinition,
  record: NewRecord,
): Promise<RecordRow> {
  return unitDb(db, unit).insertInto('records').values(record).returning(RECORD_COLUMNS).executeTakeFirstOrThrow();
}

/**
 * Inserts a batch of seed records; a record whose `external_id` exists is
 * updated only when its text changed, so a re-seed writes nothing. Returns
 * the number of rows inserted or changed.
 */
export async function upsertSeedRecords(
  db: Kysely<StorageDb>,
  unit: StorageUnitDefinition,
  records: readonly NewRecord[],
): Promise<number> {
  if (records.length === 0) return 0;
  const result = await unitDb(db, unit)
    .insertInto('records')
    .values([...records])
    .onConflict((oc) =>
      oc
        .column('external_id')
        .doUpdateSet((eb) => ({
          title: eb.ref('excluded.title'),
          content: eb.ref('excluded.content'),
          tags: eb.ref('excluded.tags'),
          source: eb.ref('excluded.source'),
          updated_at: sql<Date>`now()`,
        }))
        .where((eb) =>
          eb.or([
            eb('records.title', 'is distinct from', eb.ref('excluded.title')),
            eb('records.content', 'is distinct from', eb.ref('excluded.content')),
            eb('records.tags', 'is distinct from', eb.ref('excluded.tags')),
          ]),
        ),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

export async function deleteRecordById(
  db: Kysely<StorageDb>,
  unit: StorageUnitDefinition,
  id: string,
): Promise<boolean> {
  const result = await unitDb(db, unit).deleteFrom('records').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Records by id from whichever unit holds them (ids are UUIDs, unique across units): one query for the whole batch. */
export async function findRecordsByIds(db: Kysely<StorageDb>, ids: readonly string[]): Promise<UnitRecordRow[]> {
  if (ids.length === 0) return [];
  const idArray = sql`${[...ids]}::uuid[]`;
  const parts = UNITS.map(
    (unit) =>
      sql`select ${unit.id}::text as unit_id, ${recordColumnList} from ${recordsTable(unit)} r where r.id = any(${idArray})`,
  );
  const { rows } = await sql<UnitRecordRow>`${unionAll(parts)}`.execute(db);
  return rows;
}

/** Keyset position in a newest-first list of records. */
export interface RecordKeyset {
  createdAt: string;
  id: string;
}

export type AuthoredRecordRow = UnitRecordRow & { created_at_key: string };

/**
 * Newest-first records of many authors across every unit in one query:
 * `limit` rows per author after the shared `after` position. Each unit
 * branch uses the (author_id, created_at) index; a window function cuts
 * the merged rows per author.
 */
export async function findRecordsByAuthors(
  db: Kysely<StorageDb>,
  authorIds: readonly string[],
  limit: number,
  after: RecordKeyset | null,
): Promise<Map<string, AuthoredRecordRow[]>> {
  const result = new Map<string, AuthoredRecordRow[]>(authorIds.map((id) => [id, []]));
  if (authorIds.length === 0) return result;
  const ids = sql`${[...authorIds]}::uuid[]`;
  const position = after ? sql`and (r.created_at, r.id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)` : sql``;
  // The cursor keeps PostgreSQL's microseconds (a JS Date would round to ms and skip or repeat rows).
  const parts = UNITS.map(
    (unit) => sql`
      select ${unit.id}::text as unit_id, ${recordColumnList},
        to_char(r.created_at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at_key
      from ${recordsTable(unit)} r
      where r.author_id = any(${ids}) ${position}`,
  );
  const { rows } = await sql<AuthoredRecordRow>`
    select ${recordColumnListOf('ranked')}, ranked.unit_id, ranked.created_at_key from (
      select mine.*, row_number() over (partition by mine.author_id order by mine.created_at desc, mine.id desc) as position
      from (${unionAll(parts)}) mine
    ) ranked
    where ranked.position <= ${limit}
    order by ranked.author_id, ranked.created_at desc, ranked.id desc
  `.execute(db);
  for (const row of rows) result.get(row.author_id ?? '')?.push(row);
  return result;
}

/** How many records each author has across every unit (0 for none). */
export async function countRecordsByAuthors(
  db: Kysely<StorageDb>,
  authorIds: readonly string[],
): Promise<Map<string, number>> {
  const result = new Map<string, number>(authorIds.map((id) => [id, 0]));
  if (authorIds.length === 0) return result;
  const ids = sql`${[...authorIds]}::uuid[]`;
  const parts = UNITS.map(
    (unit) => sql`select r.author_id from ${recordsTable(unit)} r where r.author_id = any(${ids})`,
  );
  const { rows } = await sql<{ author_id: string; count: number }>`
    select mine.author_id, count(*)::int as count from (${unionAll(parts)}) mine group by mine.author_id
  `.execute(db);
  for (const row of rows) result.set(row.author_id, row.count);
  return result;
}
