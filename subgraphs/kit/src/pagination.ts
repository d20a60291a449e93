import { badUserInput } from '@supergraph/platform';

/** Relay `PageInfo`. */
export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

/** Opaque cursor: base64url of a JSON value (an offset, or a keyset tuple). */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; BAD_USER_INPUT for anything else. */
export function decodeCursor<T>(cursor: string, isValid: (value: unknown) => value is T, field = 'after'): T {
  if (cursor.length > 512) throw badUserInput(`${field} is not a valid cursor`, field);
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isValid(value)) return value;
  } catch {
    // fall through to the error below
  }
  throw badUserInput(`${field} is not a valid cursor`, field);
}

/** Offset cursors for ranked results (rank order has no stable keyset). */
export function decodeOffsetCursor(cursor: string | null | undefined, field = 'after'): number {
  if (cursor === null || cursor === undefined) return 0;
  const isOffset = (value: unknown): value is { o: number } =>
    typeof value === 'object' &&
    value !== null &&
    Number.isInteger((value as { o?: unknown }).o) &&
    (value as { o: number }).o >= 0;
  return decodeCursor(cursor, isOffset, field).o + 1;
}

export function offsetCursor(index: number): string {
  return encodeCursor({ o: index });
}

/** A Relay connection page. */
export interface Connection<TNode> {
  edges: Array<{ cursor: string; node: TNode }>;
  pageInfo: PageInfo;
}

/** The page of a connection with nothing on it. */
export function emptyConnection<TNode>(): Connection<TNode> {
  return { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } };
}

/**
 * Builds a forward page from rows fetched with one extra (`limit first + 1`):
 * the extra row only says there is a next page. `cursorOf` makes each row's
 * cursor (a keyset tuple through {@link encodeCursor}, or {@link offsetCursor});
 * `hasPreviousPage` is whether the caller passed `after`.
 *
 * @example
 * const rows = await listUsers(db, { after, limit: first + 1 });
 * return toConnection(rows, first, { cursorOf: (row) => encodeCursor([row.created_at, row.id]), hasPrevious: !!after, toNode: toUser });
 */
export function toConnection<TRow, TNode>(
  rows: readonly TRow[],
  first: number,
  options: { cursorOf: (row: TRow, index: number) => string; toNode: (row: TRow) => TNode; hasPrevious?: boolean },
): Connection<TNode> {
  const edges = rows
    .slice(0, first)
    .map((row, index) => ({ cursor: options.cursorOf(row, index), node: options.toNode(row) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: options.hasPrevious ?? false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
