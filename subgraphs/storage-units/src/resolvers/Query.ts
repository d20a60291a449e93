import { decodeOffsetCursor, offsetCursor, toConnection } from '@supergraph/kit';
import type { FacilityHealth, QueryResolvers } from '../generated/resolvers.ts';
import { searchAllUnitRecords, searchUnitRecords } from '../search.repository.ts';
import { countRecords, isUnitOnline, unitSizeBytes } from '../stats.repository.ts';
import { UNITS } from '../units.ts';
import { requireFirst, requireSearchQuery, requireUnit } from '../validation.ts';
import { toSearchHit, type StorageUnitModel } from './mappers.ts';

export const Query: QueryResolvers = {
  async facilityStatus(_, __, { db }) {
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

  async storageUnits(_, __, { loaders }) {
    const units = await loaders.unit.loadMany(UNITS.map((unit) => unit.id));
    return units.filter((unit): unit is StorageUnitModel => unit !== null && !(unit instanceof Error));
  },

  storageUnit: (_, { id }, { loaders }) => loaders.unit.load(id),

  async searchUnit(_, args, { db }) {
    const unit = requireUnit(args.unitId);
    const query = requireSearchQuery(args.query);
    const first = requireFirst(args.first);
    const offset = decodeOffsetCursor(args.after);
    // One row beyond the page says whether there is a next one.
    const { hits, totalCount } = await searchUnitRecords(db, unit, query, first + 1, offset);
    const page = toConnection(hits, first, {
      cursorOf: (_row, index) => offsetCursor(offset + index),
      toNode: toSearchHit,
      hasPrevious: offset > 0,
    });
    return { ...page, totalCount };
  },

  async searchAllUnits(_, args, { db }) {
    const query = requireSearchQuery(args.query);
    const first = requireFirst(args.first);
    const rows = await searchAllUnitRecords(db, query, first);
    return rows.map(toSearchHit);
  },

  unitAnalytics: (_, { unitId }) => ({ unit: requireUnit(unitId) }),
};
