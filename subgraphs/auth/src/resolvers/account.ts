import { randomUUID } from 'node:crypto';
import { requireUuid } from '@supergraph/kit';
import { badUserInput, notFound, unauthenticated } from '@supergraph/platform';
import type { UserRow } from '../auth.table.ts';
import { callerSessionId, requireUserId, type AuthContext } from '../context.ts';
import type { AuthPayload, MutationResolvers, QueryResolvers } from '../generated/resolvers.ts';
import { randomToken, sha256Hex } from '../secrets.ts';
import {
  claimRefreshToken,
  findActiveSession,
  findRefreshToken,
  insertRefreshToken,
  insertSession,
  listActiveSessions,
  replaceSessionToken,
  revokeFamily,
  revokeSessions,
} from '../sessions.repository.ts';
import { signAccessToken, signRefreshToken, verifyRefreshToken } from '../tokens.ts';
import {
  findUserById,
  findUserByLogin,
  hasAdmin,
  insertUser,
  updatePasswordHash,
  updateUser,
} from '../users.repository.ts';
import {
  assertPasswordSize,
  validateEmail,
  validatePassword,
  validatePreferences,
  validateUsername,
} from '../validation.ts';
import { toSession, toUser } from './mappers.ts';

const DUPLICATE_MESSAGE = 'username or email already registered';
const INVALID_CREDENTIALS = 'invalid credentials';
const INVALID_REFRESH_TOKEN = 'invalid refresh token';
const MAX_LOGIN_LENGTH = 254;
const MAX_USER_AGENT_LENGTH = 256;

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/** Signs the access and refresh tokens for a session whose rows exist. */
async function buildPayload(
  ctx: AuthContext,
  user: UserRow,
  session: { id: string; expiresAt: Date; token: string },
  refresh: { familyId: string; jti: string },
): Promise<AuthPayload> {
  const { keys, config } = ctx.auth;
  ctx.provenUserIds.add(user.id);
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
    accessToken: access.token,
    refreshToken,
    sessionToken: session.token,
    expiresAt: access.expiresAt,
    sessionExpiresAt: session.expiresAt,
    // After `provenUserIds.add`: the payload's user sees their own private fields.
    user: toUser(user, ctx),
  };
}

/** A new session with a new refresh family. */
async function startSession(ctx: AuthContext, user: UserRow, userAgent: string | null): Promise<AuthPayload> {
  const token = randomToken();
  const expiresAt = new Date(Date.now() + ctx.auth.config.sessionTtlDays * 86_400_000);
  const refresh = { familyId: randomUUID(), jti: randomUUID() };
  const session = await ctx.db.transaction().execute(async (trx) => {
    const created = await insertSession(trx, { userId: user.id, tokenHash: sha256Hex(token), expiresAt, userAgent });
    await insertRefreshToken(trx, {
      familyId: refresh.familyId,
      sessionId: created.id,
      userId: user.id,
      tokenHash: sha256Hex(refresh.jti),
      expiresAt,
    });
    return created;
  });
  return buildPayload(ctx, user, { id: session.id, expiresAt: session.expires_at, token }, refresh);
}

export const accountQueries: QueryResolvers = {
  me: async (_parent, _args, ctx) => {
    const userId = ctx.identity.userId;
    if (!userId) return null;
    const user = await ctx.loaders.userById.load(userId);
    return user?.is_active ? toUser(user, ctx) : null;
  },

  sessions: async (_parent, _args, ctx) => {
    const currentSessionId = callerSessionId(ctx);
    return (await listActiveSessions(ctx.db, requireUserId(ctx))).map((row) => toSession(row, currentSessionId));
  },
};

