import type { UnitRecordRow, UnitRow } from './storage.table.ts';
import type { StorageUnitDefinition } from './units.ts';

/** `StorageUnit` as resolvers pass it around: the definition from `units.ts` plus its registry row. */
export interface StorageUnitModel {
  id: string;
  name: string;
  description: string;
  domains: string[];
  createdAt: Date;
  definition: StorageUnitDefinition;
}

/** `UnitRecord` as resolvers pass it around. */
export interface UnitRecordModel {
  id: string;
  unitId: string;
  title: string;
  content: string;
  tags: string[];
  source: string;
  authorId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A federation reference to `User` (resolved by the auth subgraph). */
export interface UserReference {
  __typename: 'User';
  id: string;
}

export function toStorageUnit(definition: StorageUnitDefinition, row: UnitRow | undefined): StorageUnitModel {
  return {
    id: definition.id,
    name: definition.name,
    description: definition.description,
    domains: row?.domains ?? [...definition.topicDomains],
    // The registry is synced at start-up; a row can only be missing while a new unit is being migrated.
    createdAt: row?.created_at ?? new Date(0),
    definition,
  };
}

export function toUnitRecord(row: UnitRecordRow): UnitRecordModel {
  return {
    id: row.id,
    unitId: row.unit_id,
    title: row.title,
    content: row.content,
    tags: row.tags,
    source: row.source,
    authorId: row.author_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function userReference(id: string | null): UserReference | null {
  return id === null ? null : { __typename: 'User', id };
}
