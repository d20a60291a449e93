import { sql, type Kysely } from 'kysely';
import type { DayCountRow } from './stats.repository.ts';
import type { StorageDb } from './storage.table.ts';
import { recordsTable } from './unit-sql.ts';
import type { StorageUnitDefinition } from './units.ts';

// The breakdowns of `unitAnalytics` (admins): records per tag, per author, per day of one unit.

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
