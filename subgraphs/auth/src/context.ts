import { isUuid, type SubgraphContext } from '@supergraph/kit';
import { unauthenticated, type AuditLog, type RevocationPublisher } from '@supergraph/platform';
import type { Kysely } from 'kysely';
import type { AuthDb } from './auth.table.ts';
import type { AuthConfig } from './config.ts';
import type { AuthLoaders } from './loaders.ts';
import type { PasswordHasher } from './passwords.ts';
import type { SigningKeyRing } from './tokens.ts';

/** Built once per server: config, imported keys and the password hasher. */
export interface AuthRuntime {
  config: AuthConfig;
  keys: SigningKeyRing;
  passwords: PasswordHasher;
  /** Tells every gateway about logouts, deactivations and changes that outdate issued tokens. */
  revocations: RevocationPublisher;
  /** Security events (logins, password and key changes, admin changes) for the operations subgraph's audit log. */
  audit: AuditLog;
}

export interface AuthContext extends SubgraphContext {
  db: Kysely<AuthDb>;
  loaders: AuthLoaders;
  auth: AuthRuntime;
  /** Users who proved who they are in this request (login, refresh): they see their own private fields in the payload. */
  provenUserIds: Set<string>;
}

/**
 * The caller's user id. UNAUTHENTICATED for anonymous callers and for
 * identities that are not users (`system:gateway`), which have no rows here.
 */
export function requireUserId(ctx: AuthContext): string {
  const userId = ctx.identity.userId;
  if (!userId || !isUuid(userId)) throw unauthenticated();
  return userId.toLowerCase();
}

/**
 * Whether the caller may see private fields of user `userId`: themself
 * holding `profile:read` (a knowledge-only API key or a conversation grant
 * does not read the profile), an admin by scope (an API key without `admin`
 * is not), or a user who proved who they are in this request.
 */
export function canSeePrivateFields(ctx: AuthContext, userId: string): boolean {
  return (
    (ctx.identity.userId?.toLowerCase() === userId && ctx.identity.scopes.includes('profile:read')) ||
    ctx.identity.scopes.includes('admin') ||
    ctx.provenUserIds.has(userId)
  );
}

/** The caller's session id when it is one (JWT `sid` or session token). */
export function callerSessionId(ctx: AuthContext): string | undefined {
  const sessionId = ctx.identity.sessionId;
  return sessionId && isUuid(sessionId) ? sessionId.toLowerCase() : undefined;
}
