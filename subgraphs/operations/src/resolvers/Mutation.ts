import type { MutationResolvers } from '../generated/resolvers.ts';
import { updateSetting } from '../settings.service.ts';
import { toSettings } from './mappers.ts';

export const Mutation: MutationResolvers = {
  async updateSetting(_, { key, value }, ctx) {
    const snapshot = await updateSetting(
      { db: ctx.db, redis: ctx.redis, prefix: ctx.redisPrefix, audit: ctx.audit },
      { key, value, actorId: ctx.identity.userId, ip: ctx.identity.clientIp ?? null },
    );
    return toSettings(snapshot);
  },
};
