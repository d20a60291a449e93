import { requireUuid } from '@supergraph/kit';
import {
  createAccount,
  preparePasswordChange,
  prepareRegistration,
  replacePassword,
  updatePreferences,
} from '../accounts.service.ts';
import { recordAudit } from '../audit.service.ts';
import { callerSessionId, requireUserId } from '../context.ts';
import type { MutationResolvers, QueryResolvers } from '../generated/resolvers.ts';
import { announceRevocation } from '../revocations.service.ts';
import { listActiveSessions } from '../sessions.repository.ts';
import {
  authenticate,
  invalidRefreshToken,
  logout,
  logoutEverywhere,
  revokeOwnSession,
  rotateRefreshToken,
  startSession,
  verifyRefreshClaims,
} from '../sessions.service.ts';
import { toAuthPayload, toSession, toUser } from './mappers.ts';

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
    const registration = await prepareRegistration(ctx.db, ctx.auth.passwords, input);
    const user = await ctx.db
      .transaction()
      .execute((trx) => createAccount(trx, registration, ctx.auth.config.bootstrapAdmin));
    recordAudit(ctx, 'auth.registered', {
      actorId: user.id,
      subjectId: user.id,
      details: { username: user.username, role: user.role },
    });
    return toUser(user, ctx);
  },

  login: async (_parent, { input }, ctx) => {
    const user = await authenticate(ctx.db, ctx.auth.passwords, input).catch((error: unknown) => {
      // The attempted login name only (not a secret; it shows guessing): never the password.
      recordAudit(ctx, 'auth.login_failed', {
        subjectId: null,
        outcome: 'failure',
        details: { username: input.usernameOrEmail.trim().slice(0, 254) },
      });
      throw error;
    });
    const issued = await ctx.db.transaction().execute((trx) => startSession(trx, ctx.auth, user, input.userAgent));
    recordAudit(ctx, 'auth.login', { actorId: user.id, subjectId: user.id, details: { username: user.username } });
    // The caller just proved who they are: the payload shows them their own private fields.
    ctx.provenUserIds.add(user.id);
    return toAuthPayload(issued, ctx);
  },

  refresh: async (_parent, { refreshToken }, ctx) => {
    const claims = await verifyRefreshClaims(ctx.auth, refreshToken);
    const issued = await ctx.db.transaction().execute((trx) => rotateRefreshToken(trx, ctx.auth, claims));
    // Thrown after the transaction, so a detected replay's revocation commits.
    if (!issued) throw invalidRefreshToken();
    ctx.provenUserIds.add(issued.user.id);
    return toAuthPayload(issued, ctx);
  },

  logout: async (_parent, _args, ctx) => {
    const userId = requireUserId(ctx);
    const sessionId = callerSessionId(ctx);
    const wasLive = await ctx.db.transaction().execute((trx) => logout(trx, userId, sessionId));
    if (sessionId) await announceRevocation(ctx.auth, 'session', sessionId);
    recordAudit(ctx, 'auth.logout', { subjectId: userId, details: { sessionId: sessionId ?? null, wasLive } });
    return wasLive;
  },

  logoutEverywhere: async (_parent, _args, ctx) => {
    const userId = requireUserId(ctx);
    const ended = await ctx.db.transaction().execute((trx) => logoutEverywhere(trx, userId));
    await announceRevocation(ctx.auth, 'user', userId);
    recordAudit(ctx, 'auth.logout_everywhere', { subjectId: userId, details: { sessionsEnded: ended } });
    return ended;
  },

  changePassword: async (_parent, args, ctx) => {
    const userId = requireUserId(ctx);
    const passwordHash = await preparePasswordChange(ctx.db, ctx.auth.passwords, userId, args);
    const currentSessionId = callerSessionId(ctx);
    await ctx.db.transaction().execute((trx) => replacePassword(trx, userId, passwordHash, currentSessionId));
    // Every access token of the user, the caller's too: the caller's session survives, so it refreshes.
    await announceRevocation(ctx.auth, 'user', userId);
    recordAudit(ctx, 'auth.password_changed', { subjectId: userId });
    return true;
  },

  updatePreferences: async (_parent, { preferences }, ctx) => {
    const userId = requireUserId(ctx);
    const user = await updatePreferences(ctx.db, userId, preferences);
    ctx.loaders.userById.clear(userId);
    return toUser(user, ctx);
  },

  revokeSession: async (_parent, { id }, ctx) => {
    const userId = requireUserId(ctx);
    const sessionId = requireUuid(id, 'id');
    const wasLive = await ctx.db.transaction().execute((trx) => revokeOwnSession(trx, userId, sessionId));
    await announceRevocation(ctx.auth, 'session', sessionId);
    // One session ended by its owner from the session list: a logout of that session.
    recordAudit(ctx, 'auth.logout', { subjectId: userId, details: { sessionId, wasLive, revokedFromList: true } });
    return wasLive;
  },
};
