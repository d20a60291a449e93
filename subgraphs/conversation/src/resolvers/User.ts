import { emptyConnection, isUuid } from '@supergraph/kit';
import type { UserResolvers } from '../generated/resolvers.ts';
import { toUserReference } from './mappers.ts';
import { conversationPage } from './Query.ts';

export const User: UserResolvers = {
  /** Conversation keeps no user data: any id is a user reference. */
  __resolveReference: (reference) => toUserReference(reference.id),
  /** Only your own: another user's list is empty, never theirs. */
  async conversations(user, args, ctx) {
    const me = ctx.identity.userId?.toLowerCase();
    if (!me || !isUuid(me) || user.id.toLowerCase() !== me) return emptyConnection();
    return conversationPage(ctx, me, args);
  },
};
