import { HEADLINE_OPTIONS } from '@supergraph/kit';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { StorageDb, UnitRecordRow } from './storage.table.ts';
import { recordColumnList, recordsTable, unionAll } from './unit-sql.ts';
import { UNITS, type StorageUnitDefinition } from './units.ts';

// Ranked full-text search over the records' weighted `search` vector (title A, content B).

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
