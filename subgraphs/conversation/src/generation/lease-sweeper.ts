import type { Kysely } from 'kysely';
import type { Redis } from '@supergraph/platform';
import type { ConversationDb } from '../conversation.table.ts';
import { failExpiredLeases } from '../messages.repository.ts';
import { appendAndPublish, type StreamKeys } from '../streaming/events.ts';
import { INTERRUPTED_REASON } from './engine.ts';

export interface LeaseSweeperOptions {
  db: Kysely<ConversationDb>;
  redis: Redis;
  keys: StreamKeys;
  /** Default 5 s. */
  intervalMs?: number;
  log?: (line: string) => void;
}

/**
 * Fails replies whose generator died: a STREAMING row whose lease expired
 * (nobody renewed it) becomes FAILED ('the reply was interrupted') and its
 * subscribers get the FAILED event, so nothing stays STREAMING forever. Runs
 * at start and every few seconds on every instance; the UPDATE decides, so
 * two instances never fail the same reply twice.
 */
export class LeaseSweeper {
  readonly #options: LeaseSweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | undefined;

  constructor(options: LeaseSweeperOptions) {
    this.#options = options;
  }

  /** Sweeps now, then every `intervalMs`. */
  start(): void {
    if (this.#timer) return;
    void this.tick();
    this.#timer = setInterval(() => void this.tick(), this.#options.intervalMs ?? 5_000);
    this.#timer.unref();
  }

  /** One sweep (never two at once); resolves with the number of replies failed. Logs instead of throwing. */
  tick(): Promise<number> {
    this.#sweeping ??= this.#sweep()
      .catch((error: unknown) => {
        (this.#options.log ?? console.warn)(
          `[conversation] lease sweep failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        return 0;
      })
      .finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }

  async #sweep(): Promise<number> {
    const { db, redis, keys } = this.#options;
    const failed = await failExpiredLeases(db, INTERRUPTED_REASON);
    for (const row of failed) {
      // Subscribers may have seen more deltas than were saved: the final event comes after all of them.
      const stored = await redis.llen(keys.list(row.id)).catch(() => 0);
      await appendAndPublish(redis, keys, [
        {
          kind: 'FAILED',
          sequence: Math.max(row.delta_count, stored) + 1,
          delta: null,
          messageId: row.id,
          conversationId: row.conversation_id,
        },
      ]).catch(() => {});
    }
    return failed.length;
  }
}
