import type { Role, Tier } from '@supergraph/platform';
import type { ApiKeyRow, SessionRow, UserRow } from '../auth.table.ts';
import { canSeePrivateFields, type AuthContext } from '../context.ts';
import type { ApiKey, Session, User, UserRole, UserTier } from '../generated/resolvers.ts';

/*
 * One row → GraphQL mapper per type. Resolvers return these shapes (the
 * generated types say so), so no field resolvers and no codegen mappers are
 * needed, and nothing reaches the client that the mapper did not pick.
 */

const USER_ROLES: Readonly<Record<Role, UserRole>> = { user: 'USER', admin: 'ADMIN' };
const ROLES: Readonly<Record<UserRole, Role>> = { USER: 'user', ADMIN: 'admin' };
const USER_TIERS: Readonly<Record<Tier, UserTier>> = { free: 'FREE', pro: 'PRO', enterprise: 'ENTERPRISE' };
const TIERS: Readonly<Record<UserTier, Tier>> = { FREE: 'free', PRO: 'pro', ENTERPRISE: 'enterprise' };

/** The stored (and token) role → the GraphQL enum value. */
export function toUserRole(role: Role): UserRole {
  return USER_ROLES[role];
}

/** The GraphQL enum value → the stored (and token) role. */
export function roleOf(role: UserRole): Role {
  return ROLES[role];
}

export function toUserTier(tier: Tier): UserTier {
  return USER_TIERS[tier];
}

export function tierOf(tier: UserTier): Tier {
  return TIERS[tier];
}

/**
 * A user as this request's caller may see them: `email`, `preferences` and
 * `isActive` only for the user themself, an admin by scope, or a user who
 * proved who they are earlier in this request (login, refresh); null otherwise.
 */
export function toUser(row: UserRow, ctx: AuthContext): User {
  const isVisible = canSeePrivateFields(ctx, row.id);
  return {
    id: row.id,
    username: row.username,
    email: isVisible ? row.email : null,
    role: toUserRole(row.role),
    tier: toUserTier(row.tier),
    createdAt: row.created_at,
    preferences: isVisible ? row.preferences : null,
    isActive: isVisible ? row.is_active : null,
  };
}

/** `currentSessionId`: the session of this request, if any (marks `current`). */
export function toSession(row: SessionRow, currentSessionId: string | undefined): Session {
  return {
    id: row.id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastSeenAt: row.last_seen_at,
    userAgent: row.user_agent,
    current: row.id === currentSessionId,
  };
}

/** Never the hash: the full key exists only in `CreatedApiKey.key`, once. */
export function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
