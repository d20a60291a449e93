import type { Kysely } from 'kysely';
import type { SubgraphContext } from '@supergraph/kit';
import type { Redis } from '@supergraph/platform';
import type { ConversationDb } from './conversation.table.ts';
import type { ReplyEngine } from './generation/engine.ts';
import type { Loaders } from './loaders.ts';
import type { ResponseCache } from './response-cache.ts';
import type { EventHub } from './streaming/hub.ts';
import type { StreamKeys } from './streaming/events.ts';

export interface ConversationContext extends SubgraphContext {
  db: Kysely<ConversationDb>;
  loaders: Loaders;
  redis: Redis;
  /** This process' Redis subscriber: every subscription listens through it. */
  hub: EventHub;
  /** Reads of the streams' Redis lists (history on subscribe). */
  streams: StreamKeys;
  engine: ReplyEngine;
  responseCache: ResponseCache;
}
