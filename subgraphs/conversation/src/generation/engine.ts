import type { Kysely } from 'kysely';
import { isUuid } from '@supergraph/kit';
import { currentTraceparent, type Redis } from '@supergraph/platform';
import type { ConversationDb, DroidRow, MessageRow, ProviderKind } from '../conversation.table.ts';
import { requestGrant, type Grant } from '../grants.ts';
import { finishReply, listTurnsBefore, renewLease, saveCitations, saveProgress } from '../messages.repository.ts';
import type { Passage, Responder, ResponderRequest } from '../responders/responder.ts';
import { ResponderError } from '../responders/responder.ts';
import { ResponseCache, splitIntoDeltas } from '../response-cache.ts';
import { retrievePassages } from '../retrieval.ts';
import { appendAndPublish, type StreamEvent, type StreamKeys } from '../streaming/events.ts';

/** The responder each provider kind uses. */
export type Responders = Readonly<Record<ProviderKind, Responder>>;

/** `failureReason` of a reply whose generator went away (shutdown, crash, lost lease). */
export const INTERRUPTED_REASON = 'the reply was interrupted';

/** `failureReason` when generation failed for a reason not meant for users (logged instead). */
export const GENERIC_FAILURE_REASON = 'the reply could not be generated';

/** Earlier turns handed to a responder, at most. */
const HISTORY_TURNS = 20;

/** A reply stops growing here (a runaway provider must not fill the database). */
export const MAX_REPLY_CHARS = 20_000;

export interface ReplyEngineOptions {
  db: Kysely<ConversationDb>;
  redis: Redis;
  keys: StreamKeys;
  responders: Responders;
  cache: ResponseCache;
  gatewayUrl: string;
  authUrl: string;
  /** `CONVERSATION_OPENAI_DEFAULT_KEY`: the key of OPENAI_COMPATIBLE droids whose user stored none. */
  openaiDefaultKey: string | null;
  leaseSeconds: number;
  /** Content is saved to PostgreSQL after this many deltas or this long, whichever comes first. */
  saveEvery?: { deltas: number; ms: number };
  log?: (line: string) => void;
}

/** One reply to generate, as `sendMessage` stored it. */
export interface ReplyJob {
  droid: DroidRow;
  /** The user's message (COMPLETE) and the reply (STREAMING) it answers. */
  message: MessageRow;
  reply: MessageRow;
  /** The internal token of the user's `sendMessage`: what auth's grant endpoint accepts as proof. */
  internalToken: string;
}

/**
 * Generates replies in the background on the instance that stored them:
 * asks auth for a grant, retrieves passages through the gateway, streams the
 * responder's deltas (or a cached reply) to Redis with sequence numbers,
 * saves progress to PostgreSQL, renews the reply's lease, and finally stores
 * it COMPLETE or FAILED before publishing the final event.
 */
export class ReplyEngine {
  readonly #options: ReplyEngineOptions;
  readonly #running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  readonly #log: (line: string) => void;
  #closed = false;

  constructor(options: ReplyEngineOptions) {
    this.#options = options;
    this.#log = options.log ?? ((line) => console.warn(`[conversation] ${line}`));
  }

