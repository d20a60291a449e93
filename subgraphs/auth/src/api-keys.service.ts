import {
  badUserInput,
  conflict,
  forbidden,
  notFound,
  scopesForRoles,
  unauthenticated,
  type ScopeCatalog,
} from '@supergraph/platform';
import type { Kysely, Transaction } from 'kysely';
import { countActiveApiKeys, insertApiKey, lockOwnApiKey, revokeApiKey } from './api-keys.repository.ts';
import type { ApiKeyRow, AuthDb } from './auth.table.ts';
import { generateApiKey, sha256Hex } from './secrets.ts';
import { lockUser } from './users.repository.ts';
import { validateApiKeyName, validateApiKeyScopes } from './validation.ts';

export const MAX_ACTIVE_API_KEYS = 50;

/** Who asks for a key: the user, and the scopes this request carries (an API-key caller only its key's). */
export interface KeyRequester {
  userId: string;
  scopes: readonly string[];
}

/** A key just made: the full key exists only here, once; the row holds its hash. */
export interface IssuedApiKey {
  key: string;
  row: ApiKeyRow;
}

/**
 * Scopes the requester may hand to a key: what this request carries and what
 * the user's current role grants. Locks the user row, which serialises
 * concurrent creations so the per-user cap holds.
 */
async function grantableScopes(
  trx: Transaction<AuthDb>,
  catalog: ScopeCatalog,
  requester: KeyRequester,
): Promise<string[]> {
  const user = await lockUser(trx, requester.userId);
  if (!user?.is_active) throw unauthenticated();
  const roleScopes = scopesForRoles(catalog, [user.role]);
  return requester.scopes.filter((scope) => roleScopes.includes(scope));
}

async function issueKey(
  trx: Transaction<AuthDb>,
  userId: string,
  name: string,
  scopes: readonly string[],
): Promise<IssuedApiKey> {
  const { key, prefix } = generateApiKey();
  const row = await insertApiKey(trx, { userId, name, prefix, keyHash: sha256Hex(key), scopes });
  return { key, row };
}

/** A new key named `name` with `scopes` (a subset of what the requester may grant), at most {@link MAX_ACTIVE_API_KEYS} live per user. */
export async function createApiKey(
  trx: Transaction<AuthDb>,
  catalog: ScopeCatalog,
  requester: KeyRequester,
  { name, scopes }: { name: string; scopes: readonly string[] },
): Promise<IssuedApiKey> {
  const validName = validateApiKeyName(name);
  if (scopes.length === 0) throw badUserInput('scopes must not be empty', 'scopes');
  const validScopes = validateApiKeyScopes(scopes, await grantableScopes(trx, catalog, requester));
  if ((await countActiveApiKeys(trx, requester.userId)) >= MAX_ACTIVE_API_KEYS) {
    throw conflict(`at most ${MAX_ACTIVE_API_KEYS} active API keys per user; revoke one first`);
  }
  return issueKey(trx, requester.userId, validName, validScopes);
}

/** Revokes the requester's key and issues a new secret with the same name and scopes. */
export async function regenerateApiKey(
  trx: Transaction<AuthDb>,
  catalog: ScopeCatalog,
  requester: KeyRequester,
  keyId: string,
): Promise<IssuedApiKey> {
  const allowed = await grantableScopes(trx, catalog, requester);
  const old = await lockOwnApiKey(trx, requester.userId, keyId);
  if (!old) throw notFound('API key not found');
  if (old.revoked_at) throw badUserInput('API key is revoked', 'id');
  // Otherwise a narrow key could mint a fresh secret for a broader one.
  if (!old.scopes.every((scope) => allowed.includes(scope))) {
    throw forbidden('cannot regenerate a key with scopes this request does not hold');
  }
  await revokeApiKey(trx, requester.userId, keyId);
  return issueKey(trx, requester.userId, old.name, old.scopes);
}

/** Revokes one of the user's keys (idempotent); NOT_FOUND for a key that is not theirs. */
export async function revokeOwnApiKey(db: Kysely<AuthDb>, userId: string, keyId: string): Promise<ApiKeyRow> {
  const revoked = await revokeApiKey(db, userId, keyId);
  if (!revoked) throw notFound('API key not found');
  return revoked;
}
