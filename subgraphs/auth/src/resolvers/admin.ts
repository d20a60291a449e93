import { decodeCursor, encodeCursor, isUuid, requireIntInRange, requireUuid, type PageInfo } from '@supergraph/kit';
import { badUserInput, forbidden, notFound, type Tier } from '@supergraph/platform';
import type { UserRow } from '../auth.table.ts';
import { revokeAllApiKeys } from '../api-keys.repository.ts';
import { requireUserId, type AuthContext } from '../context.ts';
import type { MutationResolvers, QueryResolvers, User } from '../generated/resolvers.ts';
import { countActiveSessions, revokeSessions } from '../sessions.repository.ts';
import { countUsersByTier, findUserById, listUsers, updateUser, type UserKeyset } from '../users.repository.ts';
import { roleOf, tierOf, toUser, toUserTier } from './mappers.ts';

const TIERS: readonly Tier[] = ['free', 'pro', 'enterprise'];

interface UserCursor {
  c: string;
  i: string;
}

function isUserCursor(value: unknown): value is UserCursor {
  if (typeof value !== 'object' || value === null) return false;
  const { c, i } = value as { c?: unknown; i?: unknown };
  return typeof c === 'string' && !Number.isNaN(Date.parse(c)) && typeof i === 'string' && isUuid(i);
}

function cursorOf(user: UserRow): string {
  return encodeCursor({ c: user.created_at.toISOString(), i: user.id } satisfies UserCursor);
}

/**
 * Admin fields are guarded by `@requiresScopes(admin)` on the token; this
 * re-checks the database so a demoted or deactivated admin loses power at
 * once rather than when their access token expires.
 */
async function requireCurrentAdmin(ctx: AuthContext): Promise<string> {
  const userId = requireUserId(ctx);
  const caller = await findUserById(ctx.db, userId);
  if (!caller?.is_active || caller.role !== 'admin') throw forbidden('admin role required');
  return userId;
}

function requireOtherUser(callerId: string, userId: string): void {
  if (callerId === userId) throw badUserInput('admins cannot change their own role or deactivate themselves', 'userId');
}

async function changeUser(ctx: AuthContext, userId: string, changes: Parameters<typeof updateUser>[2]): Promise<User> {
  const user = await updateUser(ctx.db, userId, changes);
  if (!user) throw notFound('user not found');
  ctx.loaders.userById.clear(userId);
  return toUser(user, ctx);
}

export const adminQueries: QueryResolvers = {
  users: async (_parent, args, ctx) => {
    await requireCurrentAdmin(ctx);
    // `first` has a default, but a client may still pass an explicit null.
    const first = requireIntInRange(args.first ?? 20, 'first', 1, 100);
    const cursor = args.after ? decodeCursor(args.after, isUserCursor, 'after') : null;
    const after: UserKeyset | null = cursor ? { createdAt: new Date(cursor.c), id: cursor.i.toLowerCase() } : null;
    const rows = await listUsers(ctx.db, first + 1, after);
    const page = rows.slice(0, first);
    const edges = page.map((user) => ({ cursor: cursorOf(user), node: toUser(user, ctx) }));
    const pageInfo: PageInfo = {
      hasNextPage: rows.length > first,
      hasPreviousPage: after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    };
    return { edges, pageInfo };
  },

  platformStats: async (_parent, _args, ctx) => {
    const counts = await countUsersByTier(ctx.db);
    const usersByTier = TIERS.map((tier) => ({
      tier: toUserTier(tier),
      users: counts.find((row) => row.tier === tier)?.users ?? 0,
    }));
    return {
      totalUsers: usersByTier.reduce((sum, row) => sum + row.users, 0),
      usersByTier,
      activeSessions: await countActiveSessions(ctx.db),
    };
  },
};

export const adminMutations: MutationResolvers = {
  setUserRole: async (_parent, args, ctx) => {
    const callerId = await requireCurrentAdmin(ctx);
    const userId = requireUuid(args.userId, 'userId');
    requireOtherUser(callerId, userId);
    return changeUser(ctx, userId, { role: roleOf(args.role) });
  },

  setUserTier: async (_parent, args, ctx) => {
    await requireCurrentAdmin(ctx);
    return changeUser(ctx, requireUuid(args.userId, 'userId'), { tier: tierOf(args.tier) });
  },

  deactivateUser: async (_parent, args, ctx) => {
    const callerId = await requireCurrentAdmin(ctx);
    const userId = requireUuid(args.userId, 'userId');
    requireOtherUser(callerId, userId);
    const user = await ctx.db.transaction().execute(async (trx) => {
      const updated = await updateUser(trx, userId, { is_active: false });
      if (!updated) throw notFound('user not found');
      await revokeSessions(trx, userId);
      await revokeAllApiKeys(trx, userId);
      return updated;
    });
    ctx.loaders.userById.clear(userId);
    return toUser(user, ctx);
  },

  reactivateUser: async (_parent, args, ctx) => {
    await requireCurrentAdmin(ctx);
    return changeUser(ctx, requireUuid(args.userId, 'userId'), { is_active: true });
  },
};
