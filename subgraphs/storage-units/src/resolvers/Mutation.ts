import { requireUuid } from '@supergraph/kit';
import { forbidden, isAdmin, unauthenticated } from '@supergraph/platform';
import type { MutationResolvers } from '../generated/resolvers.ts';
import { runMaintenance } from '../maintenance.ts';
import { deleteRecordById, insertRecord } from '../records.repository.ts';
import { findUnit } from '../units.ts';
import { requireRecordInput, requireUnit } from '../validation.ts';
import { toMaintenanceResult, toUnitRecord } from './mappers.ts';

export const Mutation: MutationResolvers = {
  async storeRecord(_, args, { db, identity }) {
    // @authenticated guarantees a user; the check keeps the type honest.
    if (!identity.userId) throw unauthenticated();
    const unit = requireUnit(args.unitId);
    const input = requireRecordInput(args.input);
    const row = await insertRecord(db, unit, { ...input, author_id: identity.userId, external_id: null });
    return toUnitRecord({ ...row, unit_id: unit.id });
  },

  async deleteRecord(_, args, { db, identity, loaders }) {
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

  async runUnitMaintenance(_, args, { db, target }) {
    const unit = requireUnit(args.unitId);
    return toMaintenanceResult(await runMaintenance(target, db, unit, args.action), unit);
  },
};
