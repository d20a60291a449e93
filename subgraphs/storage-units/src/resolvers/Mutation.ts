import { requireUuid } from '@supergraph/kit';
import { forbidden, isAdmin, unauthenticated } from '@supergraph/platform';
import type { StorageContext } from '../context.ts';
import type {
  MutationDeleteRecordArgs,
  MutationResolvers,
  MutationRunUnitMaintenanceArgs,
  MutationStoreRecordArgs,
} from '../generated/resolvers.ts';
import { runMaintenance } from '../maintenance.ts';
import { toUnitRecord, type MaintenanceResultModel, type UnitRecordModel } from '../models.ts';
import { deleteRecordById, insertRecord } from '../storage.repository.ts';
import { findUnit } from '../units.ts';
import { requireRecordInput, requireUnit } from '../validation.ts';

export const Mutation: MutationResolvers = {
  async storeRecord(
    _: unknown,
    args: MutationStoreRecordArgs,
    { db, identity }: StorageContext,
  ): Promise<UnitRecordModel> {
    // @authenticated guarantees a user; the check keeps the type honest.
    if (!identity.userId) throw unauthenticated();
    const unit = requireUnit(args.unitId);
    const input = requireRecordInput(args.input);
    const row = await insertRecord(db, unit, { ...input, author_id: identity.userId, external_id: null });
    return toUnitRecord({ ...row, unit_id: unit.id });
  },

  async deleteRecord(
    _: unknown,
    args: MutationDeleteRecordArgs,
    { db, identity, loaders }: StorageContext,
  ): Promise<boolean> {
    const id = requireUuid(args.id, 'id');
    const record = await loaders.record.load(id);
    if (!record) return false;
    if (record.authorId !== identity.userId && !isAdmin(identity)) {
      throw forbidden('Only the author of a record or an admin can delete it');
    }
    const unit = findUnit(record.unitId);
    if (!unit) return false;
    const deleted = await deleteRecordById(db, unit, id);
    loaders.record.clear(id);
    return deleted;
  },

  async runUnitMaintenance(
    _: unknown,
    args: MutationRunUnitMaintenanceArgs,
    { db, target }: StorageContext,
  ): Promise<MaintenanceResultModel> {
    const unit = requireUnit(args.unitId);
    const outcome = await runMaintenance(target, db, unit, args.action);
    return { ...outcome, unitId: unit.id };
  },
};
