import type { Kysely } from 'kysely';
import type { SubgraphContext } from '@supergraph/kit';
import type { Loaders } from './loaders.ts';
import type { KnowledgeDb } from './knowledge.table.ts';

/** Tuning of `searchKnowledge` / `askKnowledge` (see README, "Search at scale"). */
export interface SearchSettings {
  /** Index matches per pass handed to ranking; ranking is exact below it. */
  candidateCap: number;
  /** Below this many full-text matches the trigram fallback runs. */
  fuzzyBelow: number;
  /** `totalCount` stops counting here. */
  countCap: number;
}

export interface KnowledgeContext extends SubgraphContext {
  db: Kysely<KnowledgeDb>;
  loaders: Loaders;
  search: SearchSettings;
}
