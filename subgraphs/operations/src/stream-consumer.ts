import { setTimeout as sleep } from 'node:timers/promises';
import { Redis as RedisClient } from 'ioredis';
import type { Kysely, Transaction } from 'kysely';
import type { Redis } from '@supergraph/platform';
import type { OperationsDb } from './operations.table.ts';
import { findStreamOffset, saveStreamOffset } from './stream-offsets.repository.ts';

type StreamEntry = [id: string, fields: string[]];

export interface StreamConsumerOptions<T> {
  db: Kysely<OperationsDb>;
  redis: Redis;
  /** The stream's full key (`<prefix>audit`); also its row in `stream_offsets`. */
  stream: string;
  /** One entry's fields → what to store; null skips it (counted, logged once a minute). */
  parse: (fields: readonly string[]) => T | null;
  /** Stores a batch inside the transaction that also moves the offset. */
  store: (trx: Transaction<OperationsDb>, items: readonly T[]) => Promise<void>;
  /** XREAD's BLOCK. Default 1000 ms. */
  blockMs?: number;
  /** XREAD's COUNT. Default 500. */
  count?: number;
  /** The in-process stand-in's pause between empty reads. Default 100 ms. */
  pollMs?: number;
  log?: (message: string) => void;
}

/** A running consumer, whatever it stores: what its owner starts and stops. */
export interface StreamConsumerHandle {
  readonly stored: number;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Copies a Redis stream into PostgreSQL: XREAD BLOCK from the last stored id
 * on its own connection (a blocking read must not hold the command
 * connection every request uses), each batch and the new offset in one
 * transaction. No consumer groups, so the in-process stand-in works too;
 * rows are keyed by the producer's id with `on conflict do nothing`, so two
 * instances (or a replay after a crash) store each event once. Redis or
 * PostgreSQL outages are retried with backoff (up to 5 s), logged once when
 * they start and once when they end.
 *
 * The stand-in (`ioredis-mock`) cannot block (its XREAD BLOCK polls and marks
 * entries consumed for every reader), so there the consumer polls XRANGE.
 */
export class StreamConsumer<T> implements StreamConsumerHandle {
  readonly #options: Required<Omit<StreamConsumerOptions<T>, 'log'>> & { log: (message: string) => void };
  readonly #isRealRedis: boolean;
  #reader: Redis | undefined;
  #loop: Promise<void> | undefined;
  #stopped = false;
  #stored = 0;
  #skipped = 0;
  #lastSkipLogAt = 0;

  constructor(options: StreamConsumerOptions<T>) {
    this.#options = {
      blockMs: 1_000,
      count: 500,
      pollMs: 100,
      log: (message) => console.error(`[operations] ${message}`),
      ...options,
    };
    this.#isRealRedis = options.redis instanceof RedisClient;
  }

  /** Entries stored by this consumer since start (tests, logs). */
  get stored(): number {
    return this.#stored;
  }

  start(): void {
    if (this.#loop) return;
    this.#stopped = false;
    if (this.#isRealRedis) {
      // Offline queue on: this connection only waits for entries, and its commands may wait for a reconnect.
      this.#reader = this.#options.redis.duplicate({
        enableOfflineQueue: true,
        commandTimeout: this.#options.blockMs + 2_000,
        connectionName: `${this.#options.stream}:consumer`,
      });
      this.#reader.on('error', () => {});
    }
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    // Ends a blocked XREAD at once instead of waiting for BLOCK to run out.
    this.#reader?.disconnect();
    await this.#loop;
    this.#loop = undefined;
    this.#reader = undefined;
  }

  async #run(): Promise<void> {
    const { db, stream } = this.#options;
    let lastId: string | undefined;
    let failures = 0;
    while (!this.#stopped) {
      try {
        lastId ??= await findStreamOffset(db, stream);
        const entries = await this.#read(lastId);
        if (this.#stopped) break;
        if (entries.length > 0) lastId = await this.#storeBatch(entries);
        else if (!this.#isRealRedis) await sleep(this.#options.pollMs);
        if (failures > 0) this.#options.log(`${stream}: consuming again after ${failures} failed attempt(s)`);
        failures = 0;
      } catch (error) {
        if (this.#stopped) break;
        if (failures === 0)
          this.#options.log(
            `${stream}: cannot consume (${error instanceof Error ? error.message : String(error)}); retrying with backoff`,
          );
        failures += 1;
        await sleep(Math.min(100 * 2 ** Math.min(failures, 6), 5_000));
      }
    }
  }

  async #read(lastId: string): Promise<StreamEntry[]> {
    const { stream, count, blockMs } = this.#options;
    if (this.#reader) {
      const result = (await this.#reader.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', stream, lastId)) as Array<
        [string, StreamEntry[]]
      > | null;
      return result?.[0]?.[1] ?? [];
    }
    // The stand-in numbers entries `<n>-0` and compares XRANGE's bounds as numbers.
    const next = String(Number.parseInt(lastId, 10) + 1);
    return (await this.#options.redis.xrange(stream, next, '+', 'COUNT', count)) as StreamEntry[];
  }

  async #storeBatch(entries: readonly StreamEntry[]): Promise<string> {
    const items: T[] = [];
    for (const [, fields] of entries) {
      const item = this.#options.parse(fields);
      if (item) items.push(item);
      else this.#skip();
    }
    const lastId = entries.at(-1)![0];
    await this.#options.db.transaction().execute(async (trx) => {
      if (items.length > 0) await this.#options.store(trx, items);
      await saveStreamOffset(trx, this.#options.stream, lastId);
    });
    this.#stored += items.length;
    return lastId;
  }

  #skip(): void {
    this.#skipped += 1;
    const now = Date.now();
    if (now - this.#lastSkipLogAt < 60_000) return;
    this.#lastSkipLogAt = now;
    this.#options.log(`${this.#options.stream}: skipped ${this.#skipped} malformed entr(ies) so far`);
  }
}
