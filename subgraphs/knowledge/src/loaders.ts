import DataLoader from 'dataloader';
import type { Kysely } from 'kysely';
import { isUuid } from '@supergraph/kit';
import {
  authorPageCacheKey,
  findEntriesByIds,
  listEntriesByAuthors,
  type AuthoredEntryRow,
  type AuthorPageKey,
} from './entries.repository.ts';
import type { EntryRow, KnowledgeDb } from './knowledge.table.ts';

export interface Loaders {
  /** Entries by id (null when absent or not a UUID): every `__resolveReference` and `knowledgeEntry` go through it. */
  entryById: DataLoader<string, EntryRow | null>;
  /** One page of an author's entries per key; all keys of one tick become one query. */
  entriesByAuthor: DataLoader<AuthorPageKey, AuthoredEntryRow[], string>;
}

/** Per-request loaders: created in the request context, never shared between requests. */
export function createLoaders(db: Kysely<KnowledgeDb>): Loaders {
  return {
    entryById: new DataLoader(async (ids) => {
      const valid = [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))];
      const rows = await findEntriesByIds(db, valid);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
    entriesByAuthor: new DataLoader(
      async (keys) => {
        const pages = await listEntriesByAuthors(db, keys);
        return keys.map((key) => pages.get(authorPageCacheKey(key)) ?? []);
      },
      { cacheKeyFn: authorPageCacheKey },
    ),
  };
}
