import { sql, type Transaction } from 'kysely';
import { notFound } from '@supergraph/platform';
import type { ConversationDb, ConversationRow, DroidRow, MessageRow } from './conversation.table.ts';
import { touchOwnedConversation } from './conversations.repository.ts';
import { findDroidsByIds } from './droids.repository.ts';
import { insertMessages } from './messages.repository.ts';

/** What `sendMessage` stored in one transaction. */
export interface Exchange {
  conversation: ConversationRow;
  droid: DroidRow;
  /** The user's message, COMPLETE. */
  message: MessageRow;
  /** The droid's reply, STREAMING with a lease of `leaseSeconds`. */
  reply: MessageRow;
}

/**
 * Stores the user's message and the reply placeholder together, so the
 * message is never lost whatever happens to the generation, and moves the
 * conversation to the top of the owner's list. NOT_FOUND for a conversation
 * that is not the owner's (the same answer as for none at all).
 *
 * @example
 * const exchange = await db.transaction().execute((trx) => startExchange(trx, { conversationId, ownerId, content, leaseSeconds: 30 }));
 */
export async function startExchange(
  trx: Transaction<ConversationDb>,
  input: { conversationId: string; ownerId: string; content: string; leaseSeconds: number },
): Promise<Exchange> {
  const conversation = await touchOwnedConversation(trx, input.conversationId, input.ownerId);
  if (!conversation) throw notFound('No conversation with this id', { id: input.conversationId });
  const [droid] = await findDroidsByIds(trx, [conversation.droid_id]);
  if (!droid) throw notFound('No droid with this id', { id: conversation.droid_id });
  const [message, reply] = await insertMessages(trx, [
    {
      conversation_id: conversation.id,
      owner_id: input.ownerId,
      droid_id: null,
      role: 'USER',
      status: 'COMPLETE',
      content: input.content,
      failure_reason: null,
      lease_expires_at: null,
      completed_at: new Date(),
    },
    {
      conversation_id: conversation.id,
      owner_id: input.ownerId,
      droid_id: droid.id,
      role: 'ASSISTANT',
      status: 'STREAMING',
      failure_reason: null,
      lease_expires_at: sql<Date>`now() + make_interval(secs => ${input.leaseSeconds})`,
      completed_at: null,
    },
  ]);
  if (!message || !reply) throw new Error('insert returned no row');
  return { conversation, droid, message, reply };
}
