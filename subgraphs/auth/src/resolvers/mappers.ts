import type { Role, Tier } from '@supergraph/platform';
import type { ApiKeyRow, ProviderKeyRow, SessionRow, UserRow } from '../auth.table.ts';
import { canSeePrivateFields, type AuthContext } from '../context.ts';
import type { PlatformCounts } from '../admin.service.ts';
import type { IssuedApiKey } from '../api-keys.service.ts';
import type { Credential } from '../credentials.service.ts';
import type {
  ApiKey,
  AuthPayload,
  CreatedApiKey,
  PlatformStats,
  ProviderKey,
  ResolvedCredential,
  Session,
  User,
  UserRole,
  UserTier,
} from '../generated/resolvers.ts';
import type { IssuedSession } from '../sessions.service.ts';

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

/** The full key, shown this once, beside the stored key's public fields. */
export function toCreatedApiKey(issued: IssuedApiKey): CreatedApiKey {
  return { key: issued.key, apiKey: toApiKey(issued.row) };
}

/** Never the key, nor its ciphertext: `last4` is all a client sees. */
export function toProviderKey(row: ProviderKeyRow): ProviderKey {
  return { provider: row.provider, last4: row.last4, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** The tokens of a login or refresh; the user as `ctx` may see them (the resolver marks them proven first). */
export function toAuthPayload(issued: IssuedSession, ctx: AuthContext): AuthPayload {
  return {
    accessToken: issued.accessToken,
    refreshToken: issued.refreshToken,
    sessionToken: issued.sessionToken,
    expiresAt: issued.accessTokenExpiresAt,
    sessionExpiresAt: issued.sessionExpiresAt,
    user: toUser(issued.user, ctx),
  };
}

export function toPlatformStats(counts: PlatformCounts): PlatformStats {
  return {
    totalUsers: counts.totalUsers,
    usersByTier: counts.usersByTier.map((row) => ({ tier: toUserTier(row.tier), users: row.users })),
    activeSessions: counts.activeSessions,
  };
}

export function toResolvedCredential(credential: Credential): ResolvedCredential {
  return {
    userId: credential.userId,
    roles: credential.roles,
    scopes: credential.scopes,
    tier: credential.tier,
    sessionId: credential.sessionId,
  };
}
