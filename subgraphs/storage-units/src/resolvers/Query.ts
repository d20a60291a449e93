import { decodeOffsetCursor, offsetCursor, type PageInfo } from '@supergraph/kit';
import type { StorageContext } from '../context.ts';
import { toUnitRecord, type StorageUnitModel, type UnitRecordModel } from '../models.ts';
import {
  countRecords,
  isUnitOnline,
  searchAllUnitRecords,
  searchUnitRecords,
  unitSizeBytes,
  toSnippetHtml,
  type SearchHitRow,
} from '../storage.repository.ts';
import { UNITS, type StorageUnitDefinition } from '../units.ts';
import { requireFirst, requireSearchQuery, requireUnit } from '../validation.ts';

/** `UnitSearchHit` as resolvers pass it on; `unit` resolves through the unit loader. */
export interface SearchHitModel {
  record: UnitRecordModel;
  unitId: string;
  rank: number;
  snippet: string;
}

function toSearchHit(row: SearchHitRow): SearchHitModel {
  return {
    record: toUnitRecord(row),
    unitId: row.unit_id,
    rank: Number(row.rank),
    snippet: toSnippetHtml(row.snippet),
  };
}

/** `UnitAnalytics` parent: each field queries only when asked for. */
export interface UnitAnalyticsModel {
  unit: StorageUnitDefinition;
}

type FacilityHealth = 'OPERATIONAL' | 'DEGRADED' | 'OFFLINE';

export const Query = {
  async facilityStatus(_: unknown, __: unknown, { db }: StorageContext) {
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

  storageUnit(_: unknown, { id }: { id: string }, { loaders }: StorageContext): Promise<StorageUnitModel | null> {
    return loaders.unit.load(id);
  },

  async searchUnit(
    _: unknown,
    args: { unitId: string; query: string; first?: number | null; after?: string | null },
    { db }: StorageContext,
  ) {
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

  async searchAllUnits(
    _: unknown,
    args: { query: string; first?: number | null },
    { db }: StorageContext,
  ): Promise<SearchHitModel[]> {
    const query = requireSearchQuery(args.query);
    const first = requireFirst(args.first);
    const rows = await searchAllUnitRecords(db, query, first);
    return rows.map(toSearchHit);
  },

  unitAnalytics(_: unknown, { unitId }: { unitId: string }): UnitAnalyticsModel {
    return { unit: requireUnit(unitId) };
  },
};
