import { encodeCursor } from '@supergraph/kit';
import type { ConversationResolvers } from '../generated/resolvers.ts';
import { ownedBy } from '../loaders.ts';
import { listMessages } from '../messages.repository.ts';
import { validateFirst } from '../validation.ts';
import { toConversation, toDroid, toMessage, toUserReference } from './mappers.ts';
import { decodePositionCursor } from './owner.ts';

export const Conversation: ConversationResolvers = {
  /** Null for someone else's conversation, as `conversation(id)` answers. */
  async __resolveReference(reference, ctx) {
    const row = ownedBy(await ctx.loaders.conversationById.load(reference.id), ctx.identity.userId);
    return row ? toConversation(row) : null;
  },
  async droid(conversation, _, ctx) {
    const row = await ctx.loaders.droidById.load(conversation.droidId);
    // The foreign key cascades: a conversation without its droid is gone too.
    if (!row) throw new Error(`droid ${conversation.droidId} of conversation ${conversation.id} is missing`);
    return toDroid(row);
  },
  owner: (conversation) => toUserReference(conversation.ownerId),
  /** Newest last; `before` (a cursor of this connection) pages back in time. */
  async messages(conversation, args, ctx) {
    const first = validateFirst(args.first);
    const before = decodePositionCursor(args.before, 'before');
    const rows = await listMessages(ctx.db, conversation.id, { limit: first + 1, before });
    const page = rows.slice(0, first).reverse();
    for (const row of page) ctx.loaders.messageById.prime(row.id, row);
    const edges = page.map((row) => ({ cursor: encodeCursor({ p: row.position }), node: toMessage(row) }));
    return {
      edges,
      pageInfo: {
        hasPreviousPage: rows.length > first,
        hasNextPage: before !== null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  },
};
