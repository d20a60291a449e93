import { sql, type InsertObject, type Kysely, type Transaction } from 'kysely';
import type { ConversationDb, MessageRow } from './conversation.table.ts';

/** Reads and writes of `conversation.messages`. */

export async function findMessagesByIds(db: Kysely<ConversationDb>, ids: readonly string[]): Promise<MessageRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('messages').selectAll().where('id', 'in', ids).execute();
}

export async function findMessage(db: Kysely<ConversationDb>, id: string): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The `limit` newest messages of a conversation older than `before` (a `position`), newest first. */
export async function listMessages(
  db: Kysely<ConversationDb>,
  conversationId: string,
  { limit, before }: { limit: number; before: string | null },
): Promise<MessageRow[]> {
  let query = db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId);
  if (before !== null) query = query.where('position', '<', before);
  return query.orderBy('position', 'desc').limit(limit).execute();
}

/** The replies of a conversation still being generated, oldest first (what a late joiner replays). */
export async function listStreamingMessages(db: Kysely<ConversationDb>, conversationId: string): Promise<MessageRow[]> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('status', '=', 'STREAMING')
    .orderBy('position', 'asc')
    .execute();
}

/** The last `limit` finished turns before `position`, oldest first: a responder's history. */
export async function listTurnsBefore(
  db: Kysely<ConversationDb>,
  conversationId: string,
  position: string,
  limit: number,
): Promise<MessageRow[]> {
  const rows = await db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('position', '<', position)
    .where('status', '=', 'COMPLETE')
    .orderBy('position', 'desc')
    .limit(limit)
    .execute();
  return rows.reverse();
}

/** Inserts messages in the order given (their `position`s follow it). */
export async function insertMessages(
  trx: Transaction<ConversationDb>,
  messages: readonly InsertObject<ConversationDb, 'messages'>[],
): Promise<MessageRow[]> {
  const rows: MessageRow[] = [];
  for (const message of messages) {
    rows.push(await trx.insertInto('messages').values(message).returningAll().executeTakeFirstOrThrow());
  }
  return rows;
}

/** Extends a streaming reply's lease; false when it is no longer streaming (finished or swept). */
export async function renewLease(db: Kysely<ConversationDb>, id: string, leaseSeconds: number): Promise<boolean> {
  const result = await db
    .updateTable('messages')
    .set({ lease_expires_at: sql<Date>`now() + make_interval(secs => ${leaseSeconds})` })
    .where('id', '=', id)
    .where('status', '=', 'STREAMING')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Stores what a streaming reply generated so far (a crash keeps it), renewing its lease. */
export async function saveProgress(
  db: Kysely<ConversationDb>,
  id: string,
  progress: { content: string; deltaCount: number; leaseSeconds: number },
): Promise<boolean> {
  const result = await db
    .updateTable('messages')
    .set({
      content: progress.content,
      delta_count: progress.deltaCount,
      lease_expires_at: sql<Date>`now() + make_interval(secs => ${progress.leaseSeconds})`,
    })
    .where('id', '=', id)
    .where('status', '=', 'STREAMING')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Stores what a streaming reply cites, before its first delta, so every event (and late joiner) sees them. */
export async function saveCitations(
  db: Kysely<ConversationDb>,
  id: string,
  cited: { citations: string[]; recordCitations: string[] },
): Promise<void> {
  await db
    .updateTable('messages')
    .set({ citations: cited.citations, record_citations: cited.recordCitations })
    .where('id', '=', id)
    .where('status', '=', 'STREAMING')
    .execute();
}

export interface FinishedReply {
  status: 'COMPLETE' | 'FAILED';
  content: string;
  deltaCount: number;
  failureReason: string | null;
  citations: string[];
  recordCitations: string[];
}

/** Finishes a streaming reply; undefined when it was no longer streaming (the sweeper got there first). */
export async function finishReply(
  db: Kysely<ConversationDb>,
  id: string,
  reply: FinishedReply,
): Promise<MessageRow | undefined> {
  return db
    .updateTable('messages')
    .set({
      status: reply.status,
      content: reply.content,
      delta_count: reply.deltaCount,
      failure_reason: reply.failureReason,
      citations: reply.citations,
      record_citations: reply.recordCitations,
      lease_expires_at: null,
      completed_at: new Date(),
    })
    .where('id', '=', id)
    .where('status', '=', 'STREAMING')
    .returningAll()
    .executeTakeFirst();
}

/** Fails every streaming reply whose lease ran out (its generator is gone), returning them. */
export async function failExpiredLeases(db: Kysely<ConversationDb>, reason: string): Promise<MessageRow[]> {
  return db
    .updateTable('messages')
    .set({ status: 'FAILED', failure_reason: reason, lease_expires_at: null, completed_at: new Date() })
    .where('status', '=', 'STREAMING')
    .where('lease_expires_at', '<', sql<Date>`now()`)
    .returningAll()
    .execute();
}
