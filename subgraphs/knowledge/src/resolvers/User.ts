import { decodeCursor, encodeCursor, isUuid, type PageInfo } from '@supergraph/kit';
import type { UserResolvers } from '../generated/resolvers.ts';
import { validateFirst } from '../validation.ts';
import { toKnowledgeEntry, type KnowledgeEntryModel } from './mappers.ts';

interface AuthorCursor {
  c: string;
  i: string;
}

const isAuthorCursor = (value: unknown): value is AuthorCursor =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as AuthorCursor).c === 'string' &&
  !Number.isNaN(Date.parse((value as AuthorCursor).c)) &&
  typeof (value as AuthorCursor).i === 'string' &&
  isUuid((value as AuthorCursor).i);

export interface EntryConnection {
  edges: Array<{ cursor: string; node: KnowledgeEntryModel }>;
  pageInfo: PageInfo;
}

const EMPTY: EntryConnection = {
  edges: [],
  pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
};

export const User: UserResolvers = {
  /** Knowledge keeps no user data: any id is a user whose entries may be listed. */
  __resolveReference(reference) {
    return { id: reference.id };
  },
  async knowledgeEntries(user, args, ctx): Promise<EntryConnection> {
    const first = validateFirst(args.first);
    const cursor = args.after ? decodeCursor(args.after, isAuthorCursor) : null;
    if (!isUuid(user.id)) return EMPTY;
    const rows = await ctx.loaders.entriesByAuthor.load({
      authorId: user.id.toLowerCase(),
      limit: first + 1,
      after: cursor ? { createdAt: cursor.c, id: cursor.i } : null,
    });
    const page = rows.slice(0, first);
    for (const row of page) ctx.loaders.entryById.prime(row.id, row);
    const edges = page.map((row) => ({
      cursor: encodeCursor({ c: row.cursor_created_at, i: row.id }),
      node: toKnowledgeEntry(row),
    }));
    return {
      edges,
      pageInfo: {
        hasNextPage: rows.length > first,
        hasPreviousPage: cursor !== null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  },
};
