import { encodeCursor, requireUuid, toConnection } from '@supergraph/kit';
import type { ConversationContext } from '../context.ts';
import { listConversations } from '../conversations.repository.ts';
import { listDroids } from '../droids.repository.ts';
import type { QueryResolvers } from '../generated/resolvers.ts';
import { ownedBy } from '../loaders.ts';
import { validateFirst } from '../validation.ts';
import { toConversation, toDroid, toMessage, type ConversationModel } from './mappers.ts';
import { decodePositionCursor, requireOwner } from './owner.ts';
import type { Connection } from '@supergraph/kit';

/** One page of `ownerId`'s conversations (shared by `Query.conversations` and `User.conversations`). */
export async function conversationPage(
  ctx: ConversationContext,
  ownerId: string,
  args: { first: number; after?: string | null | undefined },
): Promise<Connection<ConversationModel>> {
  const first = validateFirst(args.first);
  const before = decodePositionCursor(args.after, 'after');
  const rows = await listConversations(ctx.db, ownerId, { limit: first + 1, before });
  for (const row of rows) ctx.loaders.conversationById.prime(row.id, row);
  return toConnection(rows, first, {
    cursorOf: (row) => encodeCursor({ p: row.activity }),
    toNode: toConversation,
    hasPrevious: before !== null,
  });
}

export const Query: QueryResolvers = {
  async droids(_, args, ctx) {
    const ownerId = requireOwner(ctx.identity);
    const first = validateFirst(args.first);
    const before = decodePositionCursor(args.after, 'after');
    const rows = await listDroids(ctx.db, ownerId, { limit: first + 1, before });
    for (const row of rows) ctx.loaders.droidById.prime(row.id, row);
    return toConnection(rows, first, {
      cursorOf: (row) => encodeCursor({ p: row.position }),
      toNode: toDroid,
      hasPrevious: before !== null,
    });
  },

  async droid(_, args, ctx) {
    const row = ownedBy(await ctx.loaders.droidById.load(requireUuid(args.id, 'id')), requireOwner(ctx.identity));
    return row ? toDroid(row) : null;
  },

  conversations: (_, args, ctx) => conversationPage(ctx, requireOwner(ctx.identity), args),

  async conversation(_, args, ctx) {
    const row = ownedBy(
      await ctx.loaders.conversationById.load(requireUuid(args.id, 'id')),
      requireOwner(ctx.identity),
    );
    return row ? toConversation(row) : null;
  },

  async message(_, args, ctx) {
    const row = ownedBy(await ctx.loaders.messageById.load(requireUuid(args.id, 'id')), requireOwner(ctx.identity));
    return row ? toMessage(row) : null;
  },

  responseCacheStats: (_, __, ctx) => ctx.responseCache.stats(),
};
