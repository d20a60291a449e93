import type { StorageContext } from '../context.ts';
import type { DayCount, StorageUnitResolvers, TermFrequency, UnitStatsResolvers } from '../generated/resolvers.ts';
import type { StorageUnitModel, UnitStatsModel } from '../models.ts';
import { countRecords, growthPerDay, lastWriteAt, topTerms, unitSizeBytes } from '../storage.repository.ts';

const TOP_TERMS = 10;
const GROWTH_DAYS = 30;

export const StorageUnit: StorageUnitResolvers = {
  __resolveReference(reference: { id: string }, { loaders }: StorageContext): Promise<StorageUnitModel | null> {
    return loaders.unit.load(reference.id);
  },
  stats(unit: StorageUnitModel): UnitStatsModel {
    return { unit: unit.definition };
  },
};

export const UnitStats: UnitStatsResolvers = {
  records: ({ unit }: UnitStatsModel, _: unknown, { db }: StorageContext): Promise<number> => countRecords(db, unit),
  sizeBytes: ({ unit }: UnitStatsModel, _: unknown, { db }: StorageContext): Promise<number> => unitSizeBytes(db, unit),
  lastWriteAt: ({ unit }: UnitStatsModel, _: unknown, { db }: StorageContext): Promise<Date | null> =>
    lastWriteAt(db, unit),
  topTerms: ({ unit }: UnitStatsModel, _: unknown, { db }: StorageContext): Promise<TermFrequency[]> =>
    topTerms(db, unit, TOP_TERMS),
  growthPerDay: ({ unit }: UnitStatsModel, _: unknown, { db }: StorageContext): Promise<DayCount[]> =>
    growthPerDay(db, unit, GROWTH_DAYS),
};
