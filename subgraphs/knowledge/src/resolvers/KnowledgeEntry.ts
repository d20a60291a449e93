import type { KnowledgeEntryResolvers } from '../generated/resolvers.ts';
import { toKnowledgeEntry, toUserReference } from './mappers.ts';

export const KnowledgeEntry: KnowledgeEntryResolvers = {
  async __resolveReference(reference, ctx) {
    const row = await ctx.loaders.entryById.load(reference.id);
    return row ? toKnowledgeEntry(row) : null;
  },
  /** A reference the gateway resolves in the auth subgraph; no query here. */
  author(entry) {
    return entry.authorId ? toUserReference(entry.authorId) : null;
  },
};
