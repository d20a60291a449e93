import type { StorageContext } from '../context.ts';
import type { StorageUnitResolvers, UnitStatsResolvers } from '../generated/resolvers.ts';
import { countRecords, growthPerDay, lastWriteAt, topTerms, unitSizeBytes } from '../stats.repository.ts';
import type { StorageUnitModel } from './mappers.ts';

const TOP_TERMS = 10;
const GROWTH_DAYS = 30;

/**
 * The unit of anything that carries a unit id (record, hit, maintenance
 * result, analytics). Those ids come from `units.ts`, so a miss is a bug, not
 * a user mistake.
 */
export async function loadUnit({ loaders }: StorageContext, unitId: string): Promise<StorageUnitModel> {
  const unit = await loaders.unit.load(unitId);
  if (!unit) throw new Error(`storage unit ${unitId} is not in units.ts`);
  return unit;
}

export const StorageUnit: StorageUnitResolvers = {
  __resolveReference: (reference, { loaders }) => loaders.unit.load(reference.id),
  stats: (unit) => ({ unit: unit.definition }),
};

export const UnitStats: UnitStatsResolvers = {
  records: ({ unit }, _, { db }) => countRecords(db, unit),
  sizeBytes: ({ unit }, _, { db }) => unitSizeBytes(db, unit),
  lastWriteAt: ({ unit }, _, { db }) => lastWriteAt(db, unit),
  topTerms: ({ unit }, _, { db }) => topTerms(db, unit, TOP_TERMS),
  growthPerDay: ({ unit }, _, { db }) => growthPerDay(db, unit, GROWTH_DAYS),
};
