import { sql, type Kysely } from 'kysely';
import type { KnowledgeDb } from './knowledge.table.ts';
import { exactTitleOf, fuzzyTextOf } from './query-text.ts';
import { rankFullText, rankFuzzy, type RankedHit } from './search.repository.ts';

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

/**
 * Ranked full-text search (`websearch_to_tsquery`), falling back to trigram
 * similarity on titles when the full-text search finds fewer than
 * `fuzzyBelow` entries (misspellings). One round trip in the common case, two
 * when the fallback runs. Returns `limit` hits at most: ask for one more than
 * the page (`first + 1`) to learn whether there is a next page, as `toConnection` expects.
 */
export async function searchHits(db: Kysely<KnowledgeDb>, options: SearchOptions): Promise<RankedHit[]> {
  const tsquery = sql`websearch_to_tsquery('english'::regconfig, ${options.query})`;
  // fillAtLeast: a count below `fuzzyBelow` must mean "few matches", not "the title pass sufficed".
  const fullText = await rankFullText(db, tsquery, {
    ...options,
    fillAtLeast: options.fuzzyBelow,
    exactTitle: exactTitleOf(options.query),
  });
  if (fullText.total >= options.fuzzyBelow) return fullText.hits;
  const fuzzyText = fuzzyTextOf(options.query);
  if (!fuzzyText) return fullText.hits;
  const fuzzy = await rankFuzzy(db, fuzzyText, tsquery, {
    topic: options.topic,
    limit: options.limit - fullText.hits.length,
    offset: Math.max(0, options.offset - fullText.total),
    excludeIds: fullText.candidateIds,
  });
  return [...fullText.hits, ...fuzzy];
}

/**
 * One page of {@link searchHits}: `limit` hits at most and whether more exist.
 *
 * @example
 * const { hits, hasNextPage } = await searchEntries(db, { query: 'comet', topic: null, limit: 20, offset: 0, ...settings });
 */
export async function searchEntries(db: Kysely<KnowledgeDb>, options: SearchOptions): Promise<SearchResult> {
  const hits = await searchHits(db, { ...options, limit: options.limit + 1 });
  return { hits: hits.slice(0, options.limit), hasNextPage: hits.length > options.limit };
}

/**
 * Answers a question from its content words (`questionTerms`): entries
 * matching all of them first (ranked), then entries matching any of them
 * (ranked), `limit` in all.
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
