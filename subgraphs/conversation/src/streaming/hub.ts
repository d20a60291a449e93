import type { Redis } from '@supergraph/platform';
import { createLogger } from '@supergraph/platform';

const log = createLogger('conversation');

type Listener = (message: string) => void;

interface Channel {
  listeners: Set<Listener>;
  /** Resolves once Redis confirmed the SUBSCRIBE: only then may a subscriber read history. */
  subscribed: Promise<void>;
}

/**
 * One Redis subscriber connection per process, shared by every subscription
 * (a subscribed connection can do nothing else, and one connection per
 * client would not scale). Channels are reference-counted: the first
 * listener SUBSCRIBEs, the last one to leave UNSUBSCRIBEs.
 *
 * Works on the in-process stand-in too: `ioredis-mock` delivers PUBLISH to
 * every instance of the process, duplicates included (checked by the tests).
 */
export class EventHub {
  readonly #subscriber: Redis;
  readonly #channels = new Map<string, Channel>();
  #closed = false;

  constructor(redis: Redis) {
    // Queue commands while reconnecting: ioredis resubscribes by itself after a lost connection.
    this.#subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.#subscriber.on('error', (error: Error) => log.error(`subscriber: ${error.message}`));
    this.#subscriber.on('message', (channel: string, message: string) => {
      for (const listener of this.#channels.get(channel)?.listeners ?? []) listener(message);
    });
  }

  /**
   * Calls `listener` with every message on `channel` until the returned
   * function is called; resolves once the subscription is active.
   */
  async listen(channel: string, listener: Listener): Promise<() => void> {
    if (this.#closed) throw new Error('the event hub is closed');
    let entry = this.#channels.get(channel);
    if (!entry) {
      entry = { listeners: new Set(), subscribed: this.#subscriber.subscribe(channel).then(() => {}) };
      this.#channels.set(channel, entry);
    }
    const current = entry;
    current.listeners.add(listener);
    let removed = false;
    const remove = () => {
      if (removed) return;
      removed = true;
      current.listeners.delete(listener);
      if (current.listeners.size === 0 && this.#channels.get(channel) === current) {
        this.#channels.delete(channel);
        if (!this.#closed) this.#subscriber.unsubscribe(channel).catch(() => {});
      }
    };
    try {
      await current.subscribed;
    } catch (error) {
      remove();
      throw error;
    }
    return remove;
  }

  /** Listeners currently registered, over all channels (tests check that subscribers clean up). */
  get listenerCount(): number {
    let count = 0;
    for (const channel of this.#channels.values()) count += channel.listeners.size;
    return count;
  }

  /** Channels this process is subscribed to. */
  get channelCount(): number {
    return this.#channels.size;
  }

  close(): void {
    this.#closed = true;
    this.#channels.clear();
    this.#subscriber.disconnect();
  }
}