  /** Starts generating `job.reply`; never throws (failures end as a FAILED reply). */
  start(job: ReplyJob): void {
    const controller = new AbortController();
    if (this.#closed) controller.abort();
    // Still inside sendMessage's span here: every event of the reply carries its trace.
    const traceparent = currentTraceparent();
    const done = this.#generate(job, controller.signal, traceparent)
      .catch((error: unknown) => this.#log(`reply ${job.reply.id} lost: ${describe(error)}`))
      .finally(() => this.#running.delete(job.reply.id));
    this.#running.set(job.reply.id, { controller, done });
  }

  /** How long a reply's lease lasts (renewed every third of it while generating). */
  get leaseSeconds(): number {
    return this.#options.leaseSeconds;
  }

  /** Replies generating in this process. */
  get activeCount(): number {
    return this.#running.size;
  }

  /** Resolves once no reply is generating here (tests wait for the background work with it). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()].map((job) => job.done));
  }

  /** Interrupts every reply in progress (each is stored FAILED) and waits for them. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#running.values()) job.controller.abort();
    await this.idle();
  }

  async #generate(job: ReplyJob, signal: AbortSignal, traceparent: string | undefined): Promise<void> {
    const options = this.#options;
    const { reply, droid } = job;
    const events: Pick<StreamEvent, 'messageId' | 'conversationId' | 'traceparent'> = {
      messageId: reply.id,
      conversationId: reply.conversation_id,
      ...(traceparent ? { traceparent } : {}),
    };
    let content = '';
    let sequence = 0;
    let saved = { sequence: 0, at: Date.now() };
    let lostLease = false;
    // Every delta is in Redis at once; the row is the crash copy, saved in batches (a save per token exhausted the pool at 5,000 streams).
    const saveEvery = options.saveEvery ?? { deltas: 50, ms: 1_000 };
    const leaseTimer = setInterval(
      () => {
        renewLease(options.db, reply.id, options.leaseSeconds).then(
          (renewed) => void (renewed || (lostLease = true)),
          (error: unknown) => this.#log(`lease renewal of ${reply.id} failed: ${describe(error)}`),
        );
      },
      Math.max(1000, (options.leaseSeconds * 1000) / 3),
    );
    leaseTimer.unref();
    let passages: Passage[] = [];
    try {
      const grant = await this.#grant(job, signal);
      passages = grant ? await this.#retrieve(job, grant, signal) : [];
      if (passages.length > 0) await saveCitations(options.db, reply.id, citationsOf(passages));
      const history = await listTurnsBefore(options.db, reply.conversation_id, job.message.position, HISTORY_TURNS);
      const request: ResponderRequest = {
        droid: {
          id: droid.id,
          name: droid.name,
          persona: droid.persona,
          baseUrl: droid.base_url,
          model: droid.model,
        },
        prompt: job.message.content,
        history: history.map((turn) => ({ role: turn.role === 'USER' ? 'user' : 'assistant', content: turn.content })),
        passages,
        apiKey: droid.provider === 'OPENAI_COMPATIBLE' ? (grant?.providerKey ?? options.openaiDefaultKey) : null,
        signal,
      };
      const cacheKey = ResponseCache.keyOf({
        droid: {
          id: droid.id,
          name: droid.name,
          persona: droid.persona,
          provider: droid.provider,
          baseUrl: droid.base_url,
          model: droid.model,
          knowledgeBase: droid.knowledge_base,
          storageUnits: droid.storage_units,
        },
        prompt: request.prompt,
        passages,
      });
      const cached = options.cache.get(cacheKey);
      const deltas =
        cached === undefined ? options.responders[droid.provider].respond(request) : splitIntoDeltas(cached);
      for await (const delta of deltas) {
        if (signal.aborted || lostLease) throw new ResponderError(INTERRUPTED_REASON);
        if (typeof delta !== 'string' || delta.length === 0) continue;
        const piece = delta.slice(0, MAX_REPLY_CHARS - content.length);
        sequence += 1;
        content += piece;
        await this.#publish([
          // The first delta carries the citations (stored just before), so no subscriber reads the row for them.
          { ...events, kind: 'DELTA', sequence, delta: piece, ...(sequence === 1 ? citationsOf(passages) : {}) },
        ]);
        if (sequence - saved.sequence >= saveEvery.deltas || Date.now() - saved.at >= saveEvery.ms) {
          saved = { sequence, at: Date.now() };
          const stillStreaming = await saveProgress(options.db, reply.id, {
            content,
            deltaCount: sequence,
            leaseSeconds: options.leaseSeconds,
          });
          if (!stillStreaming) throw new ResponderError(INTERRUPTED_REASON);
        }
        if (content.length >= MAX_REPLY_CHARS) break;
      }
      if (signal.aborted) throw new ResponderError(INTERRUPTED_REASON);
      const finished = await finishReply(options.db, reply.id, {
        status: 'COMPLETE',
        content,
        deltaCount: sequence,
        failureReason: null,
        ...citationsOf(passages),
      });
      if (!finished) return;
      if (cached === undefined && content.length > 0) options.cache.set(cacheKey, content);
      await this.#publish([{ ...events, kind: 'COMPLETE', sequence: sequence + 1, delta: null }]);
    } catch (error) {
      const reason =
        error instanceof ResponderError ? error.reason : signal.aborted ? INTERRUPTED_REASON : GENERIC_FAILURE_REASON;
      if (!(error instanceof ResponderError)) this.#log(`reply ${reply.id} failed: ${describe(error)}`);
      const finished = await finishReply(options.db, reply.id, {
        status: 'FAILED',
        content,
        deltaCount: sequence,
        failureReason: reason.slice(0, 500),
        ...citationsOf(passages),
      });
      // Not streaming any more: the sweeper already failed it and published its end.
      if (finished) await this.#publish([{ ...events, kind: 'FAILED', sequence: sequence + 1, delta: null }]);
    } finally {
      clearInterval(leaseTimer);
    }
  }

  /** The grant of this generation, or null (logged) when auth will not give one: the reply goes on without. */
  async #grant(job: ReplyJob, signal: AbortSignal): Promise<Grant | null> {
    try {
      return await requestGrant({
        authUrl: this.#options.authUrl,
        internalToken: job.internalToken,
        provider: job.droid.provider === 'OPENAI_COMPATIBLE' ? 'openai' : null,
        signal,
      });
    } catch (error) {
      this.#log(`no grant for reply ${job.reply.id}: ${describe(error)}`);
      return null;
    }
  }

  /** Passages for the prompt, or none (logged in one line) when the graph cannot be searched. */
  async #retrieve(job: ReplyJob, grant: Grant, signal: AbortSignal): Promise<Passage[]> {
    try {
      return await retrievePassages({
        gatewayUrl: this.#options.gatewayUrl,
        accessToken: grant.accessToken,
        prompt: job.message.content,
        scope: { knowledgeBase: job.droid.knowledge_base, storageUnits: job.droid.storage_units },
        signal,
      });
    } catch (error) {
      this.#log(`retrieval for reply ${job.reply.id} failed: ${describe(error)}`);
      return [];
    }
  }

  /** Redis trouble must not fail a reply: PostgreSQL keeps the content, subscribers get the final event later. */
  async #publish(events: StreamEvent[]): Promise<void> {
    try {
      await appendAndPublish(this.#options.redis, this.#options.keys, events);
    } catch (error) {
      this.#log(`could not publish to Redis: ${describe(error)}`);
    }
  }
}

/** Knowledge passages become `citations` (entry ids), unit passages `recordCitations` (`unit:recordId`). */
function citationsOf(passages: readonly Passage[]): { citations: string[]; recordCitations: string[] } {
  return {
    citations: [...new Set(passages.filter((p) => p.source === 'knowledge' && isUuid(p.id)).map((p) => p.id))],
    recordCitations: [
      ...new Set(passages.filter((p) => p.source === 'unit' && p.unitId).map((p) => `${p.unitId}:${p.id}`)),
    ],
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
