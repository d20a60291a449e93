import { randomUUID } from 'node:crypto';
import { DEFAULT_REDIS_PREFIX } from './settings.ts';
import type { Redis } from 'ioredis';

/** One GraphQL request (or one subscription, at open) as the gateway saw it. */
export interface UsageRecord {
  /** uuid v4: consumers store rows keyed by it, so reading an entry twice is harmless. */
  id: string;
  /** ISO 8601, when the request arrived. */
  at: string;
  userId: string | null;
  operationName: string | null;
  operationType: 'query' | 'mutation' | 'subscription' | 'unknown';
  status: 'ok' | 'error';
  errorCodes: string[];
  latencyMs: number;
  /** The subgraphs the plan fetched from (sorted, unique). */
  subgraphs: string[];
}

export const USAGE_STREAM = 'usage';
/** The one field of each stream entry: the record as JSON. */
export const USAGE_FIELD = 'record';
export const USAGE_STREAM_MAXLEN = 1_000_000;
/** A full buffer of this many is flushed at once rather than at the next tick. */
const BATCH_SIZE = 500;
/** Beyond this many unsent records (Redis down) new ones are dropped and counted. */
const MAX_BUFFERED = 10_000;
const LOG_EVERY_MS = 60_000;

export interface UsageRecorder {
  /** Buffers the record; returns at once (no I/O on the request path). */
  record(record: Omit<UsageRecord, 'id'>): void;
  /** Sends what is buffered now; a failed batch stays buffered for the next try. */
  flush(): Promise<void>;
  /** Stops the timer and sends what is buffered (one last try). */
  close(): Promise<void>;
  /** Records lost because the buffer was full. */
  dropped(): number;
}

/** An entry's record, or null when the field is missing or not a record (consumers skip it). */
export function parseUsageEntry(fields: readonly string[]): UsageRecord | null {
  const index = fields.indexOf(USAGE_FIELD);
  if (index < 0 || index % 2 !== 0) return null;
  try {
    const record = JSON.parse(fields[index + 1] ?? '') as Partial<UsageRecord> | null;
    if (!record || typeof record.id !== 'string' || typeof record.at !== 'string') return null;
    return record as UsageRecord;
  } catch {
    return null;
  }
}

/**
 * The gateway's recorder: buffers in memory and XADDs `<prefix>usage`
 * (`MAXLEN ~ 1,000,000`) in one pipeline every `flushMs` (default 1000) or
 * as soon as 500 are waiting, never on the request path. While Redis is down
 * the batch stays buffered; past 10,000 waiting records new ones are dropped,
 * counted and logged (once when losses start, then at most once a minute).
 *
 * @example
 * const usage = createUsageRecorder(redis, { prefix });
 * usage.record({ at, userId, operationName, operationType: 'query', status: 'ok', errorCodes: [], latencyMs, subgraphs });
 */
export function createUsageRecorder(
  redis: Redis,
  options: { prefix?: string; flushMs?: number; log?: (message: string) => void } = {},
): UsageRecorder {
  const stream = `${options.prefix ?? DEFAULT_REDIS_PREFIX}${USAGE_STREAM}`;
  const log = options.log ?? ((message: string) => console.warn(`[usage] ${message}`));
  let buffer: UsageRecord[] = [];
  let inFlight: Promise<void> | null = null;
  let batchScheduled = false;
  let dropped = 0;
  let droppedSinceLog = 0;
  let lastLogAt = 0;
  let lastFailure: string | null = null;

  const timer = setInterval(() => void flush(), options.flushMs ?? 1_000);
  timer.unref();

  /** Logs unless something was logged within the last minute; whether it did. */
  function warn(message: string): boolean {
    const now = Date.now();
    if (now - lastLogAt < LOG_EVERY_MS) return false;
    lastLogAt = now;
    log(message);
    return true;
  }

  async function send(batch: UsageRecord[]): Promise<void> {
    const pipeline = redis.pipeline();
    for (const record of batch) {
      pipeline.xadd(stream, 'MAXLEN', '~', String(USAGE_STREAM_MAXLEN), '*', USAGE_FIELD, JSON.stringify(record));
    }
    let unsent: UsageRecord[];
    try {
      const results = (await pipeline.exec()) ?? [];
      unsent = batch.filter((_, index) => results[index]?.[0] != null || results[index] === undefined);
      const failure = results.find(([error]) => error)?.[0];
      if (failure) lastFailure = failure.message;
    } catch (error) {
      unsent = batch;
      lastFailure = error instanceof Error ? error.message : String(error);
    }
    if (unsent.length === 0) {
      if (lastFailure !== null && droppedSinceLog === 0) log('Redis answers again; usage records flow');
      lastFailure = null;
      return;
    }
    // Unsent records go back ahead of newer ones, within the cap.
    buffer = [...unsent, ...buffer];
    if (buffer.length > MAX_BUFFERED) drop(buffer.length - MAX_BUFFERED, true);
    warn(`could not send ${unsent.length} usage record(s), kept for the next try: ${lastFailure ?? 'unknown error'}`);
  }

  function drop(count: number, fromEnd: boolean): void {
    if (fromEnd) buffer.length -= count;
    dropped += count;
    droppedSinceLog += count;
    if (
      warn(
        `dropped ${droppedSinceLog} usage record(s) (${dropped} in all): the buffer is full while Redis is unavailable`,
      )
    )
      droppedSinceLog = 0;
  }

  function flush(): Promise<void> {
    if (inFlight) return inFlight.then(() => (buffer.length > 0 ? flush() : undefined));
    if (buffer.length === 0) return Promise.resolve();
    const batch = buffer;
    buffer = [];
    inFlight = send(batch).finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  return {
    record(input) {
      if (buffer.length >= MAX_BUFFERED) {
        drop(1, false);
        return;
      }
      buffer.push({ ...input, id: randomUUID() });
      if (buffer.length >= BATCH_SIZE && !batchScheduled) {
        batchScheduled = true;
        setImmediate(() => {
          batchScheduled = false;
          void flush();
        });
      }
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
    dropped: () => dropped,
  };
}
