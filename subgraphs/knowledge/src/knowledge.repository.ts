import { HEADLINE_OPTIONS, toSnippetHtml } from '@supergraph/kit';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { EntryRow, KnowledgeDb, NewEntry } from './knowledge.table.ts';

/**
 * Data access for knowledge entries. Query-builder queries are qualified by the
 * Kysely instance's `withSchema('knowledge')`; raw SQL (full-text and trigram
 * operators) names `knowledge.entries` itself because PGlite does not put the
 * schema on the search_path.
 */

const ENTRY_COLUMNS = [
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
const entryColumnsOf = (alias: string) => sql.join(ENTRY_COLUMNS.map((column) => sql.ref(`${alias}.${column}`)));

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

/** An entry plus its `created_at` at full (microsecond) precision, for keyset cursors. */
export interface AuthoredEntryRow extends EntryRow {
  cursor_created_at: string;
}

export function authorPageCacheKey(key: AuthorPageKey): string {
  return `${key.authorId}|${key.limit}|${key.after?.createdAt ?? ''}|${key.after?.id ?? ''}`;
}

export interface RankedHit {
  entry: EntryRow;
  rank: number;
  /** HTML: the text escaped, matched words in `<b>`. */
  snippet: string;
  match: 'FULL_TEXT' | 'FUZZY';
}

export interface SearchOptions {
  /** Web-search syntax: `"exact phrase"`, `-excluded`, `or`. */
  query: string;
  topic: string | null;
  limit: number;
  offset: number;
  /**
   * How many index matches each pass (title, then whole entry) may hand to
   * ranking. Below it ranking is exact; above it only the first `candidateCap`
   * matches of each pass are ranked (see README, "Search at scale").
   */
  candidateCap: number;
  /** Below this many full-text matches, trigram matches on the title are appended. */
  fuzzyBelow: number;
}

export interface SearchResult {
  hits: RankedHit[];
  hasNextPage: boolean;
}

interface RankedRow extends EntryRow {
  rank: number | string | null;
  snippet: string | null;
}

interface CountedRow extends Partial<RankedRow> {
  total: number | string;
  listed: boolean | null;
  candidate_ids: string[] | null;
}

/**
 * Ranked full-text search (`websearch_to_tsquery`), falling back to trigram
 * similarity on titles when the full-text search finds fewer than
 * `fuzzyBelow` entries (misspellings). One round trip in the common case, two
 * when the fallback runs. Returns `limit` hits at most and whether more exist.
 */
export async function searchEntries(db: Kysely<KnowledgeDb>, options: SearchOptions): Promise<SearchResult> {
  const tsquery = sql`websearch_to_tsquery('english'::regconfig, ${options.query})`;
  // fillAtLeast: a count below `fuzzyBelow` must mean "few matches", not "the title pass sufficed".
  const fullText = await rankFullText(db, tsquery, {
    ...options,
    limit: options.limit + 1,
    fillAtLeast: options.fuzzyBelow,
    exactTitle: exactTitleOf(options.query),
  });
  let hits = fullText.hits;
  if (fullText.total < options.fuzzyBelow) {
    const fuzzyText = fuzzyTextOf(options.query);
    if (fuzzyText) {
      const fuzzyOffset = Math.max(0, options.offset - fullText.total);
      const fuzzyLimit = options.limit + 1 - hits.length;
      const fuzzy = await rankFuzzy(db, fuzzyText, tsquery, {
        topic: options.topic,
        limit: fuzzyLimit,
        offset: fuzzyOffset,
        excludeIds: fullText.candidateIds,
      });
      hits = [...hits, ...fuzzy];
    }
  }
  return { hits: hits.slice(0, options.limit), hasNextPage: hits.length > options.limit };
}

/** `'<lexeme>'::tsquery` in SQL: the one-lexeme query `websearch_to_tsquery` yields for a plain word. */
const lexemeQuery = (lexeme: RawBuilder<unknown>) => sql`('''' || replace(${lexeme}, '''', '''''') || '''')::tsquery`;

export interface FrequentLexemeOptions {
  /** Lexemes matching more entries than this get a list (the search's `candidateCap`). */
  minMatches: number;
  /** Entries per list: the deepest exact page (offset + first + 1). */
  listSize: number;
}

export const DEFAULT_FREQUENT_LEXEMES: FrequentLexemeOptions = { minMatches: 1000, listSize: 200 };

/**
 * Rebuilds the per-lexeme top lists from scratch in one transaction: the
 * lexemes of `entries.search` matching more than `minMatches` entries
 * (`ts_stat`, one pass over every tsvector), then each one's best `listSize`
 * entries by `ts_rank` (a GIN lookup per lexeme). Between rebuilds the
 * triggers of the `frequent_lexemes` migration keep existing lists exact; a
 * lexeme that becomes common later is served by the capped ranking until the
 * next rebuild (after a seed or a batch ingest).
 */
export async function refreshFrequentLexemes(
  db: Kysely<KnowledgeDb>,
  options: Partial<FrequentLexemeOptions> = {},
): Promise<{ lexemes: number; rows: number; durationMs: number }> {
  const { minMatches, listSize } = { ...DEFAULT_FREQUENT_LEXEMES, ...options };
  const started = performance.now();
  return db.transaction().execute(async (trx) => {
    await sql`delete from knowledge.frequent_lexemes`.execute(trx);
    await sql`delete from knowledge.frequent_lexeme_terms`.execute(trx);
    const terms = await sql`
      insert into knowledge.frequent_lexeme_terms (lexeme, matches)
      select word, ndoc from ts_stat('select search from knowledge.entries') where ndoc > ${minMatches}
    `.execute(trx);
    const rows = await insertTopLists(trx, sql`select lexeme from knowledge.frequent_lexeme_terms`, listSize);
    await sql`analyze knowledge.frequent_lexeme_terms`.execute(trx);
    await sql`analyze knowledge.frequent_lexemes`.execute(trx);
    return {
      lexemes: Number(terms.numAffectedRows ?? 0),
      rows,
      durationMs: performance.now() - started,
    };
  });
}

/**
 * After new entries: lists for the lexemes of `entryIds` that have none yet
 * but now match more than `minMatches` entries (each counted with the GIN
 * index, stopping at `minMatches + 1`). Lexemes already listed need nothing:
 * the triggers merged the new entries into their lists. Cheap enough to run
 * inside the ingest transaction (a batch's distinct lexemes, mostly rare).
 */
export async function refreshFrequentLexemesFor(
  db: Kysely<KnowledgeDb> | Transaction<KnowledgeDb>,
  entryIds: readonly string[],
  options: Partial<FrequentLexemeOptions> = {},
): Promise<{ lexemes: number; rows: number }> {
  if (entryIds.length === 0) return { lexemes: 0, rows: 0 };
  const { minMatches, listSize } = { ...DEFAULT_FREQUENT_LEXEMES, ...options };
  const terms = await sql<{ lexeme: string }>`
    insert into knowledge.frequent_lexeme_terms (lexeme, matches)
    select candidate.lexeme, counted.matches
      from (
        select distinct l.lexeme
          from knowledge.entries n
          cross join lateral unnest(tsvector_to_array(n.search)) as l(lexeme)
         where n.id = any(${[...entryIds]}::uuid[])
           and not exists (select 1 from knowledge.frequent_lexeme_terms t where t.lexeme = l.lexeme)
      ) candidate
      cross join lateral (
        select count(*) as matches from (
          select 1 from knowledge.entries e where e.search @@ ${lexemeQuery(sql`candidate.lexeme`)} limit ${minMatches + 1}
        ) capped
      ) counted
     where counted.matches > ${minMatches}
    on conflict (lexeme) do nothing
    returning lexeme
  `.execute(db);
  const lexemes = terms.rows.map((row) => row.lexeme);
  if (lexemes.length === 0) return { lexemes: 0, rows: 0 };
  const rows = await insertTopLists(db, sql`select unnest(${lexemes}::text[]) as lexeme`, listSize);
  return { lexemes: lexemes.length, rows };
}

/** Each lexeme's best `listSize` entries by `ts_rank`, in the search's order. */
async function insertTopLists(
  db: Kysely<KnowledgeDb> | Transaction<KnowledgeDb>,
  lexemes: RawBuilder<unknown>,
  listSize: number,
): Promise<number> {
  const result = await sql`
    insert into knowledge.frequent_lexemes (lexeme, entry_id, rank)
    select t.lexeme, top.id, top.rank
      from (${lexemes}) t
      cross join lateral (
        select e.id, ts_rank(e.search, ${lexemeQuery(sql`t.lexeme`)}) as rank
          from knowledge.entries e
         where e.search @@ ${lexemeQuery(sql`t.lexeme`)}
         order by rank desc, e.id
         limit ${listSize}
      ) top
    on conflict do nothing
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

interface FullTextOptions {
  topic: string | null;
  limit: number;
  offset: number;
  candidateCap: number;
  /** Ids to leave out (an earlier, stricter pass already returned them). */
  excludeIds?: readonly string[];
  /** Run the whole-entry pass unless the title pass found this many; default `offset + limit`. */
  fillAtLeast?: number;
  /**
   * Normalised query text (`exactTitleOf`): entries one of whose title lemmas
   * equals it (case-insensitive) and that match the tsquery come first, with
   * rank `ts_rank + 1`. Null or absent: no boost.
   */
  exactTitle?: string | null;
}

/**
 * One statement, two paths. A single very common lexeme (no topic, nothing
 * excluded, page within its list) is read from its precomputed top list
 * (`knowledge.frequent_lexemes`, exact; see `refreshFrequentLexemes`), and the
 * passes below are one-time filters that never start. Otherwise the capped
 * ranking: pass 1 takes up to `candidateCap` entries whose title
 * matches (`title_search` index); a title hit always outranks a body-only hit
 * of a one-term query (weight A against B), so pass 2 — up to `candidateCap`
 * entries matching anywhere — runs only when pass 1 cannot fill the requested
 * page (a one-time filter: otherwise its scan never starts). Only those
 * candidates are ranked with `ts_rank`, and `ts_headline` runs for the page
 * alone. The tsquery is inlined (not a CTE) so the planner sees it and picks,
 * per term, a bitmap index scan (rare terms) or a sequential scan that stops
 * after `candidateCap` hits (very common terms). `querytree(q) <> 'T'` refuses
 * pure negations (`-word`), which no index can answer without reading every row.
 *
 * Exact titles first: with `exactTitle`, the entries one of whose title lemmas
 * (`string_to_array(lower(title), ', ')`, GIN index of the `title_lemmas`
 * migration) equals it lead the whole result, ordered by `ts_rank`, reported
 * with rank `ts_rank + 1` (so ranks keep decreasing down the result: a plain
 * one- or OR-query `ts_rank` never exceeds 1); the list or the capped
 * candidates follow without them. Offsets count over that whole sequence.
 */
export async function rankFullText(
  db: Kysely<KnowledgeDb>,
  tsquery: RawBuilder<unknown>,
  options: FullTextOptions,
): Promise<{ hits: RankedHit[]; total: number; candidateIds: string[] }> {
  const topic = options.topic === null ? sql`true` : sql`e.topic = ${options.topic}`;
  const exclude =
    options.excludeIds && options.excludeIds.length > 0
      ? sql`and not (e.id = any(${[...options.excludeIds]}::uuid[]))`
      : sql``;
  const needed = options.offset + options.limit;
  // A top list answers only a global search (no topic) that nothing was excluded from.
  const listable = options.topic === null && !(options.excludeIds && options.excludeIds.length > 0);
  const head = listable
    ? sql`
      select f.entry_id, f.rank
        from knowledge.frequent_lexemes f
       where f.lexeme = (
         select case when numnode(q.q) = 1 and right(q.text, 1) = '''' and length(q.text) > 2
                     then replace(substr(q.text, 2, length(q.text) - 2), '''''', '''') end
           from (select ${tsquery} as q, ${tsquery}::text as text) q
       )
       order by f.rank desc, f.entry_id
       limit ${needed}`
    : sql`select null::uuid as entry_id, null::real as rank where false`;
  const usable = sql`querytree(${tsquery}) <> 'T' and not (select hit from listed)`;
  // `offset 0` fences the lemma lookup: the planner would otherwise AND it with a
  // bitmap scan of `search` (milliseconds for a common term) to check a handful of rows.
  const exact = options.exactTitle
    ? sql`
      select x.id, ts_rank(x.search, ${tsquery}) + 1 as rank
        from (
          select e.id, e.search
            from knowledge.entries e
           where string_to_array(lower(e.title), ', ') @> array[lower(${options.exactTitle}::text)] and ${topic} ${exclude}
          offset 0
        ) x
       where querytree(${tsquery}) <> 'T' and x.search @@ ${tsquery}
       limit ${options.candidateCap}`
    : sql`select null::uuid as id, null::real as rank where false`;
  const { rows } = await sql<CountedRow>`
    with head as materialized (${head}),
    exact as materialized (${exact}),
    listed as materialized (
      select exists (select 1 from head)
         and (select count(*) from exact)
           + (select count(*) from head h where not exists (select 1 from exact x where x.id = h.entry_id)) >= ${needed} as hit
    ),
    title_hits as materialized (
      select e.id, ts_rank(e.search, ${tsquery}) as rank
        from knowledge.entries e
       -- The title index finds candidates; the whole entry must match too (a -word may exclude it by its body).
       where ${usable} and e.title_search @@ ${tsquery} and e.search @@ ${tsquery} and ${topic} ${exclude}
       limit ${options.candidateCap}
    ),
    body_hits as materialized (
      select e.id, ts_rank(e.search, ${tsquery}) as rank
        from knowledge.entries e
       where ${usable} and (select count(*) from title_hits) < ${Math.max(options.fillAtLeast ?? 0, needed)}
         and e.search @@ ${tsquery} and ${topic} ${exclude}
       limit ${options.candidateCap}
    ),
    candidates as materialized (
      select id, max(rank) as rank from (select id, rank from title_hits union all select id, rank from body_hits) hits group by id
    ),
    found as (
      select id from exact union select id from candidates
    ),
    counted as (
      select count(*) as total, (case when count(*) <= 16 then array_agg(id) end) as candidate_ids from found
    ),
    ordered as (
      select id, rank, 0 as tier from exact
      union all
      select c.id, c.rank, 1 from candidates c
       where not (select hit from listed) and not exists (select 1 from exact x where x.id = c.id)
      union all
      select h.entry_id, h.rank, 1 from head h
       where (select hit from listed) and not exists (select 1 from exact x where x.id = h.entry_id)
    ),
    page as (
      select id, rank, tier from ordered order by tier, rank desc, id limit ${options.limit} offset ${options.offset}
    )
    select counted.total, counted.candidate_ids, (select hit from listed) as listed, ${entryColumnsOf('e')}, page.rank,
           ts_headline('english'::regconfig, case when e.body = '' then e.title else e.body end, ${tsquery}, ${HEADLINE_OPTIONS}) as snippet
      from counted
      left join page on true
      left join knowledge.entries e on e.id = page.id
     order by page.tier nulls last, page.rank desc, page.id
  `.execute(db);
  // Served from a top list: the term matches more than `candidateCap` entries (that is why it is listed).
  const total = rows[0]?.listed === true ? Number.MAX_SAFE_INTEGER : Number(rows[0]?.total ?? 0);
  const hits = rows.filter((row) => row.id != null).map((row) => toHit(row as RankedRow, 'FULL_TEXT'));
  return { hits, total, candidateIds: rows[0]?.candidate_ids ?? [] };
}

/**
 * Titles spelt like the query. Word similarity first (`q <% title`: the query
 * close to some run of words in the title; selective, so the trigram index
 * hands over few rows); whole-title similarity (`title % q`, looser, many
 * more rows to recheck) only when no title is word-similar at all.
 */
async function rankFuzzy(
  db: Kysely<KnowledgeDb>,
  text: string,
  tsquery: RawBuilder<unknown>,
  options: { topic: string | null; limit: number; offset: number; excludeIds: readonly string[] },
): Promise<RankedHit[]> {
  if (options.limit <= 0) return [];
  const topic = options.topic === null ? sql`true` : sql`e.topic = ${options.topic}`;
  const exclude = sql`not (e.id = any(${[...options.excludeIds]}::uuid[]))`;
  const wordSimilar = sql`${text} operator(public.<%) e.title`;
  const select = async (match: RawBuilder<unknown>) =>
    (
      await sql<RankedRow>`
        select ${entryColumnsOf('e')},
               greatest(public.similarity(e.title, ${text}), public.word_similarity(${text}, e.title)) as rank,
               ts_headline('english'::regconfig, case when e.body = '' then e.title else e.body end, ${tsquery}, ${HEADLINE_OPTIONS}) as snippet
          from knowledge.entries e
         where ${match} and ${topic} and ${exclude}
         order by rank desc, e.id
         limit ${options.limit} offset ${options.offset}
      `.execute(db)
    ).rows;
  let rows = await select(wordSimilar);
  if (rows.length === 0) {
    const anyWordSimilar =
      options.offset > 0 &&
      (
        await sql<{
          found: boolean;
        }>`select exists (select 1 from knowledge.entries e where ${wordSimilar} and ${topic} and ${exclude}) as found`.execute(
          db,
        )
      ).rows[0]?.found === true;
    if (!anyWordSimilar) rows = await select(sql`e.title operator(public.%) ${text}`);
  }
  return rows.map((row) => toHit(row, 'FUZZY'));
}

/**
 * The text an exact title lemma must equal: the query trimmed, inner
 * whitespace collapsed (lower-cased in SQL, like the index expression), or
 * null when the query uses web-search operators (`"phrase"`, `-word`, `or`),
 * which ask for something else than "the entry named so".
 */
export function exactTitleOf(query: string): string | null {
  const text = query.trim().replace(/\s+/g, ' ');
  if (text === '' || text.length > 500 || text.includes('"')) return null;
  const words = text.split(' ');
  if (words.some((word) => word.startsWith('-') || word.toLowerCase() === 'or')) return null;
  return text;
}

/** The words of a web-search query without its operators, for trigram matching. */
export function fuzzyTextOf(query: string): string {
  return query
    .replace(/["()]/g, ' ')
    .split(/\s+/)
    .filter((word) => word !== '' && !word.startsWith('-') && word.toLowerCase() !== 'or')
    .join(' ')
    .slice(0, 200);
}

function toHit(row: RankedRow, match: RankedHit['match']): RankedHit {
  const entry: EntryRow = {
    id: row.id,
    external_id: row.external_id,
    title: row.title,
    body: row.body,
    topic: row.topic,
    tags: row.tags,
    source: row.source,
    language: row.language,
    author_id: row.author_id,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
  return { entry, rank: Number(row.rank ?? 0), snippet: toSnippetHtml(row.snippet ?? ''), match };
}

/**
 * Answers a question from its content words: entries matching all of them
 * first (ranked), then entries matching any of them (ranked), `limit` in all.
 */
export async function answerQuestion(
  db: Kysely<KnowledgeDb>,
  terms: readonly string[],
  options: { limit: number; candidateCap: number },
): Promise<RankedHit[]> {
  if (terms.length === 0) return [];
  const all = await rankFullText(db, sql`to_tsquery('english'::regconfig, ${terms.join(' & ')})`, {
    topic: null,
    limit: options.limit,
    offset: 0,
    candidateCap: options.candidateCap,
  });
  if (all.hits.length >= options.limit || terms.length === 1) return all.hits;
  const any = await rankFullText(db, sql`to_tsquery('english'::regconfig, ${terms.join(' | ')})`, {
    topic: null,
    limit: options.limit - all.hits.length,
    offset: 0,
    candidateCap: options.candidateCap,
    excludeIds: all.hits.map((hit) => hit.entry.id),
  });
  return [...all.hits, ...any.hits];
}

/**
 * Counts matches of a web-search query, stopping at `cap` (counting a very
 * common term exactly would read every matching row).
 */
export async function countMatches(
  db: Kysely<KnowledgeDb>,
  query: string,
  topic: string | null,
  cap: number,
): Promise<number> {
  const topicCondition = topic === null ? sql`true` : sql`e.topic = ${topic}`;
  const { rows } = await sql<{ total: number | string }>`
    select count(*) as total from (
      select 1 from knowledge.entries e, (select websearch_to_tsquery('english'::regconfig, ${query}) as q) query
       where querytree(query.q) <> 'T' and e.search @@ query.q and ${topicCondition}
       limit ${cap}
    ) matches
  `.execute(db);
  return Number(rows[0]?.total ?? 0);
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

/**
 * Inserts entries and, in the same transaction, gives a top list to every
 * lexeme they made very common (existing lists take the rows through the triggers).
 */
export async function insertEntries(
  trx: Transaction<KnowledgeDb>,
  entries: readonly NewEntry[],
  lists: Partial<FrequentLexemeOptions>,
): Promise<EntryRow[]> {
  if (entries.length === 0) return [];
  const inserted = await trx
    .insertInto('entries')
    .values([...entries])
    .returning(ENTRY_COLUMNS)
    .execute();
  await refreshFrequentLexemesFor(
    trx,
    inserted.map((row) => row.id),
    lists,
  );
  return inserted;
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
 * Updates an entry if `actorId` wrote it or `isAdmin`; the ownership check
 * and the write are one statement, so nothing changes hands in between.
 */
export async function updateEntryAsActor(
  db: Kysely<KnowledgeDb>,
  id: string,
  patch: EntryPatch,
  actor: { actorId: string; isAdmin: boolean },
): Promise<EntryRow | undefined> {
  return db
    .updateTable('entries')
    .set({ ...patch, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where((eb) => (actor.isAdmin ? eb.lit(true) : eb('author_id', '=', actor.actorId)))
    .returning(ENTRY_COLUMNS)
    .executeTakeFirst();
}

export async function deleteEntryAsActor(
  db: Kysely<KnowledgeDb>,
  id: string,
  actor: { actorId: string; isAdmin: boolean },
): Promise<boolean> {
  const result = await db
    .deleteFrom('entries')
    .where('id', '=', id)
    .where((eb) => (actor.isAdmin ? eb.lit(true) : eb('author_id', '=', actor.actorId)))
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function recordIngestRun(
  db: Kysely<KnowledgeDb> | Transaction<KnowledgeDb>,
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