export const accountMutations: MutationResolvers = {
  register: async (_parent, { input }, ctx) => {
    const username = validateUsername(input.username);
    const email = validateEmail(input.email);
    const password = validatePassword(input.password);
    const taken = await ctx.db
      .selectFrom('users')
      .select('id')
      .where((eb) => eb.or([eb(eb.fn('lower', ['username']), '=', username.toLowerCase()), eb('email', '=', email)]))
      .executeTakeFirst();
    if (taken) throw badUserInput(DUPLICATE_MESSAGE, 'input.username');
    const passwordHash = await ctx.auth.passwords.hash(password);
    const bootstrapAdmin = ctx.auth.config.bootstrapAdmin;
    let user: UserRow;
    try {
      user = await ctx.db.transaction().execute(async (trx) => {
        const isBootstrapAdmin =
          bootstrapAdmin !== undefined &&
          bootstrapAdmin.toLowerCase() === username.toLowerCase() &&
          !(await hasAdmin(trx));
        return insertUser(trx, {
          username,
          email,
          password_hash: passwordHash,
          role: isBootstrapAdmin ? 'admin' : 'user',
        });
      });
    } catch (error) {
      // Lost a race with a concurrent registration of the same name or address.
      if (isUniqueViolation(error)) throw badUserInput(DUPLICATE_MESSAGE, 'input.username');
      throw error;
    }
    return toUser(user, ctx);
  },

  login: async (_parent, { input }, ctx) => {
    assertPasswordSize(input.password, 'input.password');
    const login = input.usernameOrEmail.trim();
    const user =
      login.length > 0 && login.length <= MAX_LOGIN_LENGTH ? await findUserByLogin(ctx.db, login) : undefined;
    if (!user) {
      await ctx.auth.passwords.verifyDummy(input.password);
      throw unauthenticated(INVALID_CREDENTIALS);
    }
    const isValid = await ctx.auth.passwords.verify(user.password_hash, input.password);
    if (!isValid || !user.is_active) throw unauthenticated(INVALID_CREDENTIALS);
    const userAgent = input.userAgent?.trim().slice(0, MAX_USER_AGENT_LENGTH) || null;
    return startSession(ctx, user, userAgent);
  },

  refresh: async (_parent, { refreshToken }, ctx) => {
    const claims = await verifyRefreshToken(ctx.auth.keys, ctx.auth.config, refreshToken);
    if (!claims) throw unauthenticated(INVALID_REFRESH_TOKEN);
    const tokenHash = sha256Hex(claims.jti);
    const outcome = await ctx.db.transaction().execute(async (trx) => {
      const claimed = await claimRefreshToken(trx, tokenHash);
      if (!claimed) {
        // Spent or revoked: someone replays it (a thief or the victim). Kill the whole family and its session.
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
      return { user, session: { id: session.id, expiresAt: session.expires_at, token: sessionToken }, next };
    });
    if (!outcome) throw unauthenticated(INVALID_REFRESH_TOKEN);
    return buildPayload(ctx, outcome.user, outcome.session, outcome.next);
  },

  logout: async (_parent, _args, ctx) => {
    const userId = requireUserId(ctx);
    const sessionId = callerSessionId(ctx);
    if (!sessionId) return false;
    const revoked = await ctx.db
      .transaction()
      .execute((trx) => revokeSessions(trx, userId, { sessionIds: [sessionId] }));
    return revoked > 0;
  },

  logoutEverywhere: async (_parent, _args, ctx) => {
    const userId = requireUserId(ctx);
    return ctx.db.transaction().execute((trx) => revokeSessions(trx, userId));
  },

  changePassword: async (_parent, { currentPassword, newPassword }, ctx) => {
    const userId = requireUserId(ctx);
    assertPasswordSize(currentPassword, 'currentPassword');
    validatePassword(newPassword, 'newPassword');
    if (newPassword === currentPassword)
      throw badUserInput('newPassword must differ from the current password', 'newPassword');
    const user = await findUserById(ctx.db, userId);
    if (!user?.is_active) throw unauthenticated();
    if (!(await ctx.auth.passwords.verify(user.password_hash, currentPassword))) {
      throw badUserInput('current password is incorrect', 'currentPassword');
    }
    const passwordHash = await ctx.auth.passwords.hash(newPassword);
    const currentSessionId = callerSessionId(ctx);
    await ctx.db.transaction().execute(async (trx) => {
      await updatePasswordHash(trx, userId, passwordHash);
      await revokeSessions(trx, userId, currentSessionId ? { exceptSessionId: currentSessionId } : {});
    });
    return true;
  },

  updatePreferences: async (_parent, { preferences }, ctx) => {
    const userId = requireUserId(ctx);
    const value = validatePreferences(preferences);
    if (!(await ctx.loaders.userById.load(userId))?.is_active) throw unauthenticated();
    const user = await updateUser(ctx.db, userId, { preferences: JSON.stringify(value) });
    if (!user) throw unauthenticated();
    ctx.loaders.userById.clear(userId);
    return toUser(user, ctx);
  },

  revokeSession: async (_parent, { id }, ctx) => {
    const userId = requireUserId(ctx);
    const sessionId = requireUuid(id, 'id');
    return ctx.db.transaction().execute(async (trx) => {
      const owned = await trx
        .selectFrom('sessions')
        .select('id')
        .where('id', '=', sessionId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (!owned) throw notFound('session not found');
      return (await revokeSessions(trx, userId, { sessionIds: [sessionId] })) > 0;
    });
  },
};
