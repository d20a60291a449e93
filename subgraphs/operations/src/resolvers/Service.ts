import type { ServiceResolvers } from '../generated/resolvers.ts';
import { toServiceHealth } from './mappers.ts';

export const Service: ServiceResolvers = {
  /** Checked now, like `Query.service`; null for a name operations does not watch. */
  async __resolveReference(reference, ctx) {
    const target = ctx.system.targets.find((candidate) => candidate.name === reference.name);
    if (!target) return null;
    const [report] = await ctx.system.health.checkAll([target]);
    return report ?? null;
  },
  health: (service) => toServiceHealth(service),
};
