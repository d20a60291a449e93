import type { DatabaseTarget } from '@supergraph/db';
import type { SubgraphContext } from '@supergraph/kit';
import type { Kysely } from 'kysely';
import type { Loaders } from './loaders.ts';
import type { StorageDb } from './storage.table.ts';

/** What every storage-units resolver receives. */
export interface StorageContext extends SubgraphContext {
  db: Kysely<StorageDb>;
  /** Maintenance opens its own connection to it (VACUUM cannot share a pooled one). */
  target: DatabaseTarget;
  loaders: Loaders;
}
