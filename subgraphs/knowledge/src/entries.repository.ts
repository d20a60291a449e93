import { sql, type Kysely } from 'kysely';
import type { EntryRow, KnowledgeDb, NewEntry } from './knowledge.table.ts';

/**
 * Reads and writes of `knowledge.entries` and `knowledge.ingest_runs`: the
 * loaders' queries, inserts, owner-checked updates and deletes, counts.
 * Query-builder queries are qualified by the Kysely instance's
 * `withSchema('knowledge')`; raw SQL names `knowledge.entries` itself because
 * PGlite does not put the schema on the search_path.
 */

export const ENTRY_COLUMNS = [
  'id',
  'external_id',
  'title',
  'body',
  'topic',
  'tags',
  'source',
  'language',
  'author_id',
  'created_at',
  'updated_at',
] as const;

/** `e.id, e.external_id, ...` for raw SQL over `knowledge.entries e`. */
export const entryColumnsOf = (alias: string) => sql.join(ENTRY_COLUMNS.map((column) => sql.ref(`${alias}.${column}`)));

/** Who changes an entry: its author may, an admin may change any. */
export interface Actor {
  actorId: string;
  isAdmin: boolean;
}

export async function findEntriesByIds(db: Kysely<KnowledgeDb>, ids: readonly string[]): Promise<EntryRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('entries').select(ENTRY_COLUMNS).where('id', 'in', ids).execute();
}

export interface AuthorPageKey {
  authorId: string;
  /** Rows to fetch (page size + 1 to learn whether there is a next page). */
  limit: number;
  /** Keyset: entries strictly older than this (created_at desc, id desc). */
  after: { createdAt: string; id: string } | null;
}

/** An entry plus its `created_at` at full (microsecond) precision, for keyset cursors. */
export interface AuthoredEntryRow extends EntryRow {
  cursor_created_at: string;
}

export function authorPageCacheKey(key: AuthorPageKey): string {
  return `${key.authorId}|${key.limit}|${key.after?.createdAt ?? ''}|${key.after?.id ?? ''}`;
}

/**
 * Newest-first entries of many authors in one query (a lateral join per
 * author), for `User.knowledgeEntries` over a list of users. Keys sharing
 * `limit`/`after` (the usual case: one selection set) share one query.
 */
export async function listEntriesByAuthors(
  db: Kysely<KnowledgeDb>,
  keys: readonly AuthorPageKey[],
): Promise<Map<string, AuthoredEntryRow[]>> {
  const result = new Map<string, AuthoredEntryRow[]>();
  const groups = new Map<string, AuthorPageKey[]>();
  for (const key of keys) {
    const group = `${key.limit}|${key.after?.createdAt ?? ''}|${key.after?.id ?? ''}`;
    groups.set(group, [...(groups.get(group) ?? []), key]);
  }
  for (const group of groups.values()) {
    const first = group[0];
    if (!first) continue;
    const authorIds = [...new Set(group.map((key) => key.authorId))];
    const afterCondition = first.after
      ? sql`and (e.created_at, e.id) < (${first.after.createdAt}::timestamptz, ${first.after.id}::uuid)`
      : sql``;
    const { rows } = await sql<AuthoredEntryRow>`
      select ${entryColumnsOf('e')}, to_json(e.created_at) #>> '{}' as cursor_created_at
        from unnest(${authorIds}::uuid[]) as a(author_id)
        cross join lateral (
          select * from knowledge.entries e
           where e.author_id = a.author_id ${afterCondition}
           order by e.created_at desc, e.id desc
           limit ${first.limit}
        ) e
    `.execute(db);
    for (const key of group) {
      const cacheKey = authorPageCacheKey(key);
      if (!result.has(cacheKey)) result.set(cacheKey, []);
    }
    for (const row of rows) {
      const cacheKey = authorPageCacheKey({ authorId: row.author_id ?? '', limit: first.limit, after: first.after });
      result.get(cacheKey)?.push(row);
    }
  }
  return result;
}

