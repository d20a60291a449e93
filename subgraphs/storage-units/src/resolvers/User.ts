import { decodeCursor, emptyConnection, encodeCursor, isUuid, toConnection } from '@supergraph/kit';
import type { UserResolvers } from '../generated/resolvers.ts';
import { requireFirst } from '../validation.ts';
import { toUnitRecord, type UnitRecordModel } from './mappers.ts';

/** `after` of `storedRecords`: the last record's `created_at` (microseconds kept) and id. */
interface RecordCursor {
  c: string;
  i: string;
}

function isRecordCursor(value: unknown): value is RecordCursor {
  if (typeof value !== 'object' || value === null) return false;
  const { c, i } = value as { c?: unknown; i?: unknown };
  return typeof c === 'string' && c.length <= 40 && !Number.isNaN(Date.parse(c)) && typeof i === 'string' && isUuid(i);
}

export const User: UserResolvers = {
  async storedRecords(user, args, { loaders }) {
    const first = requireFirst(args.first);
    const cursor = args.after ? decodeCursor(args.after, isRecordCursor) : null;
    // Users are keyed by UUID in auth; any other id simply has no records.
    if (!isUuid(user.id)) return { ...emptyConnection<UnitRecordModel>(), totalCount: 0 };
    const authorId = user.id.toLowerCase();
    const [rows, totalCount] = await Promise.all([
      loaders.recordsByAuthor.load({
        authorId,
        limit: first + 1,
        after: cursor ? { createdAt: cursor.c, id: cursor.i } : null,
      }),
      loaders.recordCountByAuthor.load(authorId),
    ]);
    const page = toConnection(rows, first, {
      cursorOf: (row) => encodeCursor({ c: row.created_at_key, i: row.id }),
      toNode: toUnitRecord,
      hasPrevious: cursor !== null,
    });
    return { ...page, totalCount };
  },
};
