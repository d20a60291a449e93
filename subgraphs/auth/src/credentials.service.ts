import { badUserInput, scopesForRoles, type Role, type ScopeCatalog, type Tier } from '@supergraph/platform';
import type { Kysely } from 'kysely';
import { findActiveApiKeyByHash, touchApiKey } from './api-keys.repository.ts';
import type { AuthDb } from './auth.table.ts';
import { looksLikeApiKey, looksLikeSessionToken, sha256Hex } from './secrets.ts';
import { findActiveSessionByTokenHash, touchSession } from './sessions.repository.ts';

const MINUTE_MS = 60_000;

/** Who a presented API key or session token stands for, as the gateway builds its identity. */
export interface Credential {
  userId: string;
  roles: Role[];
  scopes: string[];
  tier: Tier;
  sessionId: string | null;
}

/**
 * The gateway's lookup for `X-API-Key` / `X-Session-Token` (exactly one).
 * Null for anything unknown, revoked, expired or belonging to a deactivated
 * user. Records use at most once a minute.
 */
export async function resolveCredential(
  db: Kysely<AuthDb>,
  catalog: ScopeCatalog,
  presented: { apiKey?: string | null | undefined; sessionToken?: string | null | undefined },
): Promise<Credential | null> {
  const { apiKey, sessionToken } = presented;
  if (typeof apiKey === 'string' && typeof sessionToken !== 'string') return resolveApiKey(db, catalog, apiKey);
  if (typeof sessionToken === 'string' && typeof apiKey !== 'string')
    return resolveSessionToken(db, catalog, sessionToken);
  throw badUserInput('pass exactly one of apiKey and sessionToken', 'apiKey');
}

async function resolveApiKey(db: Kysely<AuthDb>, catalog: ScopeCatalog, apiKey: string): Promise<Credential | null> {
  if (!looksLikeApiKey(apiKey)) return null;
  const key = await findActiveApiKeyByHash(db, sha256Hex(apiKey));
  if (!key) return null;
  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() >= MINUTE_MS) await touchApiKey(db, key.keyId);
  // A key never outgrows its owner: a demoted admin's admin-scoped key loses those scopes at once.
  const roleScopes = scopesForRoles(catalog, [key.role]);
  const scopes = key.scopes.filter((scope) => roleScopes.includes(scope));
  const roles: Role[] = key.role === 'admin' && !scopes.includes('admin') ? ['user'] : [key.role];
  return { userId: key.userId, roles, scopes, tier: key.tier, sessionId: null };
}

async function resolveSessionToken(
  db: Kysely<AuthDb>,
  catalog: ScopeCatalog,
  sessionToken: string,
): Promise<Credential | null> {
  if (!looksLikeSessionToken(sessionToken)) return null;
  const session = await findActiveSessionByTokenHash(db, sha256Hex(sessionToken));
  if (!session) return null;
  await touchSession(db, session.sessionId);
  return {
    userId: session.userId,
    roles: [session.role],
    scopes: scopesForRoles(catalog, [session.role]),
    tier: session.tier,
    sessionId: session.sessionId,
  };
}
