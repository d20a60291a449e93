import { HEADLINE_OPTIONS, toSnippetHtml } from '@supergraph/kit';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { entryColumnsOf } from './entries.repository.ts';
import type { EntryRow, KnowledgeDb } from './knowledge.table.ts';

/**
 * Ranked search over `knowledge.entries`: the full-text statement (exact
 * titles, precomputed top lists, capped ranking), the trigram fallback on
 * titles, and capped counting. Which of them a search runs, and in what
 * order, is `search.service.ts`'s business.
 */

export interface RankedHit {
  entry: EntryRow;
  rank: number;
  /** HTML: the text escaped, matched words in `<b>`. */
  snippet: string;
  match: 'FULL_TEXT' | 'FUZZY';
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

export interface FullTextOptions {
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
export async function rankFuzzy(
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
