import { requireUuid } from '@supergraph/kit';
import { badUserInput, conflict, forbidden, notFound, scopesForRoles, unauthenticated } from '@supergraph/platform';
import type { Transaction } from 'kysely';
import { countActiveApiKeys, insertApiKey, listApiKeys, lockOwnApiKey, revokeApiKey } from '../api-keys.repository.ts';
import type { AuthDb } from '../auth.table.ts';
import { requireUserId, type AuthContext } from '../context.ts';
import type { CreatedApiKey, MutationResolvers, QueryResolvers } from '../generated/resolvers.ts';
import { generateApiKey, sha256Hex } from '../secrets.ts';
import { lockUser } from '../users.repository.ts';
import { validateApiKeyName, validateApiKeyScopes } from '../validation.ts';
import { toApiKey } from './mappers.ts';

export const MAX_ACTIVE_API_KEYS = 50;

/**
 * Scopes the caller may hand to a key: what this request carries (an API-key
 * caller only its key's scopes) and what the user's current role grants.
 */
async function grantableScopes(trx: Transaction<AuthDb>, ctx: AuthContext, userId: string): Promise<string[]> {
  const user = await lockUser(trx, userId);
  if (!user?.is_active) throw unauthenticated();
  const roleScopes = scopesForRoles(ctx.auth.config.scopes, [user.role]);
  return ctx.identity.scopes.filter((scope) => roleScopes.includes(scope));
}

async function issueKey(
  trx: Transaction<AuthDb>,
  userId: string,
  name: string,
  scopes: readonly string[],
): Promise<CreatedApiKey> {
  const { key, prefix } = generateApiKey();
  const apiKey = await insertApiKey(trx, { userId, name, prefix, keyHash: sha256Hex(key), scopes });
  return { key, apiKey: toApiKey(apiKey) };
}

export const apiKeyQueries: QueryResolvers = {
  apiKeys: async (_parent, _args, ctx) => (await listApiKeys(ctx.db, requireUserId(ctx))).map(toApiKey),
};

export const apiKeyMutations: MutationResolvers = {
  createApiKey: async (_parent, args, ctx) => {
    const userId = requireUserId(ctx);
    const name = validateApiKeyName(args.name);
    if (args.scopes.length === 0) throw badUserInput('scopes must not be empty', 'scopes');
    return ctx.db.transaction().execute(async (trx) => {
      // lockUser (inside grantableScopes) serialises concurrent creations, so the cap holds.
      const scopes = validateApiKeyScopes(args.scopes, await grantableScopes(trx, ctx, userId));
      if ((await countActiveApiKeys(trx, userId)) >= MAX_ACTIVE_API_KEYS) {
        throw conflict(`at most ${MAX_ACTIVE_API_KEYS} active API keys per user; revoke one first`);
      }
      return issueKey(trx, userId, name, scopes);
    });
  },

  revokeApiKey: async (_parent, { id }, ctx) => {
    const userId = requireUserId(ctx);
    const keyId = requireUuid(id, 'id');
    const revoked = await revokeApiKey(ctx.db, userId, keyId);
    if (!revoked) throw notFound('API key not found');
    return toApiKey(revoked);
  },

  regenerateApiKey: async (_parent, { id }, ctx) => {
    const userId = requireUserId(ctx);
    const keyId = requireUuid(id, 'id');
    return ctx.db.transaction().execute(async (trx) => {
      const allowed = await grantableScopes(trx, ctx, userId);
      const old = await lockOwnApiKey(trx, userId, keyId);
      if (!old) throw notFound('API key not found');
      if (old.revoked_at) throw badUserInput('API key is revoked', 'id');
      // Otherwise a narrow key could mint a fresh secret for a broader one.
      if (!old.scopes.every((scope) => allowed.includes(scope))) {
        throw forbidden('cannot regenerate a key with scopes this request does not hold');
      }
      await revokeApiKey(trx, userId, keyId);
      return issueKey(trx, userId, old.name, old.scopes);
    });
  },
};
