import { resolveCredential } from '../credentials.service.ts';
import type { QueryResolvers } from '../generated/resolvers.ts';
import { toResolvedCredential } from './mappers.ts';

export const internalQueries: QueryResolvers = {
  /** The gateway's lookup for `X-API-Key` / `X-Session-Token`; null for anything that does not stand for an active user. */
  resolveCredential: async (_parent, args, ctx) => {
    const credential = await resolveCredential(ctx.db, ctx.auth.config.scopes, args);
    return credential ? toResolvedCredential(credential) : null;
  },
};
