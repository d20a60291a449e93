import { requireIntInRange, requireUuid, toConnection } from '@supergraph/kit';
import {
  changeUser,
  countPlatform,
  deactivateUser,
  listUsersAfter,
  requireCurrentAdmin,
  requireOtherUser,
  userCursor,
} from '../admin.service.ts';
import { recordAudit } from '../audit.service.ts';
import { requireUserId, type AuthContext } from '../context.ts';
import { announceRevocation } from '../revocations.service.ts';
import type { UserRow } from '../auth.table.ts';
import type { MutationResolvers, QueryResolvers, User } from '../generated/resolvers.ts';
import { roleOf, tierOf, toPlatformStats, toUser } from './mappers.ts';

/** The caller's id once the database confirms they are a current, active admin. */
async function requireAdminCaller(ctx: AuthContext): Promise<string> {
  const callerId = requireUserId(ctx);
  await requireCurrentAdmin(ctx.db, callerId);
  return callerId;
}

/** A user just changed: later loads in this request see the new row. */
function toChangedUser(ctx: AuthContext, user: UserRow): User {
  ctx.loaders.userById.clear(user.id);
  return toUser(user, ctx);
}

export const adminQueries: QueryResolvers = {
  users: async (_parent, args, ctx) => {
    await requireAdminCaller(ctx);
    // `first` has a default, but a client may still pass an explicit null.
    const first = requireIntInRange(args.first ?? 20, 'first', 1, 100);
    const after = args.after || null;
    const rows = await listUsersAfter(ctx.db, first, after);
    return toConnection(rows, first, {
      cursorOf: userCursor,
      toNode: (row) => toUser(row, ctx),
      hasPrevious: after !== null,
    });
  },

  platformStats: async (_parent, _args, ctx) => toPlatformStats(await countPlatform(ctx.db)),
};

export const adminMutations: MutationResolvers = {
  setUserRole: async (_parent, args, ctx) => {
    const callerId = await requireAdminCaller(ctx);
    const userId = requireUuid(args.userId, 'userId');
    requireOtherUser(callerId, userId);
    const before = await ctx.loaders.userById.load(userId);
    const user = await changeUser(ctx.db, userId, { role: roleOf(args.role) });
    // Tokens carry the role: old ones go, the user's next refresh carries the new one.
    await announceRevocation(ctx.auth, 'user', userId);
    recordAudit(ctx, 'auth.role_changed', {
      actorId: callerId,
      subjectId: userId,
      details: { from: before?.role ?? null, to: user.role },
    });
    return toChangedUser(ctx, user);
  },

  setUserTier: async (_parent, args, ctx) => {
    const callerId = await requireAdminCaller(ctx);
    const userId = requireUuid(args.userId, 'userId');
    const before = await ctx.loaders.userById.load(userId);
    const user = await changeUser(ctx.db, userId, { tier: tierOf(args.tier) });
    await announceRevocation(ctx.auth, 'user', userId);
    recordAudit(ctx, 'auth.tier_changed', {
      actorId: callerId,
      subjectId: userId,
      details: { from: before?.tier ?? null, to: user.tier },
    });
    return toChangedUser(ctx, user);
  },

  deactivateUser: async (_parent, args, ctx) => {
    const callerId = await requireAdminCaller(ctx);
    const userId = requireUuid(args.userId, 'userId');
    requireOtherUser(callerId, userId);
    const user = await ctx.db.transaction().execute((trx) => deactivateUser(trx, userId));
    await announceRevocation(ctx.auth, 'user', userId);
    recordAudit(ctx, 'auth.user_deactivated', { actorId: callerId, subjectId: userId });
    return toChangedUser(ctx, user);
  },

  reactivateUser: async (_parent, args, ctx) => {
    const callerId = await requireAdminCaller(ctx);
    const userId = requireUuid(args.userId, 'userId');
    const user = await changeUser(ctx.db, userId, { is_active: true });
    recordAudit(ctx, 'auth.user_reactivated', { actorId: callerId, subjectId: userId });
    return toChangedUser(ctx, user);
  },
};
