import { requireUuid } from '@supergraph/kit';
import {
  badUserInput,
  conflict,
  forbidden,
  isAdmin,
  notFound,
  unauthenticated,
  type Identity,
} from '@supergraph/platform';
import type { KnowledgeContext } from '../context.ts';
import {
  deleteEntryAsActor,
  findEntryAuthor,
  insertEntries,
  recordIngestRun,
  updateEntryAsActor,
} from '../knowledge.repository.ts';
import type { MutationResolvers } from '../generated/resolvers.ts';
import { LIMITS, validateKnowledgeInput, validateKnowledgeUpdate } from '../validation.ts';
import { toKnowledgeEntry } from './mappers.ts';

function actorOf(identity: Identity): { actorId: string; isAdmin: boolean } {
  if (!identity.userId) throw unauthenticated();
  return { actorId: identity.userId, isAdmin: isAdmin(identity) };
}

/** 23505 on `external_id`: someone already imported that id. */
function asConflict(error: unknown): never {
  if ((error as { code?: string }).code === '23505') throw conflict('An entry with this externalId already exists');
  throw error;
}

/** NOT_FOUND when the entry does not exist, FORBIDDEN when it belongs to someone else. */
async function refusal(ctx: KnowledgeContext, id: string): Promise<never> {
  const existing = await findEntryAuthor(ctx.db, id);
  if (!existing) throw notFound('No knowledge entry with this id', { id });
  throw forbidden('Only the author or an admin may change this entry');
}

export const Mutation: MutationResolvers = {
  async ingestKnowledge(_, args, ctx) {
    const { actorId } = actorOf(ctx.identity);
    const entry = validateKnowledgeInput(args.input, 'input', actorId);
    const [row] = await ctx.db
      .transaction()
      .execute((trx) => insertEntries(trx, [entry], { minMatches: ctx.search.candidateCap }))
      .catch(asConflict);
    if (!row) throw new Error('insert returned no row');
    return toKnowledgeEntry(row);
  },

  /** All or nothing: one transaction, one multi-row INSERT, one ingest-run record, the new frequent lexemes' lists. */
  async ingestKnowledgeBatch(_, args, ctx) {
    const { actorId } = actorOf(ctx.identity);
    if (args.inputs.length === 0) throw badUserInput('inputs must hold at least one entry', 'inputs');
    if (args.inputs.length > LIMITS.batchMax)
      throw badUserInput(`inputs must hold at most ${LIMITS.batchMax} entries`, 'inputs');
    const entries = args.inputs.map((input, index) => validateKnowledgeInput(input, `inputs.${index}`, actorId));
    const externalIds = entries.flatMap((entry) => (entry.external_id ? [entry.external_id] : []));
    if (new Set(externalIds).size !== externalIds.length) throw badUserInput('inputs repeat an externalId', 'inputs');
    const startedAt = new Date();
    const rows = await ctx.db
      .transaction()
      .execute(async (trx) => {
        const inserted = await insertEntries(trx, entries, { minMatches: ctx.search.candidateCap });
        await recordIngestRun(trx, { source: 'api-batch', startedAt, seen: entries.length, added: inserted.length });
        return inserted;
      })
      .catch(asConflict);
    return rows.map(toKnowledgeEntry);
  },

  async updateKnowledgeEntry(_, args, ctx) {
    const actor = actorOf(ctx.identity);
    const id = requireUuid(args.id, 'id');
    const patch = validateKnowledgeUpdate(args.input);
    const row = await updateEntryAsActor(ctx.db, id, patch, actor);
    if (!row) return refusal(ctx, id);
    ctx.loaders.entryById.clear(id).prime(id, row);
    return toKnowledgeEntry(row);
  },

  async deleteKnowledgeEntry(_, args, ctx) {
    const actor = actorOf(ctx.identity);
    const id = requireUuid(args.id, 'id');
    if (!(await deleteEntryAsActor(ctx.db, id, actor))) return refusal(ctx, id);
    ctx.loaders.entryById.clear(id);
    return id;
  },
};
