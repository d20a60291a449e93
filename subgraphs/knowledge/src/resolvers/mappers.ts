import type { PageInfo } from '@supergraph/kit';
import type { EntryRow } from '../knowledge.table.ts';
import type { RankedHit } from '../search.repository.ts';

/*
 * One row → GraphQL mapper per type. `KnowledgeEntryModel`,
 * `SearchConnectionModel` and `UserReference` are codegen mappers
 * (codegen.json): the generated `Resolvers` expect these shapes.
 */

/** The GraphQL shape of an entry (`author` is resolved from `authorId`). */
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

/** A `KnowledgeSearchEdge`: an entry with how and how well it matched. */
export interface SearchEdgeModel {
  cursor: string;
  node: KnowledgeEntryModel;
  rank: number;
  snippet: string;
  match: RankedHit['match'];
}

export function toSearchEdge(hit: RankedHit, cursor: string): SearchEdgeModel {
  return { cursor, node: toKnowledgeEntry(hit.entry), rank: hit.rank, snippet: hit.snippet, match: hit.match };
}

/** `searchKnowledge`'s connection; `totalCount` is counted lazily, once, only when selected. */
export interface SearchConnectionModel {
  edges: SearchEdgeModel[];
  pageInfo: PageInfo;
  count: () => Promise<number>;
  countCap: number;
}

/** A `KnowledgeAnswer` of `askKnowledge`. */
export function toKnowledgeAnswer(hit: RankedHit): { entry: KnowledgeEntryModel; rank: number; snippet: string } {
  return { entry: toKnowledgeEntry(hit.entry), rank: hit.rank, snippet: hit.snippet };
}

/** A user as knowledge knows it: the id, nothing else (auth owns the rest). */
export interface UserReference {
  id: string;
}

/** The author of an entry, as a reference the gateway resolves in the auth subgraph. */
export function toUserReference(id: string): UserReference {
  return { id };
}
