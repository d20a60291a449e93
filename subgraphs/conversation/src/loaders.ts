import DataLoader from 'dataloader';
import type { Kysely } from 'kysely';
import { isUuid } from '@supergraph/kit';
import type { ConversationDb, ConversationRow, DroidRow, MessageRow } from './conversation.table.ts';
import { findConversationsByIds } from './conversations.repository.ts';
import { findDroidsByIds } from './droids.repository.ts';
import { findMessagesByIds } from './messages.repository.ts';

/**
 * Rows by id, whoever owns them (null when absent or not a UUID): callers
 * check ownership with {@link ownedBy}, so `__resolveReference` and the
 * query fields answer null alike for someone else's row.
 */
export interface Loaders {
  droidById: DataLoader<string, DroidRow | null>;
  conversationById: DataLoader<string, ConversationRow | null>;
  messageById: DataLoader<string, MessageRow | null>;
}

function byIdLoader<TRow extends { id: string }>(
  find: (ids: readonly string[]) => Promise<TRow[]>,
): DataLoader<string, TRow | null> {
  return new DataLoader(async (ids) => {
    const valid = [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))];
    const rows = await find(valid);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
  });
}

/** Per-request loaders: created in the request context, never shared between requests. */
export function createLoaders(db: Kysely<ConversationDb>): Loaders {
  return {
    droidById: byIdLoader((ids) => findDroidsByIds(db, ids)),
    conversationById: byIdLoader((ids) => findConversationsByIds(db, ids)),
    messageById: byIdLoader((ids) => findMessagesByIds(db, ids)),
  };
}

/** The row when `userId` owns it, else null: nobody sees another user's droids, conversations or messages. */
export function ownedBy<TRow extends { owner_id: string }>(
  row: TRow | null | undefined,
  userId: string | null,
): TRow | null {
  return row && userId !== null && row.owner_id === userId.toLowerCase() ? row : null;
}
