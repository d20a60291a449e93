import type { StorageContext } from '../context.ts';
import type { StorageUnitModel } from '../models.ts';
import { countRecords, growthPerDay, lastWriteAt, topTerms, unitSizeBytes } from '../storage.repository.ts';
import type { StorageUnitDefinition } from '../units.ts';

/** `UnitStats` parent: each statistic queries only when selected (`topTerms` scans). */
export interface UnitStatsModel {
  unit: StorageUnitDefinition;
}

const TOP_TERMS = 10;
const GROWTH_DAYS = 30;

export const StorageUnit = {
  __resolveReference(reference: { id: string }, { loaders }: StorageContext): Promise<StorageUnitModel | null> {
    return loaders.unit.load(reference.id);
  },
  stats(unit: StorageUnitModel): UnitStatsModel {
    return { unit: unit.definition };
  },
};

export const UnitStats = {
  records: ({ unit }: UnitStatsModel, _: unknown, { db }: StorageContext) => countRecords(db, unit),
  sizeBytes: ({ unit }: UnitStatsModel, _: unknown, { db }: StorageContext) => unitSizeBytes(db, unit),
  lastWriteAt: ({ unit }: UnitStatsModel, _: unknown, { db }: StorageContext) => lastWriteAt(db, unit),
  topTerms: ({ unit }: UnitStatsModel, _: unknown, { db }: StorageContext) => topTerms(db, unit, TOP_TERMS),
  growthPerDay: ({ unit }: UnitStatsModel, _: unknown, { db }: StorageContext) => growthPerDay(db, unit, GROWTH_DAYS),
};
