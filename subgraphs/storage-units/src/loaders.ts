import { isUuid } from '@supergraph/kit';
import DataLoader from 'dataloader';
import type { Kysely } from 'kysely';
import { toStorageUnit, toUnitRecord, type StorageUnitModel, type UnitRecordModel } from './resolvers/mappers.ts';
import {
  countRecordsByAuthors,
  findRecordsByAuthors,
  findRecordsByIds,
  type AuthoredRecordRow,
  type RecordKeyset,
} from './records.repository.ts';
import { listRegistryUnits } from './registry.repository.ts';
import type { StorageDb } from './storage.table.ts';
import { findUnit } from './units.ts';

export interface Loaders {
  /** Records by id from any unit: one UNION ALL query per batch. */
  record: DataLoader<string, UnitRecordModel | null>;
  /** Units by id (null for unknown ids): one registry query per request. */
  unit: DataLoader<string, StorageUnitModel | null>;
  /** A page of an author's records (`User.storedRecords` over N users): one query per distinct page shape. */
  recordsByAuthor: DataLoader<AuthorPageKey, AuthoredRecordRow[], string>;
  /** Record counts per author: one query per batch. */
  recordCountByAuthor: DataLoader<string, number>;
}

export interface AuthorPageKey {
  authorId: string;
  /** Rows to fetch (page size + 1, to learn whether there is a next page). */
  limit: number;
  after: RecordKeyset | null;
}

/** Per-request loaders; every `__resolveReference` goes through one. */
export function createLoaders(db: Kysely<StorageDb>): Loaders {
  return {
    record: new DataLoader(async (ids) => {
      // A malformed id (from a reference or an argument) cannot match and must not reach the `::uuid[]` cast.
      const rows = await findRecordsByIds(
        db,
        ids.filter(isUuid).map((id) => id.toLowerCase()),
      );
      const byId = new Map(rows.map((row) => [row.id, toUnitRecord(row)]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
    unit: new DataLoader(async (ids) => {
      const rows = await listRegistryUnits(db);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => {
        const definition = findUnit(id);
        return definition ? toStorageUnit(definition, byId.get(id)) : null;
      });
    }),
    recordsByAuthor: new DataLoader(
      async (keys) => {
        // Keys sharing `limit`/`after` (one selection set over many users) share one query.
        const groups = new Map<string, AuthorPageKey[]>();
        for (const key of keys) {
          const shape = `${key.limit}|${key.after?.createdAt ?? ''}|${key.after?.id ?? ''}`;
          groups.set(shape, [...(groups.get(shape) ?? []), key]);
        }
        const pages = new Map<string, AuthoredRecordRow[]>();
        for (const group of groups.values()) {
          const [first] = group;
          if (!first) continue;
          const rows = await findRecordsByAuthors(
            db,
            [...new Set(group.map((key) => key.authorId))],
            first.limit,
            first.after,
          );
          for (const key of group) pages.set(pageKey(key), rows.get(key.authorId) ?? []);
        }
        return keys.map((key) => pages.get(pageKey(key)) ?? []);
      },
      { cacheKeyFn: pageKey },
    ),
    recordCountByAuthor: new DataLoader(async (authorIds) => {
      const counts = await countRecordsByAuthors(db, authorIds);
      return authorIds.map((id) => counts.get(id) ?? 0);
    }),
  };
}

function pageKey(key: AuthorPageKey): string {
  return `${key.authorId}|${key.limit}|${key.after?.createdAt ?? ''}|${key.after?.id ?? ''}`;
}
