import type { MessageResolvers } from '../generated/resolvers.ts';
import { ownedBy } from '../loaders.ts';
import { toConversation, toDroid, toMessage, toUserReference } from './mappers.ts';

export const Message: MessageResolvers = {
  /** Null for someone else's message, as `message(id)` answers. */
  async __resolveReference(reference, ctx) {
    const row = ownedBy(await ctx.loaders.messageById.load(reference.id), ctx.identity.userId);
    return row ? toMessage(row) : null;
  },
  async conversation(message, _, ctx) {
    const row = await ctx.loaders.conversationById.load(message.conversationId);
    if (!row) throw new Error(`conversation ${message.conversationId} of message ${message.id} is missing`);
    return toConversation(row);
  },
  author: (message) => toUserReference(message.ownerId),
  async droid(message, _, ctx) {
    if (!message.droidId) return null;
    const row = await ctx.loaders.droidById.load(message.droidId);
    return row ? toDroid(row) : null;
  },
  citations: (message) => message.citationIds.map((id) => ({ id })),
};
