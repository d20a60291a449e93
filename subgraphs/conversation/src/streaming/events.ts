import { TRACEPARENT_PATTERN, type Redis } from '@supergraph/platform';

/**
 * The wire format of a reply's stream in Redis, shared by the generator (any
 * instance) and every subscriber (every instance).
 *
 * Per reply: a list `<prefix>reply:<messageId>` holding every DELTA and the
 * final event in order (an hour's TTL: late joiners replay it), and two
 * channels the same events are published on, `<prefix>message:<messageId>`
 * and `<prefix>conversation:<conversationId>`. The generator always pushes
 * before it publishes, so a subscriber that subscribes first and then reads
 * the list misses nothing (see `subscribe.ts`).
 */

export type StreamEventKind = 'CREATED' | 'DELTA' | 'COMPLETE' | 'FAILED';

/** One event as stored and published (JSON). */
export interface StreamEvent {
  kind: StreamEventKind;
  /** 0 for CREATED, 1..n for DELTAs, n+1 for COMPLETE/FAILED. */
  sequence: number;
  delta: string | null;
  messageId: string;
  conversationId: string;
  /**
   * W3C trace context of the `sendMessage` that caused the reply (absent with
   * telemetry off): pub/sub has no headers, so the event carries its trace.
   */
  traceparent?: string;
  /**
   * On the first DELTA only: what the reply cites (knowledge entry ids, and
   * `unit:recordId`s), so a subscriber learns them without reading the row.
   */
  citations?: string[];
  recordCitations?: string[];
}

/** How long a reply's list stays replayable. */
export const STREAM_TTL_SECONDS = 3600;

export const DEFAULT_STREAM_PREFIX = 'conversation:';

/** Names of a reply's Redis keys under one prefix (tests use their run's prefix). */
export class StreamKeys {
  readonly #prefix: string;

  constructor(prefix = DEFAULT_STREAM_PREFIX) {
    this.#prefix = prefix;
  }

  list(messageId: string): string {
    return `${this.#prefix}reply:${messageId}`;
  }

  messageChannel(messageId: string): string {
    return `${this.#prefix}message:${messageId}`;
  }

  conversationChannel(conversationId: string): string {
    return `${this.#prefix}conversation:${conversationId}`;
  }
}

export function isFinal(event: Pick<StreamEvent, 'kind'>): boolean {
  return event.kind === 'COMPLETE' || event.kind === 'FAILED';
}

/** A stored or published event, or null for anything that is not one (never trusted blindly). */
export function parseStreamEvent(text: string): StreamEvent | null {
  try {
    const value = JSON.parse(text) as Partial<StreamEvent>;
    if (
      typeof value.kind === 'string' &&
      ['CREATED', 'DELTA', 'COMPLETE', 'FAILED'].includes(value.kind) &&
      Number.isInteger(value.sequence) &&
      typeof value.messageId === 'string' &&
      typeof value.conversationId === 'string'
    ) {
      return {
        kind: value.kind,
        sequence: value.sequence as number,
        delta: typeof value.delta === 'string' ? value.delta : null,
        messageId: value.messageId,
        conversationId: value.conversationId,
        ...(typeof value.traceparent === 'string' && TRACEPARENT_PATTERN.test(value.traceparent)
          ? { traceparent: value.traceparent }
          : {}),
        ...(isIdList(value.citations) ? { citations: value.citations } : {}),
        ...(isIdList(value.recordCitations) ? { recordCitations: value.recordCitations } : {}),
      };
    }
  } catch {
    // not JSON: ignored below
  }
  return null;
}

/** A bounded list of short ids (what an event may carry as citations). */
function isIdList(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    value.length <= 100 &&
    value.every((item) => typeof item === 'string' && item.length > 0 && item.length <= 200)
  );
}

/** The events of a reply stored so far, in order. */
export async function readStoredEvents(redis: Redis, keys: StreamKeys, messageId: string): Promise<StreamEvent[]> {
  const items = await redis.lrange(keys.list(messageId), 0, -1);
  return items.flatMap((item) => parseStreamEvent(item) ?? []);
}

/**
 * Appends events of one reply to its list (refreshing the TTL) and then
 * publishes each on both channels, in one pipeline so they keep their order.
 */
export async function appendAndPublish(redis: Redis, keys: StreamKeys, events: readonly StreamEvent[]): Promise<void> {
  const first = events[0];
  if (!first) return;
  const list = keys.list(first.messageId);
  const texts = events.map((event) => JSON.stringify(event));
  const pipeline = redis.multi();
  pipeline.rpush(list, ...texts);
  pipeline.expire(list, STREAM_TTL_SECONDS);
  for (const [index, event] of events.entries()) {
    const text = texts[index] as string;
    pipeline.publish(keys.messageChannel(event.messageId), text);
    pipeline.publish(keys.conversationChannel(event.conversationId), text);
  }
  await pipeline.exec();
}

/** Publishes a CREATED event on the conversation's channel (it is not part of any reply's list). */
export async function publishCreated(redis: Redis, keys: StreamKeys, event: StreamEvent): Promise<void> {
  await redis.publish(keys.conversationChannel(event.conversationId), JSON.stringify(event));
}
