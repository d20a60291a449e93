import { decodeCursor, encodeCursor, isUuid } from '@supergraph/kit';
import { badUserInput, forbidden, notFound, type Role, type Tier } from '@supergraph/platform';
import type { Kysely, Transaction } from 'kysely';
import { revokeAllApiKeys } from './api-keys.repository.ts';
import type { AuthDb, UserRow } from './auth.table.ts';
import { countActiveSessions, revokeSessions } from './sessions.repository.ts';
import { countUsersByTier, findUserById, listUsers, updateUser, type UserKeyset } from './users.repository.ts';

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

/** The cursor of a user in the admin list: their (created_at, id) keyset. */
export function userCursor(user: UserRow): string {
  return encodeCursor({ c: user.created_at.toISOString(), i: user.id } satisfies UserCursor);
}

/**
 * Users after `after` (a {@link userCursor}) in (created_at, id) order, one
 * more than `first` so the page knows whether another follows.
 */
export async function listUsersAfter(db: Kysely<AuthDb>, first: number, after: string | null): Promise<UserRow[]> {
  const cursor = after ? decodeCursor(after, isUserCursor, 'after') : null;
  const keyset: UserKeyset | null = cursor ? { createdAt: new Date(cursor.c), id: cursor.i.toLowerCase() } : null;
  return listUsers(db, first + 1, keyset);
}

/**
 * Admin fields are guarded by `@requiresScopes(admin)` on the token; this
 * re-checks the database so a demoted or deactivated admin loses power at
 * once rather than when their access token expires.
 */
export async function requireCurrentAdmin(db: Kysely<AuthDb>, userId: string): Promise<void> {
  const caller = await findUserById(db, userId);
  if (!caller?.is_active || caller.role !== 'admin') throw forbidden('admin role required');
}

/** Admins cannot lock themselves out: no changing their own role, no deactivating themselves. */
export function requireOtherUser(callerId: string, userId: string): void {
  if (callerId === userId) throw badUserInput('admins cannot change their own role or deactivate themselves', 'userId');
}

/** Role, tier or activation of a user; NOT_FOUND when there is no such user. */
export async function changeUser(
  db: Kysely<AuthDb>,
  userId: string,
  changes: { role?: Role; tier?: Tier; is_active?: boolean },
): Promise<UserRow> {
  const user = await updateUser(db, userId, changes);
  if (!user) throw notFound('user not found');
  return user;
}

/** Deactivates a user and ends everything they hold: sessions, refresh tokens, API keys. */
export async function deactivateUser(trx: Transaction<AuthDb>, userId: string): Promise<UserRow> {
  const user = await changeUser(trx, userId, { is_active: false });
  await revokeSessions(trx, userId);
  await revokeAllApiKeys(trx, userId);
  return user;
}

export interface PlatformCounts {
  totalUsers: number;
  /** Every tier, zeros included, in tier order. */
  usersByTier: Array<{ tier: Tier; users: number }>;
  activeSessions: number;
}

/** Active users (in all and per tier) and live sessions of active users. */
export async function countPlatform(db: Kysely<AuthDb>): Promise<PlatformCounts> {
  const counts = await countUsersByTier(db);
  const usersByTier = TIERS.map((tier) => ({ tier, users: counts.find((row) => row.tier === tier)?.users ?? 0 }));
  return {
    totalUsers: usersByTier.reduce((sum, row) => sum + row.users, 0),
    usersByTier,
    activeSessions: await countActiveSessions(db),
  };
}
