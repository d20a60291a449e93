import { requireUuid } from '@supergraph/kit';
import { notFound } from '@supergraph/platform';
import { insertConversation, deleteOwnedConversation } from '../conversations.repository.ts';
import { startExchange } from '../conversations.service.ts';
import { deleteOwnedDroid, insertDroid, updateOwnedDroid } from '../droids.repository.ts';
import type { MutationResolvers } from '../generated/resolvers.ts';
import { ownedBy } from '../loaders.ts';
import { publishCreated } from '../streaming/events.ts';
import { validateContent, validateCreateDroid, validateTitle, validateUpdateDroid } from '../validation.ts';
import { toConversation, toDroid, toMessage } from './mappers.ts';
import { requireOwner } from './owner.ts';

export const Mutation: MutationResolvers = {
  async createDroid(_, args, ctx) {
    const ownerId = requireOwner(ctx.identity);
    const row = await insertDroid(ctx.db, { owner_id: ownerId, ...validateCreateDroid(args.input) });
    ctx.loaders.droidById.prime(row.id, row);
    return toDroid(row);
  },

  async updateDroid(_, args, ctx) {
    const ownerId = requireOwner(ctx.identity);
    const id = requireUuid(args.id, 'id');
    const row = await updateOwnedDroid(ctx.db, id, ownerId, validateUpdateDroid(args.input));
    if (!row) throw notFound('No droid with this id', { id });
    ctx.loaders.droidById.clear(id).prime(id, row);
    return toDroid(row);
  },

  async deleteDroid(_, args, ctx) {
    const ownerId = requireOwner(ctx.identity);
    const id = requireUuid(args.id, 'id');
    if (!(await deleteOwnedDroid(ctx.db, id, ownerId))) throw notFound('No droid with this id', { id });
    ctx.loaders.droidById.clear(id);
    return id;
  },

  async startConversation(_, args, ctx) {
    const ownerId = requireOwner(ctx.identity);
    const droidId = requireUuid(args.droidId, 'droidId');
    const title = validateTitle(args.title);
    const droid = ownedBy(await ctx.loaders.droidById.load(droidId), ownerId);
    if (!droid) throw notFound('No droid with this id', { id: droidId });
    // A droid deleted in between fails the foreign key: the same NOT_FOUND.
    const row = await insertConversation(ctx.db, { ownerId, droidId, title }).catch((error: unknown) => {
      if ((error as { code?: unknown } | null)?.code === '23503')
        throw notFound('No droid with this id', { id: droidId });
      throw error;
    });
    ctx.loaders.conversationById.prime(row.id, row);
    return toConversation(row);
  },

  async deleteConversation(_, args, ctx) {
    const ownerId = requireOwner(ctx.identity);
    const id = requireUuid(args.id, 'id');
    if (!(await deleteOwnedConversation(ctx.db, id, ownerId))) throw notFound('No conversation with this id', { id });
    ctx.loaders.conversationById.clear(id);
    return id;
  },

  /** Both messages in one transaction, then CREATED events, then the reply generates in the background. */
  async sendMessage(_, args, ctx) {
    const ownerId = requireOwner(ctx.identity);
    const conversationId = requireUuid(args.conversationId, 'conversationId');
    const content = validateContent(args.content);
    const exchange = await ctx.db
      .transaction()
      .execute((trx) =>
        startExchange(trx, { conversationId, ownerId, content, leaseSeconds: ctx.engine.leaseSeconds }),
      );
    ctx.loaders.conversationById.clear(conversationId).prime(conversationId, exchange.conversation);
    for (const row of [exchange.message, exchange.reply]) {
      ctx.loaders.messageById.prime(row.id, row);
      await publishCreated(ctx.redis, ctx.streams, {
        kind: 'CREATED',
        sequence: 0,
        delta: null,
        messageId: row.id,
        conversationId,
      }).catch(() => {});
    }
    ctx.engine.start({ ...exchange, internalToken: ctx.internalToken });
    return { message: toMessage(exchange.message), reply: toMessage(exchange.reply) };
  },
};
