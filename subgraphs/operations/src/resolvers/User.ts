import { forbidden, hasScopes } from '@supergraph/platform';
import type { UserResolvers } from '../generated/resolvers.ts';
import { usageSummary } from '../usage.service.ts';

export const User: UserResolvers = {
  /** Operations keeps no user data: any id is a user reference. */
  __resolveReference: (reference) => ({ id: reference.id }),
  /** Your own usage; another user's only for operators (`ops:read`). */
  async usage(user, args, ctx) {
    const isSelf = ctx.identity.userId !== null && ctx.identity.userId.toLowerCase() === user.id.toLowerCase();
    if (!isSelf && !hasScopes(ctx.identity, [['ops:read']]))
      throw forbidden("Only operators may read another user's usage");
    return usageSummary(ctx.db, user.id, { from: args.from, to: args.to });
  },
};
