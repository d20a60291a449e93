import type { UserResolvers } from '../generated/resolvers.ts';
import { toUser } from './mappers.ts';

/** Fields come from the mapped shape (private ones already nulled for this caller); only entity references need code. */
export const userResolvers: UserResolvers = {
  __resolveReference: async (reference, ctx) => {
    const row = await ctx.loaders.userById.load(reference.id);
    return row ? toUser(row, ctx) : null;
  },
};
