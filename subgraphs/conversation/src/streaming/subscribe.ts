import type { Kysely } from 'kysely';
import type { Redis } from '@supergraph/platform';
import type { ConversationDb } from '../conversation.table.ts';
import { findMessage, listStreamingMessages } from '../messages.repository.ts';
import { toMessage, type MessageEventModel, type MessageModel } from '../resolvers/mappers.ts';
import { EventQueue } from './event-queue.ts';
import { isFinal, parseStreamEvent, readStoredEvents, type StreamEvent, type StreamKeys } from './events.ts';
import type { EventHub } from './hub.ts';

/** What a subscription reads: PostgreSQL for rows, Redis for stored events, the hub for live ones. */
export interface StreamSources {
  db: Kysely<ConversationDb>;
  redis: Redis;
  hub: EventHub;
  keys: StreamKeys;
}

/**
 * One reply as a subscriber has seen it: the content so far and the last
 * sequence emitted, so an event that arrives both from history and live is
 * emitted once, in order.
 */
class ReplyView {
  base: MessageModel;
  content = '';
  lastSequence: number;
  finished = false;

  constructor(base: MessageModel, lastSequence: number) {
    this.base = base;
    this.lastSequence = lastSequence;
  }

  /** The event for `event`, or null when it was already emitted (or comes after the end). */
  async apply(event: StreamEvent, sources: StreamSources): Promise<MessageEventModel | null> {
    if (this.finished) return null;
    if (isFinal(event)) {
      // The row is updated before the final event is published: it holds the final message.
      const row = await findMessage(sources.db, event.messageId);
      this.finished = true;
      this.lastSequence = event.sequence;
      const message = row ? toMessage(row) : { ...this.base, content: this.content, status: event.kind as 'FAILED' };
      return { kind: event.kind, sequence: event.sequence, delta: null, message };
    }
    if (event.kind !== 'DELTA' || event.sequence <= this.lastSequence) return null;
    if (event.sequence === 1) {
      // The first delta carries the citations (stored just before it): a view read earlier learns them here.
      if (event.citations || event.recordCitations) {
        this.base = {
          ...this.base,
          citationIds: event.citations ?? this.base.citationIds,
          recordCitations: event.recordCitations ?? this.base.recordCitations,
        };
      } else if (this.base.citationIds.length === 0) {
        const row = await findMessage(sources.db, event.messageId);
        if (row) this.base = toMessage(row);
      }
    }
    this.lastSequence = event.sequence;
    this.content += event.delta ?? '';
    return {
      kind: 'DELTA',
      sequence: event.sequence,
      delta: event.delta,
      message: { ...this.base, status: 'STREAMING', content: this.content },
    };
  }
}

/** Where a subscription's events go: its queue, wrapped as the resolver's payload. */
interface Emitter {
  push(event: MessageEventModel): void;
  end(): void;
}

/**
 * Listens on `channel` first and buffers, then runs `replay` (history), then
 * hands buffered and live events to `handle` one at a time, in arrival
 * order. That order is what makes late joins exact: everything published
 * after the SUBSCRIBE is buffered, everything before it is in the history.
 */
async function followChannel<TPayload>(
  sources: StreamSources,
  wrap: (event: MessageEventModel) => TPayload,
  channel: string,
  filter: (event: StreamEvent) => boolean,
  replay: (emitter: Emitter) => Promise<void>,
  handle: (event: StreamEvent, emitter: Emitter) => Promise<void>,
): Promise<EventQueue<TPayload>> {
  let unlisten: () => void = () => {};
  const queue = new EventQueue<TPayload>(() => unlisten());
  const emitter: Emitter = { push: (event) => queue.push(wrap(event)), end: () => queue.end() };
  let chain = Promise.resolve();
  const buffered: StreamEvent[] = [];
  let isLive = false;
  const enqueue = (event: StreamEvent) => {
    chain = chain
      .then(() => (queue.isEnded ? undefined : handle(event, emitter)))
      .catch((error: unknown) => queue.fail(error));
  };
  unlisten = await sources.hub.listen(channel, (text) => {
    const event = parseStreamEvent(text);
    if (!event || !filter(event)) return;
    if (isLive) enqueue(event);
    else buffered.push(event);
  });
  try {
    await replay(emitter);
  } catch (error) {
    unlisten();
    throw error;
  }
  isLive = true;
  for (const event of buffered.splice(0)) enqueue(event);
  return queue;
}

