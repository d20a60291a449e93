import { randomUUID } from 'node:crypto';
import { notFound, unauthenticated } from '@supergraph/platform';
import type { Kysely, Transaction } from 'kysely';
import type { AuthDb, UserRow } from './auth.table.ts';
import type { AuthRuntime } from './context.ts';
import type { PasswordHasher } from './passwords.ts';
import { randomToken, sha256Hex } from './secrets.ts';
import {
  claimRefreshToken,
  findActiveSession,
  findRefreshToken,
  insertRefreshToken,
  insertSession,
  isOwnSession,
  replaceSessionToken,
  revokeFamily,
  revokeSessions,
} from './sessions.repository.ts';
import { signAccessToken, signRefreshToken, verifyRefreshToken, type RefreshClaims } from './tokens.ts';
import { findUserById, findUserByLogin } from './users.repository.ts';
import { assertPasswordSize } from './validation.ts';

const INVALID_CREDENTIALS = 'invalid credentials';
const INVALID_REFRESH_TOKEN = 'invalid refresh token';
const MAX_LOGIN_LENGTH = 254;
const MAX_USER_AGENT_LENGTH = 256;
const DAY_MS = 86_400_000;

/** The tokens of a session that was just started or refreshed, and whose they are. */
export interface IssuedSession {
  user: UserRow;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  sessionToken: string;
  sessionExpiresAt: Date;
}

/** UNAUTHENTICATED for any refresh token that cannot be used, whatever the reason (the caller learns nothing more). */
export function invalidRefreshToken() {
  return unauthenticated(INVALID_REFRESH_TOKEN);
}

/**
 * The active user with this username or e-mail and password. An unknown login
 * costs one dummy verification, so "no such user" and "wrong password" take
 * as long and read alike (UNAUTHENTICATED, "invalid credentials").
 */
export async function authenticate(
  db: Kysely<AuthDb>,
  passwords: PasswordHasher,
  credentials: { usernameOrEmail: string; password: string },
): Promise<UserRow> {
  assertPasswordSize(credentials.password, 'input.password');
  const login = credentials.usernameOrEmail.trim();
  const user = login.length > 0 && login.length <= MAX_LOGIN_LENGTH ? await findUserByLogin(db, login) : undefined;
  if (!user) {
    await passwords.verifyDummy(credentials.password);
    throw unauthenticated(INVALID_CREDENTIALS);
  }
  const isValid = await passwords.verify(user.password_hash, credentials.password);
  if (!isValid || !user.is_active) throw unauthenticated(INVALID_CREDENTIALS);
  return user;
}

/**
 * A new session for `user` with a new refresh family: the session row, its
 * first refresh token, and the signed tokens. `userAgent` is a label for the
 * session list, trimmed and cut to 256 characters.
 */
export async function startSession(
  trx: Transaction<AuthDb>,
  runtime: AuthRuntime,
  user: UserRow,
  userAgent: string | null | undefined,
): Promise<IssuedSession> {
  const sessionToken = randomToken();
  const expiresAt = new Date(Date.now() + runtime.config.sessionTtlDays * DAY_MS);
  const session = await insertSession(trx, {
    userId: user.id,
    tokenHash: sha256Hex(sessionToken),
    expiresAt,
    userAgent: userAgent?.trim().slice(0, MAX_USER_AGENT_LENGTH) || null,
  });
  const refresh = { familyId: randomUUID(), jti: randomUUID() };
  await insertRefreshToken(trx, {
    familyId: refresh.familyId,
    sessionId: session.id,
    userId: user.id,
    tokenHash: sha256Hex(refresh.jti),
    expiresAt: session.expires_at,
  });
  return signSession(runtime, user, { id: session.id, expiresAt: session.expires_at, token: sessionToken }, refresh);
}

/** The claims of a refresh token this server signed and that has not expired; {@link invalidRefreshToken} otherwise. */
export async function verifyRefreshClaims(runtime: AuthRuntime, refreshToken: string): Promise<RefreshClaims> {
  const claims = await verifyRefreshToken(runtime.keys, runtime.config, refreshToken);
  if (!claims) throw invalidRefreshToken();
  return claims;
}

/**
 * Spends the refresh token of `claims` and issues its successor in the same
 * family, with a new session token. Null when it cannot be used; a token that
 * was already spent or revoked is a replay (by a thief or by the victim), so
 * the whole family and its session are revoked. That revocation must commit:
 * callers throw {@link invalidRefreshToken} after the transaction, not inside it.
 */
export async function rotateRefreshToken(
  trx: Transaction<AuthDb>,
  runtime: AuthRuntime,
  claims: RefreshClaims,
): Promise<IssuedSession | null> {
  const tokenHash = sha256Hex(claims.jti);
  const claimed = await claimRefreshToken(trx, tokenHash);
  if (!claimed) {
    const known = await findRefreshToken(trx, tokenHash);
    if (known) await revokeFamily(trx, known.family_id, known.session_id);
    return null;
  }
  const session = await findActiveSession(trx, claimed.session_id, claimed.user_id);
  const user = await findUserById(trx, claimed.user_id);
  if (!session || !user?.is_active || claimed.family_id !== claims.familyId) {
    await revokeFamily(trx, claimed.family_id, claimed.session_id);
    return null;
  }
  const next = { familyId: claimed.family_id, jti: randomUUID() };
  await insertRefreshToken(trx, {
    familyId: next.familyId,
    sessionId: session.id,
    userId: user.id,
    tokenHash: sha256Hex(next.jti),
    expiresAt: session.expires_at,
  });
  const sessionToken = randomToken();
  await replaceSessionToken(trx, session.id, sha256Hex(sessionToken));
  return signSession(runtime, user, { id: session.id, expiresAt: session.expires_at, token: sessionToken }, next);
}

/** Ends the caller's own session (none to end for callers without one, such as API keys); whether it was live. */
export async function logout(
  trx: Transaction<AuthDb>,
  userId: string,
  sessionId: string | undefined,
): Promise<boolean> {
  if (!sessionId) return false;
  return (await revokeSessions(trx, userId, { sessionIds: [sessionId] })) > 0;
}

/** Ends every session of `userId` and their refresh tokens; how many were live. */
export async function logoutEverywhere(trx: Transaction<AuthDb>, userId: string): Promise<number> {
  return revokeSessions(trx, userId);
}

/** Ends one of the user's sessions; NOT_FOUND for a session that is not theirs. Whether it was live. */
export async function revokeOwnSession(trx: Transaction<AuthDb>, userId: string, sessionId: string): Promise<boolean> {
  if (!(await isOwnSession(trx, userId, sessionId))) throw notFound('session not found');
  return (await revokeSessions(trx, userId, { sessionIds: [sessionId] })) > 0;
}

/** Signs the access and refresh tokens of a session whose rows exist. */
async function signSession(
  runtime: AuthRuntime,
  user: UserRow,
  session: { id: string; expiresAt: Date; token: string },
  refresh: { familyId: string; jti: string },
): Promise<IssuedSession> {
  const { keys, config } = runtime;
  const access = await signAccessToken(keys, config, {
    userId: user.id,
    sessionId: session.id,
    role: user.role,
    tier: user.tier,
  });
  const refreshToken = await signRefreshToken(
    keys,
    config,
    { userId: user.id, sessionId: session.id, familyId: refresh.familyId, jti: refresh.jti },
    session.expiresAt,
  );
  return {
    user,
    accessToken: access.token,
    accessTokenExpiresAt: access.expiresAt,
    refreshToken,
    sessionToken: session.token,
    sessionExpiresAt: session.expiresAt,
  };
}
