import { requireUuid } from '@supergraph/kit';
import type { ApiKeyRow } from '../auth.table.ts';
import { listApiKeys } from '../api-keys.repository.ts';
import { createApiKey, regenerateApiKey, revokeOwnApiKey, type KeyRequester } from '../api-keys.service.ts';
import { recordAudit } from '../audit.service.ts';
import { requireUserId, type AuthContext } from '../context.ts';
import { announceRevocation } from '../revocations.service.ts';
import type { MutationResolvers, QueryResolvers } from '../generated/resolvers.ts';
import { toApiKey, toCreatedApiKey } from './mappers.ts';

/** The caller as a key requester: an API-key caller can hand out only its own key's scopes. */
function requesterOf(ctx: AuthContext): KeyRequester {
  return { userId: requireUserId(ctx), scopes: ctx.identity.scopes };
}

/** What the audit log keeps of a key: its id, name, public prefix and scopes, never the key. */
function keyDetails(row: ApiKeyRow): Record<string, string> {
  return { keyId: row.id, name: row.name, prefix: row.prefix, scopes: row.scopes.join(' ') };
}

export const apiKeyQueries: QueryResolvers = {
  apiKeys: async (_parent, _args, ctx) => (await listApiKeys(ctx.db, requireUserId(ctx))).map(toApiKey),
};

export const apiKeyMutations: MutationResolvers = {
  createApiKey: async (_parent, args, ctx) => {
    const requester = requesterOf(ctx);
    const issued = await ctx.db
      .transaction()
      .execute((trx) => createApiKey(trx, ctx.auth.config.scopes, requester, args));
    recordAudit(ctx, 'auth.api_key_created', { subjectId: requester.userId, details: keyDetails(issued.row) });
    return toCreatedApiKey(issued);
  },

  revokeApiKey: async (_parent, { id }, ctx) => {
    const userId = requireUserId(ctx);
    const revoked = await revokeOwnApiKey(ctx.db, userId, requireUuid(id, 'id'));
    await announceRevocation(ctx.auth, 'api-keys', userId);
    recordAudit(ctx, 'auth.api_key_revoked', { subjectId: userId, details: keyDetails(revoked) });
    return toApiKey(revoked);
  },

  regenerateApiKey: async (_parent, { id }, ctx) => {
    const requester = requesterOf(ctx);
    const keyId = requireUuid(id, 'id');
    const issued = await ctx.db
      .transaction()
      .execute((trx) => regenerateApiKey(trx, ctx.auth.config.scopes, requester, keyId));
    await announceRevocation(ctx.auth, 'api-keys', requester.userId);
    // Regenerating revokes the old key and issues a new one under the same name and scopes.
    recordAudit(ctx, 'auth.api_key_revoked', { subjectId: requester.userId, details: { keyId, regenerated: true } });
    recordAudit(ctx, 'auth.api_key_created', {
      subjectId: requester.userId,
      details: { ...keyDetails(issued.row), replacesKeyId: keyId },
    });
    return toCreatedApiKey(issued);
  },
};
