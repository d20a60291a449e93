import { isUuid } from '@supergraph/kit';
import { HttpError, scopesForRoles, type Identity } from '@supergraph/platform';
import type { Kysely } from 'kysely';
import type { AuthDb } from './auth.table.ts';
import type { AuthRuntime } from './context.ts';
import { revealProviderKey } from './provider-keys.service.ts';
import { findActiveSession } from './sessions.repository.ts';
import { signDelegatedAccessToken } from './tokens.ts';
import { findUserById } from './users.repository.ts';

/** What a grant may read through the gateway, at most (further narrowed to what the user and the request hold). */
export const GRANT_SCOPES: readonly string[] = ['knowledge:read', 'storage:read'];
/** Long enough for one answer's retrievals, short enough that a leaked grant is soon useless. */
export const GRANT_TTL_SECONDS = 300;

/** What `/internal/grants` answers: a narrowed access token for the user, and their provider key if asked for. */
export interface Grant {
  accessToken: string;
  expiresAt: Date;
  providerKey: string | null;
}

export interface GrantRequest {
  /** The user as the gateway signed them into the internal token the asking subgraph received. */
  identity: Identity;
  /** The subgraph that presented that token (its audience): the token's `act.sub`. */
  actor: string;
  provider: string | null;
}

/**
 * Mints a grant for a user who is asking `actor` right now: the user must
 * still be active and, when the request came with a session, that session
 * still live (so logout and deactivation stop grants at once, not after the
 * internal token's minute). The token's scopes are {@link GRANT_SCOPES} ∩ the
 * request's scopes ∩ the user's current role's: an API key without
 * `knowledge:read` yields a grant without it.
 */
export async function issueGrant(db: Kysely<AuthDb>, runtime: AuthRuntime, request: GrantRequest): Promise<Grant> {
  const userId = request.identity.userId?.toLowerCase();
  if (!userId || !isUuid(userId)) throw new HttpError(401, 'UNAUTHENTICATED', 'A grant needs a signed-in user');
  const user = await findUserById(db, userId);
  if (!user) throw new HttpError(401, 'UNAUTHENTICATED', 'Unknown user');
  if (!user.is_active) throw new HttpError(403, 'FORBIDDEN', 'The user is deactivated');
  const sessionId = request.identity.sessionId?.toLowerCase();
  if (sessionId !== undefined) {
    if (!isUuid(sessionId) || !(await findActiveSession(db, sessionId, userId)))
      throw new HttpError(401, 'UNAUTHENTICATED', 'The session has ended');
  }
  const roleScopes = scopesForRoles(runtime.config.scopes, [user.role]);
  const scopes = GRANT_SCOPES.filter((scope) => request.identity.scopes.includes(scope) && roleScopes.includes(scope));
  const access = await signDelegatedAccessToken(runtime.keys, runtime.config, {
    userId,
    sessionId,
    tier: user.tier,
    scopes,
    actor: request.actor,
    lifetimeSeconds: GRANT_TTL_SECONDS,
  });
  const providerKey =
    request.provider === null
      ? null
      : await revealProviderKey(db, runtime.config.providerKeySecrets, userId, request.provider);
  return { accessToken: access.token, expiresAt: access.expiresAt, providerKey };
}
