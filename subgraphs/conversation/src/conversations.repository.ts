import { sql, type Kysely } from 'kysely';
import type { ConversationDb, ConversationRow } from './conversation.table.ts';

/** Reads and writes of `conversation.conversations`; owner-scoped calls filter by `owner_id`. */

export async function findConversationsByIds(
  db: Kysely<ConversationDb>,
  ids: readonly string[],
): Promise<ConversationRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('conversations').selectAll().where('id', 'in', ids).execute();
}

/** One page of an owner's conversations, most recently active first; `before` is an `activity` keyset. */
export async function listConversations(
  db: Kysely<ConversationDb>,
  ownerId: string,
  { limit, before }: { limit: number; before: string | null },
): Promise<ConversationRow[]> {
  let query = db.selectFrom('conversations').selectAll().where('owner_id', '=', ownerId);
  if (before !== null) query = query.where('activity', '<', before);
  return query.orderBy('activity', 'desc').limit(limit).execute();
}

export async function insertConversation(
  db: Kysely<ConversationDb>,
  values: { ownerId: string; droidId: string; title: string | null },
): Promise<ConversationRow> {
  return db
    .insertInto('conversations')
    .values({ owner_id: values.ownerId, droid_id: values.droidId, title: values.title })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Locks the owner's conversation for a new exchange and moves it to the top
 * of the list; undefined when it is not the owner's.
 */
export async function touchOwnedConversation(
  db: Kysely<ConversationDb>,
  id: string,
  ownerId: string,
): Promise<ConversationRow | undefined> {
  return db
    .updateTable('conversations')
    .set({ activity: sql<string>`nextval('conversation.activity_seq')`, updated_at: new Date() })
    .where('id', '=', id)
    .where('owner_id', '=', ownerId)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteOwnedConversation(
  db: Kysely<ConversationDb>,
  id: string,
  ownerId: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('conversations')
    .where('id', '=', id)
    .where('owner_id', '=', ownerId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
