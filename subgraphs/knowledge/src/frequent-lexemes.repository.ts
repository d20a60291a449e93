import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { KnowledgeDb } from './knowledge.table.ts';

/**
 * Upkeep of the per-lexeme top lists (`knowledge.frequent_lexeme_terms`,
 * `knowledge.frequent_lexemes`; README, "Search at scale") that answer a very
 * common one-word search exactly. The search reads them (`search.repository.ts`);
 * the triggers of the `frequent_lexemes` migration keep existing lists exact.
 */

export interface FrequentLexemeOptions {
  /** Lexemes matching more entries than this get a list (the search's `candidateCap`). */
  minMatches: number;
  /** Entries per list: the deepest exact page (offset + first + 1). */
  listSize: number;
}

export const DEFAULT_FREQUENT_LEXEMES: FrequentLexemeOptions = { minMatches: 1000, listSize: 200 };

/** `'<lexeme>'::tsquery` in SQL: the one-lexeme query `websearch_to_tsquery` yields for a plain word. */
const lexemeQuery = (lexeme: RawBuilder<unknown>) => sql`('''' || replace(${lexeme}, '''', '''''') || '''')::tsquery`;

/**
 * Rebuilds the per-lexeme top lists from scratch in a transaction of its own
 * (so `db` must not be a transaction already): the lexemes of `entries.search`
 * matching more than `minMatches` entries (`ts_stat`, one pass over every
 * tsvector), then each one's best `listSize` entries by `ts_rank` (a GIN
 * lookup per lexeme). Between rebuilds the triggers keep existing lists exact;
 * a lexeme that becomes common later is served by the capped ranking until
 * the next rebuild (after a seed or a batch ingest).
 *
 * @example
 * const { lexemes } = await refreshFrequentLexemes(db, { minMatches: settings.candidateCap });
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
 * the triggers merged the new entries into their lists. Takes the ingest
 * transaction: a lexeme registered without its list would answer searches
 * with an empty list. Cheap enough for that (a batch's distinct lexemes,
 * mostly rare).
 */
export async function refreshFrequentLexemesFor(
  trx: Transaction<KnowledgeDb>,
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
  `.execute(trx);
  const lexemes = terms.rows.map((row) => row.lexeme);
  if (lexemes.length === 0) return { lexemes: 0, rows: 0 };
  const rows = await insertTopLists(trx, sql`select unnest(${lexemes}::text[]) as lexeme`, listSize);
  return { lexemes: lexemes.length, rows };
}

/** Each lexeme's best `listSize` entries by `ts_rank`, in the search's order. */
async function insertTopLists(
  db: Kysely<KnowledgeDb>,
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
