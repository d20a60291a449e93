import type { PageInfo } from '@supergraph/kit';
import type { RankedHit } from '../knowledge.repository.ts';
import type { EntryRow } from '../knowledge.table.ts';

/** The GraphQL shape of an entry; the one row→type mapper. */
export interface KnowledgeEntryModel {
  id: string;
  title: string;
  body: string;
  topic: string | null;
  tags: string[];
  source: string | null;
  language: string;
  externalId: string | null;
  authorId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export function toKnowledgeEntry(row: EntryRow): KnowledgeEntryModel {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    topic: row.topic,
    tags: row.tags,
    source: row.source,
    language: row.language,
    externalId: row.external_id,
    authorId: row.author_id,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** `searchKnowledge`'s connection; `totalCount` is counted lazily, once, only when selected. */
export interface SearchConnectionModel {
  edges: Array<{ cursor: string; node: KnowledgeEntryModel; rank: number; snippet: string; match: RankedHit['match'] }>;
  pageInfo: PageInfo;
  count: () => Promise<number>;
  countCap: number;
}

/** A user as knowledge knows it: the id, nothing else (auth owns the rest). */
export interface UserReference {
  id: string;
}
