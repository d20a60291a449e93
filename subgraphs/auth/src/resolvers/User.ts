import type { UserRow } from '../auth.table.ts';
import { canSeePrivateFields, type AuthContext } from '../context.ts';

/** `User` is the row itself; private fields are null for anyone but the user and admins. */
export const userResolvers = {
  __resolveReference: (reference: { id: string }, ctx: AuthContext): Promise<UserRow | null> =>
    ctx.loaders.userById.load(reference.id),
  id: (user: UserRow) => user.id,
  username: (user: UserRow) => user.username,
  email: (user: UserRow, _args: unknown, ctx: AuthContext) => (canSeePrivateFields(ctx, user.id) ? user.email : null),
  role: (user: UserRow) => user.role,
  tier: (user: UserRow) => user.tier,
  createdAt: (user: UserRow) => user.created_at,
  preferences: (user: UserRow, _args: unknown, ctx: AuthContext) => (canSeePrivateFields(ctx, user.id) ? user.preferences : null),
  isActive: (user: UserRow, _args: unknown, ctx: AuthContext) => (canSeePrivateFields(ctx, user.id) ? user.is_active : null),
};

/** GraphQL enum values ↔ the lower-case values stored and put in tokens. */
export const userRoleValues = { USER: 'user', ADMIN: 'admin' };
export const userTierValues = { FREE: 'free', PRO: 'pro', ENTERPRISE: 'enterprise' };
