import type { Kysely, Updateable } from 'kysely';
import type { ConversationDb, DroidRow, DroidsTable, NewDroid } from './conversation.table.ts';

/** Reads and writes of `conversation.droids`; every owner-scoped call filters by `owner_id`. */

export async function findDroidsByIds(db: Kysely<ConversationDb>, ids: readonly string[]): Promise<DroidRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('droids').selectAll().where('id', 'in', ids).execute();
}

/** One page of an owner's droids, newest first; `before` is a `position` keyset. */
export async function listDroids(
  db: Kysely<ConversationDb>,
  ownerId: string,
  { limit, before }: { limit: number; before: string | null },
): Promise<DroidRow[]> {
  let query = db.selectFrom('droids').selectAll().where('owner_id', '=', ownerId);
  if (before !== null) query = query.where('position', '<', before);
  return query.orderBy('position', 'desc').limit(limit).execute();
}

export async function insertDroid(db: Kysely<ConversationDb>, droid: NewDroid): Promise<DroidRow> {
  return db.insertInto('droids').values(droid).returningAll().executeTakeFirstOrThrow();
}

/** Applies `patch` when the droid is the owner's; undefined otherwise. */
export async function updateOwnedDroid(
  db: Kysely<ConversationDb>,
  id: string,
  ownerId: string,
  patch: Updateable<DroidsTable>,
): Promise<DroidRow | undefined> {
  return db
    .updateTable('droids')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .where('owner_id', '=', ownerId)
    .returningAll()
    .executeTakeFirst();
}

/** Deletes the owner's droid (its conversations and messages cascade); whether one was deleted. */
export async function deleteOwnedDroid(db: Kysely<ConversationDb>, id: string, ownerId: string): Promise<boolean> {
  const result = await db.deleteFrom('droids').where('id', '=', id).where('owner_id', '=', ownerId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
