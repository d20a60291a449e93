import { recordAudit } from '../audit.service.ts';
import { requireUserId } from '../context.ts';
import type { MutationResolvers, QueryResolvers } from '../generated/resolvers.ts';
import { listProviderKeys } from '../provider-keys.repository.ts';
import { removeProviderKey, setProviderKey } from '../provider-keys.service.ts';
import { toProviderKey } from './mappers.ts';

export const providerKeyQueries: QueryResolvers = {
  providerKeys: async (_parent, _args, ctx) => (await listProviderKeys(ctx.db, requireUserId(ctx))).map(toProviderKey),
};

export const providerKeyMutations: MutationResolvers = {
  setProviderKey: async (_parent, args, ctx) => {
    const userId = requireUserId(ctx);
    const row = await setProviderKey(ctx.db, ctx.auth.config.providerKeySecrets, userId, args);
    // The provider only: not the key, not even its last four characters.
    recordAudit(ctx, 'auth.provider_key_set', { subjectId: userId, details: { provider: row.provider } });
    return toProviderKey(row);
  },

  removeProviderKey: async (_parent, { provider }, ctx) => {
    const userId = requireUserId(ctx);
    const removed = await removeProviderKey(ctx.db, userId, provider);
    if (removed) recordAudit(ctx, 'auth.provider_key_removed', { subjectId: userId, details: { provider } });
    return removed;
  },
};
