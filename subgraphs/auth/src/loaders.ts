import DataLoader from 'dataloader';
import { isUuid } from '@supergraph/kit';
import type { Kysely } from 'kysely';
import type { AuthDb, UserRow } from './auth.table.ts';
import { findUsersByIds } from './users.repository.ts';

export interface AuthLoaders {
  /** Users by id (null when unknown or not a UUID); one query per tick however many entities are asked for. */
  userById: DataLoader<string, UserRow | null>;
}

/** Per-request loaders: built in the request context, never shared between callers. */
export function createLoaders(db: Kysely<AuthDb>): AuthLoaders {
  return {
    userById: new DataLoader<string, UserRow | null>(async (ids) => {
      const rows = await findUsersByIds(db, [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => (isUuid(id) ? (byId.get(id.toLowerCase()) ?? null) : null));
    }),
  };
}