/** Inserts entries (one multi-row INSERT); a repeated `external_id` fails with 23505. */
export async function insertEntries(db: Kysely<KnowledgeDb>, entries: readonly NewEntry[]): Promise<EntryRow[]> {
  if (entries.length === 0) return [];
  return db
    .insertInto('entries')
    .values([...entries])
    .returning(ENTRY_COLUMNS)
    .execute();
}

/** Inserts rows whose `external_id` is new; returns how many were added (the rest already existed). */
export async function insertEntriesIfAbsent(db: Kysely<KnowledgeDb>, entries: readonly NewEntry[]): Promise<number> {
  if (entries.length === 0) return 0;
  const result = await db
    .insertInto('entries')
    .values([...entries])
    .onConflict((conflict) => conflict.column('external_id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

export async function findEntryAuthor(
  db: Kysely<KnowledgeDb>,
  id: string,
): Promise<{ author_id: string | null } | undefined> {
  return db.selectFrom('entries').select('author_id').where('id', '=', id).executeTakeFirst();
}

export interface EntryPatch {
  title?: string;
  body?: string;
  topic?: string | null;
  tags?: string[];
  source?: string | null;
  language?: string;
}

/**
 * Updates an entry if `actor` wrote it or is an admin; the ownership check
 * and the write are one statement, so nothing changes hands in between.
 */
export async function updateEntryAsActor(
  db: Kysely<KnowledgeDb>,
  id: string,
  patch: EntryPatch,
  actor: Actor,
): Promise<EntryRow | undefined> {
  return db
    .updateTable('entries')
    .set({ ...patch, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where((eb) => (actor.isAdmin ? eb.lit(true) : eb('author_id', '=', actor.actorId)))
    .returning(ENTRY_COLUMNS)
    .executeTakeFirst();
}

/** Deletes an entry if `actor` wrote it or is an admin (one statement); false when nothing was deleted. */
export async function deleteEntryAsActor(db: Kysely<KnowledgeDb>, id: string, actor: Actor): Promise<boolean> {
  const result = await db
    .deleteFrom('entries')
    .where('id', '=', id)
    .where((eb) => (actor.isAdmin ? eb.lit(true) : eb('author_id', '=', actor.actorId)))
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function recordIngestRun(
  db: Kysely<KnowledgeDb>,
  run: { source: string; startedAt: Date; seen: number; added: number },
): Promise<void> {
  await db
    .insertInto('ingest_runs')
    .values({ source: run.source, started_at: run.startedAt, entries_seen: run.seen, entries_added: run.added })
    .execute();
}

export async function countEntriesFromSource(db: Kysely<KnowledgeDb>, source: string): Promise<number> {
  const row = await db
    .selectFrom('entries')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('source', '=', source)
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

export async function topicCounts(db: Kysely<KnowledgeDb>): Promise<Array<{ topic: string; count: number }>> {
  const rows = await db
    .selectFrom('entries')
    .select(['topic', (eb) => eb.fn.countAll<string>().as('count')])
    .where('topic', 'is not', null)
    .groupBy('topic')
    .orderBy('count', 'desc')
    .orderBy('topic')
    .execute();
  return rows.map((row) => ({ topic: row.topic ?? '', count: Number(row.count) }));
}

export async function knowledgeStats(
  db: Kysely<KnowledgeDb>,
): Promise<{ entries: number; sizeBytes: number; lastIngestAt: Date | null }> {
  const { rows } = await sql<{
    entries: string | number;
    size_bytes: string | number;
    last_ingest_at: Date | string | null;
  }>`
    select (select count(*) from knowledge.entries) as entries,
           pg_total_relation_size('knowledge.entries'::regclass) + pg_total_relation_size('knowledge.ingest_runs'::regclass) as size_bytes,
           greatest((select max(finished_at) from knowledge.ingest_runs), (select max(created_at) from knowledge.entries)) as last_ingest_at
  `.execute(db);
  const row = rows[0];
  const last = row?.last_ingest_at ?? null;
  return {
    entries: Number(row?.entries ?? 0),
    sizeBytes: Number(row?.size_bytes ?? 0),
    lastIngestAt: last === null ? null : new Date(last),
  };
}
