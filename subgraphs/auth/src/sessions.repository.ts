import { sql, type Kysely, type Transaction } from 'kysely';
import type { Role, Tier } from '@supergraph/platform';
import type { AuthDb, RefreshTokenRow, SessionRow } from './auth.table.ts';

export async function insertSession(
  trx: Transaction<AuthDb>,
  session: { userId: string; tokenHash: string; expiresAt: Date; userAgent: string | null },
): Promise<SessionRow> {
  return trx
    .insertInto('sessions')
    .values({
      user_id: session.userId,
      token_hash: session.tokenHash,
      expires_at: session.expiresAt,
      user_agent: session.userAgent,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface ActiveSessionOwner {
  sessionId: string;
  userId: string;
  role: Role;
  tier: Tier;
}

/** The live session with this token hash whose user is active; undefined when revoked, expired or unknown. */
export async function findActiveSessionByTokenHash(
  db: Kysely<AuthDb>,
  tokenHash: string,
): Promise<ActiveSessionOwner | undefined> {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['sessions.id as sessionId', 'users.id as userId', 'users.role', 'users.tier'])
    .where('sessions.token_hash', '=', tokenHash)
    .where('sessions.revoked_at', 'is', null)
    .where('sessions.expires_at', '>', sql<Date>`now()`)
    .where('users.is_active', '=', true)
    .executeTakeFirst();
}

export async function findActiveSession(
  db: Kysely<AuthDb>,
  sessionId: string,
  userId: string,
): Promise<SessionRow | undefined> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('id', '=', sessionId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
}

/** Whether session `sessionId` belongs to `userId`, live or not (another user's session reads as missing). */
export async function isOwnSession(db: Kysely<AuthDb>, userId: string, sessionId: string): Promise<boolean> {
  const row = await db
    .selectFrom('sessions')
    .select('id')
    .where('id', '=', sessionId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Records activity, at most once a minute per session (keeps a hot credential from writing on every request). */
export async function touchSession(db: Kysely<AuthDb>, sessionId: string): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_seen_at: sql<Date>`now()` })
    .where('id', '=', sessionId)
    .where('last_seen_at', '<', sql<Date>`now() - interval '1 minute'`)
    .execute();
}

export async function replaceSessionToken(
  trx: Transaction<AuthDb>,
  sessionId: string,
  tokenHash: string,
): Promise<void> {
  await trx
    .updateTable('sessions')
    .set({ token_hash: tokenHash, last_seen_at: sql<Date>`now()` })
    .where('id', '=', sessionId)
    .execute();
}

export async function listActiveSessions(db: Kysely<AuthDb>, userId: string): Promise<SessionRow[]> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .orderBy('created_at', 'desc')
    .execute();
}

/**
 * Revokes sessions of `userId` (only `sessionIds` when given, every one but
 * `exceptSessionId` otherwise) and their refresh tokens. Returns how many
 * sessions were live before.
 */
export async function revokeSessions(
  trx: Transaction<AuthDb>,
  userId: string,
  { sessionIds, exceptSessionId }: { sessionIds?: readonly string[]; exceptSessionId?: string } = {},
): Promise<number> {
  if (sessionIds && sessionIds.length === 0) return 0;
  let sessions = trx
    .updateTable('sessions')
    .set({ revoked_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (sessionIds) sessions = sessions.where('id', 'in', sessionIds);
  if (exceptSessionId) sessions = sessions.where('id', '!=', exceptSessionId);
  const revoked = await sessions.returning(['id', 'expires_at']).execute();

  let tokens = trx
    .updateTable('refresh_tokens')
    .set({ revoked_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (sessionIds) tokens = tokens.where('session_id', 'in', sessionIds);
  if (exceptSessionId) tokens = tokens.where('session_id', '!=', exceptSessionId);
  await tokens.execute();
  const now = Date.now();
  return revoked.filter((session) => session.expires_at.getTime() > now).length;
}

export async function countActiveSessions(db: Kysely<AuthDb>): Promise<number> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('sessions.revoked_at', 'is', null)
    .where('sessions.expires_at', '>', sql<Date>`now()`)
    .where('users.is_active', '=', true)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function insertRefreshToken(
  trx: Transaction<AuthDb>,
  token: { familyId: string; sessionId: string; userId: string; tokenHash: string; expiresAt: Date },
): Promise<void> {
  await trx
    .insertInto('refresh_tokens')
    .values({
      family_id: token.familyId,
      session_id: token.sessionId,
      user_id: token.userId,
      token_hash: token.tokenHash,
      expires_at: token.expiresAt,
    })
    .execute();
}

/**
 * Marks an unused, unrevoked refresh token as used and returns it; undefined
 * when it was already spent or revoked. The conditional update is the
 * arbiter, so two concurrent refreshes with one token cannot both win.
 */
export async function claimRefreshToken(
  trx: Transaction<AuthDb>,
  tokenHash: string,
): Promise<RefreshTokenRow | undefined> {
  return trx
    .updateTable('refresh_tokens')
    .set({ used_at: sql<Date>`now()` })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .returningAll()
    .executeTakeFirst();
}

export async function findRefreshToken(db: Kysely<AuthDb>, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  return db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Reuse detected: every token of the family and the family's session die. */
export async function revokeFamily(trx: Transaction<AuthDb>, familyId: string, sessionId: string): Promise<void> {
  await trx
    .updateTable('refresh_tokens')
    .set({ revoked_at: sql<Date>`now()` })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .execute();
  await trx
    .updateTable('sessions')
    .set({ revoked_at: sql<Date>`now()` })
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .execute();
}
