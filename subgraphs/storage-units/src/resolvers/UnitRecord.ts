import type {
  MaintenanceResultResolvers,
  UnitRecordResolvers,
  UnitSearchHitResolvers,
} from '../generated/resolvers.ts';
import { userReference } from './mappers.ts';
import { loadUnit } from './StorageUnit.ts';

export const UnitRecord: UnitRecordResolvers = {
  __resolveReference: (reference, { loaders }) => loaders.record.load(reference.id),
  unit: (record, _, ctx) => loadUnit(ctx, record.unitId),
  author: (record) => userReference(record.authorId),
};

export const UnitSearchHit: UnitSearchHitResolvers = {
  unit: (hit, _, ctx) => loadUnit(ctx, hit.unitId),
};

export const MaintenanceResult: MaintenanceResultResolvers = {
  unit: (result, _, ctx) => loadUnit(ctx, result.unitId),
};
