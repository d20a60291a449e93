import { requireUuid } from '@supergraph/kit';
import { isAdmin, unauthenticated, type Identity } from '@supergraph/platform';
import type { Actor } from '../entries.repository.ts';
import { deleteEntry, ingestEntries, updateEntry } from '../entries.service.ts';
import type { MutationResolvers } from '../generated/resolvers.ts';
import { validateKnowledgeBatch, validateKnowledgeInput, validateKnowledgeUpdate } from '../validation.ts';
import { toKnowledgeEntry } from './mappers.ts';

function actorOf(identity: Identity): Actor {
  if (!identity.userId) throw unauthenticated();
  return { actorId: identity.userId, isAdmin: isAdmin(identity) };
}

export const Mutation: MutationResolvers = {
  async ingestKnowledge(_, args, ctx) {
    const { actorId } = actorOf(ctx.identity);
    const entry = validateKnowledgeInput(args.input, 'input', actorId);
    const [row] = await ctx.db
      .transaction()
      .execute((trx) => ingestEntries(trx, [entry], { minMatches: ctx.search.candidateCap }));
    if (!row) throw new Error('insert returned no row');
    return toKnowledgeEntry(row);
  },

  /** All or nothing: one transaction, one multi-row INSERT, one ingest-run record, the new frequent lexemes' lists. */
  async ingestKnowledgeBatch(_, args, ctx) {
    const { actorId } = actorOf(ctx.identity);
    const entries = validateKnowledgeBatch(args.inputs, 'inputs', actorId);
    const run = { source: 'api-batch', startedAt: new Date() };
    const rows = await ctx.db
      .transaction()
      .execute((trx) => ingestEntries(trx, entries, { minMatches: ctx.search.candidateCap }, run));
    return rows.map(toKnowledgeEntry);
  },

  async updateKnowledgeEntry(_, args, ctx) {
    const actor = actorOf(ctx.identity);
    const id = requireUuid(args.id, 'id');
    const patch = validateKnowledgeUpdate(args.input);
    const row = await updateEntry(ctx.db, id, patch, actor);
    ctx.loaders.entryById.clear(id).prime(id, row);
    return toKnowledgeEntry(row);
  },

  async deleteKnowledgeEntry(_, args, ctx) {
    const actor = actorOf(ctx.identity);
    const id = requireUuid(args.id, 'id');
    await deleteEntry(ctx.db, id, actor);
    ctx.loaders.entryById.clear(id);
    return id;
  },
};
