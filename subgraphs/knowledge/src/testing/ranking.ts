import { createDatabase } from '@supergraph/db';
import { sql, type Kysely } from 'kysely';
import { expect } from 'vitest';
import { refreshFrequentLexemes } from '../frequent-lexemes.repository.ts';
import type { KnowledgeDb } from '../knowledge.table.ts';
import { startHarness, userIdentity, type KnowledgeHarness } from './harness.ts';

export const SEARCH = `query ($query: String!, $topic: String, $first: Int, $after: String) {
  searchKnowledge(query: $query, topic: $topic, first: $first, after: $after) {
    edges { cursor rank match node { id title topic } }
    pageInfo { hasNextPage endCursor }
  }
}`;
export const BATCH = `mutation ($inputs: [KnowledgeInput!]!) { ingestKnowledgeBatch(inputs: $inputs) { id title } }`;

export interface SearchPage {
  edges: Array<{ cursor: string; rank: number; match: string; node: { id: string; title: string; topic: string } }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface RankingFixture {
  harness: KnowledgeHarness;
  /** Direct access to the schema, for the reference rankings and the list tables. */
  db: Kysely<KnowledgeDb>;
  admin: ReturnType<typeof userIdentity>;
  /** `searchKnowledge` through the subgraph; fails the test on errors. */
  search(variables: Record<string, unknown>): Promise<SearchPage>;
  /** The reference: every match ranked by plain `ts_rank`, ordered `rank desc, id`. */
  naive(query: string, limit?: number, offset?: number): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * A knowledge subgraph with a tiny candidate cap, `corpus` ingested as one
 * batch and the top lists rebuilt for it: what the ranking tests (top lists,
 * exact titles) compare against a naive full ranking.
 */
export async function startRankingFixture(
  corpus: ReadonlyArray<{ title: string; body: string; topic: string }>,
  { candidateCap, listSize }: { candidateCap: number; listSize: number },
): Promise<RankingFixture> {
  const harness = await startHarness({ search: { candidateCap } });
  const database = createDatabase<KnowledgeDb>(harness.database.target, { schema: 'knowledge', poolMax: 1 });
  const admin = userIdentity({ tier: 'enterprise', admin: true });
  const ingested = await harness.call(BATCH, { inputs: corpus }, admin);
  expect(ingested.errors).toBeUndefined();
  await refreshFrequentLexemes(database.db, { minMatches: candidateCap, listSize });
  return {
    harness,
    db: database.db,
    admin,
    async search(variables) {
      const result = await harness.call<{ searchKnowledge: SearchPage }>(SEARCH, variables);
      expect(result.errors).toBeUndefined();
      return result.data!.searchKnowledge;
    },
    async naive(query, limit = 10_000, offset = 0) {
      const { rows } = await sql<{ id: string }>`
        select id from knowledge.entries
         where search @@ websearch_to_tsquery('english', ${query})
         order by ts_rank(search, websearch_to_tsquery('english', ${query})) desc, id
         limit ${limit} offset ${offset}`.execute(database.db);
      return rows.map((row) => row.id);
    },
    async close() {
      await database.close();
      await harness.close();
    },
  };
}
