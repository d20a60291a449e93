import { toSnippetHtml } from '@supergraph/kit';
import type { AuthorCountRow } from '../analytics.repository.ts';
import type { MaintenanceOutcome } from '../maintenance.ts';
import type { SearchHitRow } from '../search.repository.ts';
import type { UnitRecordRow, UnitRow } from '../storage.table.ts';
import type { StorageUnitDefinition } from '../units.ts';

/*
 * The one home of row → GraphQL mapping. Each model is what resolvers pass
 * around for a GraphQL type whose fields are not all at hand when the parent
 * resolves (codegen `mappers` in `codegen.json`): related entities are carried
 * as ids and resolved through the loaders, costly statistics only when
 * selected. One mapper per type.
 */

/** `StorageUnit`: the definition from `units.ts` plus its registry row; `stats` resolves on demand. */
export interface StorageUnitModel {
  id: string;
  name: string;
  description: string;
  domains: string[];
  createdAt: Date;
  definition: StorageUnitDefinition;
}

/** `UnitStats`: each statistic queries only when selected (`topTerms` scans). */
export interface UnitStatsModel {
  unit: StorageUnitDefinition;
}

/** `UnitRecord`: `unit` and `author` resolve from the ids. */
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

/** `UnitSearchHit`: `unit` resolves through the unit loader. */
export interface SearchHitModel {
  record: UnitRecordModel;
  unitId: string;
  rank: number;
  snippet: string;
}

/** `MaintenanceResult`: `unit` resolves through the unit loader. */
export interface MaintenanceResultModel extends MaintenanceOutcome {
  unitId: string;
}

/** `UnitAnalytics`: each field queries only when selected. */
export interface UnitAnalyticsModel {
  unit: StorageUnitDefinition;
}

/** `AuthorCount`: the author resolves from the id (null for seeded records). */
export type AuthorCountModel = AuthorCountRow;

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

export function toSearchHit(row: SearchHitRow): SearchHitModel {
  return {
    record: toUnitRecord(row),
    unitId: row.unit_id,
    rank: Number(row.rank),
    snippet: toSnippetHtml(row.snippet),
  };
}

export function userReference(id: string | null): UserReference | null {
  return id === null ? null : { __typename: 'User', id };
}

export function toMaintenanceResult(outcome: MaintenanceOutcome, unit: StorageUnitDefinition): MaintenanceResultModel {
  return { ...outcome, unitId: unit.id };
}