/** True when `events` are DELTAs 1..n then the final event n+1: nothing missing to replay. */
function isWholeStream(events: readonly StreamEvent[]): boolean {
  return events.every(
    (event, index) => event.sequence === index + 1 && isFinal(event) === (index === events.length - 1),
  );
}

/**
 * `replyStream`: the reply's DELTAs from 1, then its COMPLETE or FAILED, then
 * the end. A reply already finished replays its stored stream (kept an hour
 * in Redis), or, once that has expired (or the sweeper failed it), answers
 * its final event at once. The caller has checked that the message is the
 * subscriber's.
 */
export async function followReply<TPayload>(
  sources: StreamSources,
  messageId: string,
  wrap: (event: MessageEventModel) => TPayload,
): Promise<AsyncIterableIterator<TPayload>> {
  let view: ReplyView | undefined;
  const emit = async (event: StreamEvent, queue: Emitter) => {
    const result = view ? await view.apply(event, sources) : null;
    if (result) queue.push(result);
    if (view?.finished) queue.end();
  };
  return followChannel(
    sources,
    wrap,
    sources.keys.messageChannel(messageId),
    (event) => event.messageId === messageId,
    async (queue) => {
      const row = await findMessage(sources.db, messageId);
      if (!row) return queue.end();
      const stored = await readStoredEvents(sources.redis, sources.keys, messageId);
      const final = stored.find(isFinal);
      if (row.status !== 'STREAMING' && final && isWholeStream(stored)) {
        // Finished, and its whole stream is still in Redis (an hour): the same DELTAs a live subscriber saw, then the end.
        view = new ReplyView(toMessage(row), 0);
        for (const event of stored) await emit(event, queue);
        return;
      }
      if (row.status !== 'STREAMING') {
        queue.push({
          kind: row.status === 'FAILED' ? 'FAILED' : 'COMPLETE',
          sequence: final?.sequence ?? row.delta_count + 1,
          delta: null,
          message: toMessage(row),
        });
        return queue.end();
      }
      view = new ReplyView(toMessage(row), 0);
      for (const event of stored) await emit(event, queue);
    },
    emit,
  );
}

/**
 * `conversationEvents`: CREATED for each new message (sequence 0), and every
 * reply's DELTAs and final event; replies streaming when it starts are
 * replayed first. Never ends by itself. The caller checked ownership.
 */
export async function followConversation<TPayload>(
  sources: StreamSources,
  conversationId: string,
  wrap: (event: MessageEventModel) => TPayload,
): Promise<AsyncIterableIterator<TPayload>> {
  const views = new Map<string, ReplyView>();
  const catchUp = async (messageId: string, queue: Emitter) => {
    const row = await findMessage(sources.db, messageId);
    if (!row) return;
    const view = new ReplyView(toMessage(row), -1);
    views.set(messageId, view);
    if (row.status !== 'STREAMING') {
      view.finished = true;
      return;
    }
    for (const event of await readStoredEvents(sources.redis, sources.keys, messageId)) {
      const result = await view.apply(event, sources);
      if (result) queue.push(result);
    }
  };
  const handle = async (event: StreamEvent, queue: Emitter) => {
    const view = views.get(event.messageId);
    if (event.kind === 'CREATED') {
      if (view && view.lastSequence >= 0) return;
      const row = await findMessage(sources.db, event.messageId);
      if (!row) return;
      const created = new ReplyView(toMessage(row), 0);
      created.finished = row.status !== 'STREAMING';
      views.set(event.messageId, created);
      // A fresh reply starts empty: its content arrives as DELTAs.
      queue.push({ kind: 'CREATED', sequence: 0, delta: null, message: toMessage(row) });
      return;
    }
    if (!view) return catchUp(event.messageId, queue);
    const result = await view.apply(event, sources);
    if (result) queue.push(result);
  };
  return followChannel(
    sources,
    wrap,
    sources.keys.conversationChannel(conversationId),
    (event) => event.conversationId === conversationId,
    async (queue) => {
      for (const row of await listStreamingMessages(sources.db, conversationId)) await catchUp(row.id, queue);
    },
    handle,
  );
}
