import { requireUuid } from '@supergraph/kit';
import { notFound } from '@supergraph/platform';
import type {
  SubscriptionConversationEventsArgs,
  SubscriptionReplyStreamArgs,
  SubscriptionSubscriberObject,
} from '../generated/resolvers.ts';
import { ownedBy } from '../loaders.ts';
import { findConversationsByIds } from '../conversations.repository.ts';
import { findMessage } from '../messages.repository.ts';
import { followConversation, followReply } from '../streaming/subscribe.ts';
import type { ConversationContext } from '../context.ts';
import type { StreamSources } from '../streaming/subscribe.ts';
import type { MessageEventModel } from './mappers.ts';
import { requireOwner } from './owner.ts';

function sourcesOf(ctx: ConversationContext): StreamSources {
  return { db: ctx.db, redis: ctx.redis, hub: ctx.hub, keys: ctx.streams };
}

/**
 * Subscribing to someone else's message or conversation answers NOT_FOUND,
 * exactly like one that does not exist (queries answer null for both; a
 * subscription must either stream or fail), so ids of other users' data
 * cannot be probed.
 */
/**
 * A subscription field's `subscribe` (payload `{ [field]: event }`). Codegen's
 * federation mode types `Subscription` fields as plain resolvers, so this
 * names the subscriber shape it also generates.
 */
type Follow<TField extends string, TArgs> = SubscriptionSubscriberObject<
  MessageEventModel,
  TField,
  object,
  ConversationContext,
  TArgs
>;

export const Subscription: {
  replyStream: Follow<'replyStream', SubscriptionReplyStreamArgs>;
  conversationEvents: Follow<'conversationEvents', SubscriptionConversationEventsArgs>;
} = {
  replyStream: {
    async subscribe(_, args, ctx) {
      const id = requireUuid(args.messageId, 'messageId');
      const row = ownedBy(await findMessage(ctx.db, id), requireOwner(ctx.identity));
      if (!row) throw notFound('No message with this id', { id });
      return followReply(sourcesOf(ctx), id, (event) => ({ replyStream: event }));
    },
  },
  conversationEvents: {
    async subscribe(_, args, ctx) {
      const id = requireUuid(args.conversationId, 'conversationId');
      const [found] = await findConversationsByIds(ctx.db, [id]);
      if (!ownedBy(found, requireOwner(ctx.identity))) throw notFound('No conversation with this id', { id });
      return followConversation(sourcesOf(ctx), id, (event) => ({ conversationEvents: event }));
    },
  },
};
