import { decodeCursor, encodeCursor, isUuid, requireUuid } from '@supergraph/kit';
import type { StorageContext } from '../context.ts';
import type { PageInfo, UserResolvers, UserStoredRecordsArgs } from '../generated/resolvers.ts';
import { toUnitRecord, type UnitRecordModel } from '../models.ts';
import type { RecordKeyset } from '../storage.repository.ts';
import { requireFirst } from '../validation.ts';

/** `UnitRecordConnection` with its records as models. */
export interface RecordConnectionModel {
  edges: Array<{ cursor: string; node: UnitRecordModel }>;
  pageInfo: PageInfo;
  totalCount: number;
}

function isKeyset(value: unknown): value is { c: string; i: string } {
  if (typeof value !== 'object' || value === null) return false;
  const { c, i } = value as { c?: unknown; i?: unknown };
  return typeof c === 'string' && c.length <= 40 && !Number.isNaN(Date.parse(c)) && typeof i === 'string' && isUuid(i);
}

export const User: UserResolvers = {
  async storedRecords(
    user: { id: string },
    args: UserStoredRecordsArgs,
    { loaders }: StorageContext,
  ): Promise<RecordConnectionModel> {
    const first = requireFirst(args.first);
    const after: RecordKeyset | null = args.after
      ? (({ c, i }) => ({ createdAt: c, id: i }))(decodeCursor(args.after, isKeyset))
      : null;
    // Users are keyed by UUID in auth; any other id simply has no records.
    if (!isUuid(user.id)) {
      return {
        edges: [],
        pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
        totalCount: 0,
      };
    }
    const authorId = requireUuid(user.id, 'id');
    const [rows, totalCount] = await Promise.all([
      loaders.recordsByAuthor.load({ authorId, limit: first + 1, after }),
      loaders.recordCountByAuthor.load(authorId),
    ]);
    const page = rows.slice(0, first);
    const edges = page.map((row) => ({
      cursor: encodeCursor({ c: row.created_at_key, i: row.id }),
      node: toUnitRecord(row),
    }));
    const pageInfo: PageInfo = {
      hasNextPage: rows.length > first,
      hasPreviousPage: after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    };
    return { edges, pageInfo, totalCount };
  },
};
