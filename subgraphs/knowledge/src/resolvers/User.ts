import { decodeCursor, emptyConnection, encodeCursor, isUuid, toConnection } from '@supergraph/kit';
import type { UserResolvers } from '../generated/resolvers.ts';
import { validateFirst } from '../validation.ts';
import { toKnowledgeEntry, toUserReference } from './mappers.ts';

/** Keyset cursor of an author's entries: `created_at` at full precision (`c`) and id (`i`). */
interface AuthorCursor {
  c: string;
  i: string;
}

function isAuthorCursor(value: unknown): value is AuthorCursor {
  if (typeof value !== 'object' || value === null || !('c' in value) || !('i' in value)) return false;
  const { c, i } = value;
  return typeof c === 'string' && !Number.isNaN(Date.parse(c)) && typeof i === 'string' && isUuid(i);
}

export const User: UserResolvers = {
  /** Knowledge keeps no user data: any id is a user whose entries may be listed. */
  __resolveReference(reference) {
    return toUserReference(reference.id);
  },
  async knowledgeEntries(user, args, ctx) {
    const first = validateFirst(args.first);
    const cursor = args.after ? decodeCursor(args.after, isAuthorCursor) : null;
    if (!isUuid(user.id)) return emptyConnection();
    const rows = await ctx.loaders.entriesByAuthor.load({
      authorId: user.id.toLowerCase(),
      limit: first + 1,
      after: cursor ? { createdAt: cursor.c, id: cursor.i } : null,
    });
    for (const row of rows) ctx.loaders.entryById.prime(row.id, row);
    return toConnection(rows, first, {
      cursorOf: (row) => encodeCursor({ c: row.cursor_created_at, i: row.id }),
      toNode: toKnowledgeEntry,
      hasPrevious: cursor !== null,
    });
  },
};
