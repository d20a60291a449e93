import { badUserInput, scopesForRoles, type Role } from '@supergraph/platform';
import { findActiveApiKeyByHash, touchApiKey } from '../api-keys.repository.ts';
import type { QueryResolvers, ResolvedCredential } from '../generated/resolvers.ts';
import { looksLikeApiKey, looksLikeSessionToken, sha256Hex } from '../secrets.ts';
import { findActiveSessionByTokenHash, touchSession } from '../sessions.repository.ts';

const MINUTE_MS = 60_000;

/**
 * The gateway's lookup for `X-API-Key` / `X-Session-Token`. Null for anything
 * unknown, revoked, expired or belonging to a deactivated user.
 */
const resolveCredential: QueryResolvers['resolveCredential'] = async (
  _parent,
  { apiKey, sessionToken },
  ctx,
): Promise<ResolvedCredential | null> => {
  const hasApiKey = typeof apiKey === 'string';
  const hasSessionToken = typeof sessionToken === 'string';
  if (hasApiKey === hasSessionToken) throw badUserInput('pass exactly one of apiKey and sessionToken', 'apiKey');

  if (hasApiKey) {
    if (!looksLikeApiKey(apiKey)) return null;
    const key = await findActiveApiKeyByHash(ctx.db, sha256Hex(apiKey));
    if (!key) return null;
    if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() >= MINUTE_MS) await touchApiKey(ctx.db, key.keyId);
    // A key never outgrows its owner: a demoted admin's admin-scoped key loses those scopes at once.
    const roleScopes = scopesForRoles(ctx.auth.config.scopes, [key.role]);
    const scopes = key.scopes.filter((scope) => roleScopes.includes(scope));
    const roles: Role[] = key.role === 'admin' && !scopes.includes('admin') ? ['user'] : [key.role];
    return { userId: key.userId, roles, scopes, tier: key.tier, sessionId: null };
  }

  if (!looksLikeSessionToken(sessionToken as string)) return null;
  const session = await findActiveSessionByTokenHash(ctx.db, sha256Hex(sessionToken as string));
  if (!session) return null;
  await touchSession(ctx.db, session.sessionId);
  return {
    userId: session.userId,
    roles: [session.role],
    scopes: scopesForRoles(ctx.auth.config.scopes, [session.role]),
    tier: session.tier,
    sessionId: session.sessionId,
  };
};

export const internalQueries: QueryResolvers = { resolveCredential };
