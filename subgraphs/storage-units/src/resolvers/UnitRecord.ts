import type { StorageContext } from '../context.ts';
import type {
  AuthorCountResolvers,
  DayCount,
  MaintenanceResultResolvers,
  TagCount,
  UnitAnalyticsResolvers,
  UnitRecordResolvers,
  UnitSearchHitResolvers,
} from '../generated/resolvers.ts';
import {
  userReference,
  type AuthorCountModel,
  type MaintenanceResultModel,
  type SearchHitModel,
  type StorageUnitModel,
  type UnitAnalyticsModel,
  type UnitRecordModel,
  type UserReference,
} from '../models.ts';
import { recordsPerAuthor, recordsPerDay, recordsPerTag } from '../storage.repository.ts';

const ANALYTICS_ROWS = 50;
const ANALYTICS_DAYS = 90;

/**
 * Loads the unit of anything that carries a `unitId` (record, hit, maintenance
 * result). Those ids come from `units.ts`, so a miss is a bug, not a user mistake.
 */
async function unitOf(parent: { unitId: string }, _: unknown, { loaders }: StorageContext): Promise<StorageUnitModel> {
  const unit = await loaders.unit.load(parent.unitId);
  if (!unit) throw new Error(`storage unit ${parent.unitId} is not in units.ts`);
  return unit;
}

export const UnitRecord: UnitRecordResolvers = {
  __resolveReference(reference: { id: string }, { loaders }: StorageContext): Promise<UnitRecordModel | null> {
    return loaders.record.load(reference.id);
  },
  unit: (record: UnitRecordModel, args: unknown, context: StorageContext) => unitOf(record, args, context),
  author: (record: UnitRecordModel): UserReference | null => userReference(record.authorId),
};

export const UnitSearchHit: UnitSearchHitResolvers = {
  unit: (hit: SearchHitModel, args: unknown, context: StorageContext) => unitOf(hit, args, context),
};

export const MaintenanceResult: MaintenanceResultResolvers = {
  unit: (result: MaintenanceResultModel, args: unknown, context: StorageContext) => unitOf(result, args, context),
};

export const UnitAnalytics: UnitAnalyticsResolvers = {
  unit: ({ unit }: UnitAnalyticsModel, args: unknown, context: StorageContext) =>
    unitOf({ unitId: unit.id }, args, context),
  recordsPerTag: ({ unit }: UnitAnalyticsModel, _: unknown, { db }: StorageContext): Promise<TagCount[]> =>
    recordsPerTag(db, unit, ANALYTICS_ROWS),
  recordsPerAuthor: ({ unit }: UnitAnalyticsModel, _: unknown, { db }: StorageContext): Promise<AuthorCountModel[]> =>
    recordsPerAuthor(db, unit, ANALYTICS_ROWS),
  recordsPerDay: ({ unit }: UnitAnalyticsModel, _: unknown, { db }: StorageContext): Promise<DayCount[]> =>
    recordsPerDay(db, unit, ANALYTICS_DAYS),
};

export const AuthorCount: AuthorCountResolvers = {
  author: (row: AuthorCountModel): UserReference | null => userReference(row.author_id),
};
