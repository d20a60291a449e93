import { requireUserId } from '../context.ts';
import type { MutationResolvers, QueryResolvers } from '../generated/resolvers.ts';
import { listProviderKeys } from '../provider-keys.repository.ts';
import { removeProviderKey, setProviderKey } from '../provider-keys.service.ts';
import { toProviderKey } from './mappers.ts';

export const providerKeyQueries: QueryResolvers = {
  providerKeys: async (_parent, _args, ctx) => (await listProviderKeys(ctx.db, requireUserId(ctx))).map(toProviderKey),
};

export const providerKeyMutations: MutationResolvers = {
  setProviderKey: async (_parent, args, ctx) =>
    toProviderKey(await setProviderKey(ctx.db, ctx.auth.config.providerKeySecrets, requireUserId(ctx), args)),

  removeProviderKey: async (_parent, { provider }, ctx) => removeProviderKey(ctx.db, requireUserId(ctx), provider),
};
