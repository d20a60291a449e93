import { decodeOffsetCursor, offsetCursor } from '@supergraph/kit';
import type { StorageContext } from '../context.ts';
import type {
  FacilityHealth,
  FacilityStatus,
  PageInfo,
  QueryResolvers,
  QuerySearchAllUnitsArgs,
  QuerySearchUnitArgs,
  QueryStorageUnitArgs,
  QueryUnitAnalyticsArgs,
} from '../generated/resolvers.ts';
import { toSearchHit, type SearchHitModel, type StorageUnitModel, type UnitAnalyticsModel } from '../models.ts';
import {
  countRecords,
  isUnitOnline,
  searchAllUnitRecords,
  searchUnitRecords,
  unitSizeBytes,
} from '../storage.repository.ts';
import { UNITS } from '../units.ts';
import { requireFirst, requireSearchQuery, requireUnit } from '../validation.ts';

/** `UnitSearchConnection` with its hits as models. */
export interface SearchConnectionModel {
  edges: Array<{ cursor: string; node: SearchHitModel }>;
  pageInfo: PageInfo;
  totalCount: number;
}

export const Query: QueryResolvers = {
  async facilityStatus(_: unknown, __: unknown, { db }: StorageContext): Promise<FacilityStatus> {
    const units = await Promise.all(
      UNITS.map(async (unit) => {
        if (!(await isUnitOnline(db, unit))) return { online: false, records: 0, bytes: 0 };
        const [records, bytes] = await Promise.all([countRecords(db, unit), unitSizeBytes(db, unit)]);
        return { online: true, records, bytes };
      }),
    );
    const unitsOnline = units.filter((unit) => unit.online).length;
    const health: FacilityHealth =
      unitsOnline === UNITS.length ? 'OPERATIONAL' : unitsOnline === 0 ? 'OFFLINE' : 'DEGRADED';
    return {
      health,
      unitsOnline,
      unitsTotal: UNITS.length,
      totalRecords: units.reduce((sum, unit) => sum + unit.records, 0),
      totalSizeBytes: units.reduce((sum, unit) => sum + unit.bytes, 0),
      checkedAt: new Date(),
    };
  },

  async storageUnits(_: unknown, __: unknown, { loaders }: StorageContext): Promise<StorageUnitModel[]> {
    const units = await loaders.unit.loadMany(UNITS.map((unit) => unit.id));
    return units.filter((unit): unit is StorageUnitModel => unit !== null && !(unit instanceof Error));
  },

  storageUnit(_: unknown, { id }: QueryStorageUnitArgs, { loaders }: StorageContext): Promise<StorageUnitModel | null> {
    return loaders.unit.load(id);
  },

  async searchUnit(_: unknown, args: QuerySearchUnitArgs, { db }: StorageContext): Promise<SearchConnectionModel> {
    const unit = requireUnit(args.unitId);
    const query = requireSearchQuery(args.query);
    const first = requireFirst(args.first);
    const offset = decodeOffsetCursor(args.after);
    const { hits, totalCount } = await searchUnitRecords(db, unit, query, first, offset);
    const edges = hits.map((row, index) => ({ cursor: offsetCursor(offset + index), node: toSearchHit(row) }));
    const pageInfo: PageInfo = {
      hasNextPage: offset + hits.length < totalCount,
      hasPreviousPage: offset > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    };
    return { edges, pageInfo, totalCount };
  },

  async searchAllUnits(_: unknown, args: QuerySearchAllUnitsArgs, { db }: StorageContext): Promise<SearchHitModel[]> {
    const query = requireSearchQuery(args.query);
    const first = requireFirst(args.first);
    const rows = await searchAllUnitRecords(db, query, first);
    return rows.map(toSearchHit);
  },

  unitAnalytics(_: unknown, { unitId }: QueryUnitAnalyticsArgs): UnitAnalyticsModel {
    return { unit: requireUnit(unitId) };
  },
};
