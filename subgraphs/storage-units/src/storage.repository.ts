import { quoteIdent } from '@supergraph/db';
import { HEADLINE_OPTIONS } from '@supergraph/kit';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { NewRecord, RecordRow, StorageDb, UnitRecordRow, UnitRow } from './storage.table.ts';
import { REGISTRY_SCHEMA, UNITS, type StorageUnitDefinition } from './units.ts';

/**
 * Data access for the registry and the unit schemas. Single-unit queries use
 * the query builder on `db.withSchema(unit.schema)`; queries spanning every
 * unit are raw SQL naming each schema with `sql.id` (a nested builder query
 * would be re-qualified with the outer query's schema), and every raw
 * statement names its schema because PGlite's search_path is `public`.
 */

/** The columns of a record every read returns (never the generated `search`). */
const RECORD_COLUMNS = [
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

/** `ts_stat` reads every vector it is given; top terms are computed over the most recently written rows only. */
export const TOP_TERMS_SAMPLE_ROWS = 5_000;

function recordsTable(unit: StorageUnitDefinition): RawBuilder<unknown> {
  return sql.id(unit.schema, 'records');
}

function unitDb(db: Kysely<StorageDb>, unit: StorageUnitDefinition): Kysely<StorageDb> {
  return db.withSchema(unit.schema);
}

/** Upserts the registry rows from `units.ts` (start-up and seed); `created_at` keeps its first value. */
export async function syncUnitRegistry(
  db: Kysely<StorageDb>,
  units: readonly StorageUnitDefinition[] = UNITS,
): Promise<void> {
  if (units.length === 0) return;
  await db
    .withSchema(REGISTRY_SCHEMA)
    .insertInto('units')
    .values(
      units.map((unit) => ({
        id: unit.id,
        name: unit.name,
        description: unit.description,
        domains: [...unit.topicDomains],
        schema_name: unit.schema,
      })),
    )
    .onConflict((oc) =>
      oc.column('id').doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        description: eb.ref('excluded.description'),
        domains: eb.ref('excluded.domains'),
        schema_name: eb.ref('excluded.schema_name'),
      })),
    )
    .execute();
}

export async function listRegistryUnits(db: Kysely<StorageDb>): Promise<UnitRow[]> {
  return db.withSchema(REGISTRY_SCHEMA).selectFrom('units').selectAll().orderBy('id').execute();
}

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

function unionAll(parts: readonly RawBuilder<unknown>[]): RawBuilder<unknown> {
  return sql.join(parts, sql` union all `);
}

function recordColumnListOf(alias: string): RawBuilder<unknown> {
  return sql.raw(RECORD_COLUMNS.map((column) => `${alias}.${column}`).join(', '));
}

const recordColumnList = recordColumnListOf('r');

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

export interface SearchHitRow extends UnitRecordRow {
  rank: number;
  snippet: string;
}

/** The tsquery of a web-search style string (`"exact phrase" or -excluded`); never fails on syntax. */
function websearch(query: string): RawBuilder<unknown> {
  return sql`websearch_to_tsquery('english', ${query})`;
}

/** Ranked full-text search in one unit, `limit` rows from `offset`, with a `ts_headline` snippet per hit. */
export async function searchUnitRecords(
  db: Kysely<StorageDb>,
  unit: StorageUnitDefinition,
  query: string,
  limit: number,
  offset: number,
): Promise<{ hits: SearchHitRow[]; totalCount: number }> {
  const table = recordsTable(unit);
  const { rows } = await sql<SearchHitRow>`
    with q as (select ${websearch(query)} as query),
    page as (
      select ${unit.id}::text as unit_id, ${recordColumnList}, ts_rank(r.search, q.query)::float8 as rank
      from ${table} r, q
      where r.search @@ q.query
      order by rank desc, r.created_at desc, r.id
      limit ${limit} offset ${offset}
    )
    select page.*, ts_headline('english', page.content, q.query, ${HEADLINE_OPTIONS}) as snippet
    from page, q
    order by page.rank desc, page.created_at desc, page.id
  `.execute(db);
  const count = await sql<{ count: number }>`
    select count(*)::int as count from ${table} r where r.search @@ ${websearch(query)}
  `.execute(db);
  return { hits: rows, totalCount: count.rows[0]?.count ?? 0 };
}

/**
 * One UNION ALL over every unit: each branch takes its own best `limit` hits
 * (so the GIN index does the work per schema), the outer query merges them by
 * rank and headlines only the survivors.
 */
export async function searchAllUnitRecords(
  db: Kysely<StorageDb>,
  query: string,
  limit: number,
): Promise<SearchHitRow[]> {
  const parts = UNITS.map(
    (unit) => sql`(
      select ${unit.id}::text as unit_id, ${recordColumnList}, ts_rank(r.search, q.query)::float8 as rank
      from ${recordsTable(unit)} r, q
      where r.search @@ q.query
      order by rank desc, r.created_at desc, r.id
      limit ${limit}
    )`,
  );
  const { rows } = await sql<SearchHitRow>`
    with q as (select ${websearch(query)} as query),
    hits as (${unionAll(parts)}),
    best as (select * from hits order by rank desc, created_at desc, id limit ${limit})
    select best.*, ts_headline('english', best.content, q.query, ${HEADLINE_OPTIONS}) as snippet
    from best, q
    order by best.rank desc, best.created_at desc, best.id
  `.execute(db);
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

export interface TagCountRow {
  tag: string;
  count: number;
}

export async function recordsPerTag(
  db: Kysely<StorageDb>,
  unit: StorageUnitDefinition,
  limit: number,
): Promise<TagCountRow[]> {
  const { rows } = await sql<TagCountRow>`
    select tag, count(*)::int as count
    from ${recordsTable(unit)} r, unnest(r.tags) as tag
    group by tag
    order by count desc, tag
    limit ${limit}
  `.execute(db);
  return rows;
}

export interface AuthorCountRow {
  author_id: string | null;
  count: number;
}

/** Records per author; seeded records (no author) form one row with `author_id` null. */
export async function recordsPerAuthor(
  db: Kysely<StorageDb>,
  unit: StorageUnitDefinition,
  limit: number,
): Promise<AuthorCountRow[]> {
  const { rows } = await sql<AuthorCountRow>`
    select r.author_id, count(*)::int as count
    from ${recordsTable(unit)} r
    group by r.author_id
    order by count desc, r.author_id nulls last
    limit ${limit}
  `.execute(db);
  return rows;
}

/** Records created per UTC day, the `days` most recent days that have any, newest first. */
export async function recordsPerDay(
  db: Kysely<StorageDb>,
  unit: StorageUnitDefinition,
  days: number,
): Promise<DayCountRow[]> {
  const { rows } = await sql<DayCountRow>`
    select to_char((r.created_at at time zone 'utc')::date, 'YYYY-MM-DD') as day, count(*)::int as count
    from ${recordsTable(unit)} r
    group by 1
    order by 1 desc
    limit ${days}
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
