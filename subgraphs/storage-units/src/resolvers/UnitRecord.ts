import type { StorageContext } from '../context.ts';
import { userReference, type StorageUnitModel, type UnitRecordModel } from '../models.ts';
import { recordsPerAuthor, recordsPerDay, recordsPerTag, type AuthorCountRow } from '../storage.repository.ts';
import type { SearchHitModel, UnitAnalyticsModel } from './Query.ts';

const ANALYTICS_ROWS = 50;
const ANALYTICS_DAYS = 90;

/** Loads the unit of anything that carries a `unitId` (record, hit, maintenance result). */
function unitOf(parent: { unitId: string }, _: unknown, { loaders }: StorageContext): Promise<StorageUnitModel | null> {
  return loaders.unit.load(parent.unitId);
}

export const UnitRecord = {
  __resolveReference(reference: { id: string }, { loaders }: StorageContext): Promise<UnitRecordModel | null> {
    return loaders.record.load(reference.id);
  },
  unit: unitOf,
  author: (record: UnitRecordModel) => userReference(record.authorId),
};

export const UnitSearchHit = {
  unit: (hit: SearchHitModel, args: unknown, context: StorageContext) => unitOf(hit, args, context),
};

export const MaintenanceResult = {
  unit: unitOf,
};

export const UnitAnalytics = {
  unit: ({ unit }: UnitAnalyticsModel, _: unknown, { loaders }: StorageContext) => loaders.unit.load(unit.id),
  recordsPerTag: ({ unit }: UnitAnalyticsModel, _: unknown, { db }: StorageContext) =>
    recordsPerTag(db, unit, ANALYTICS_ROWS),
  recordsPerAuthor: ({ unit }: UnitAnalyticsModel, _: unknown, { db }: StorageContext) =>
    recordsPerAuthor(db, unit, ANALYTICS_ROWS),
  recordsPerDay: ({ unit }: UnitAnalyticsModel, _: unknown, { db }: StorageContext) =>
    recordsPerDay(db, unit, ANALYTICS_DAYS),
};

export const AuthorCount = {
  author: (row: AuthorCountRow) => userReference(row.author_id),
};
