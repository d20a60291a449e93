import type { DroidResolvers } from '../generated/resolvers.ts';
import { ownedBy } from '../loaders.ts';
import { toDroid, toUserReference } from './mappers.ts';

export const Droid: DroidResolvers = {
  /** Null for someone else's droid: `_entities` reveals no more than `droid(id)`. */
  async __resolveReference(reference, ctx) {
    const row = ownedBy(await ctx.loaders.droidById.load(reference.id), ctx.identity.userId);
    return row ? toDroid(row) : null;
  },
  owner: (droid) => toUserReference(droid.ownerId),
};
