import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { PendingReply } from './chats.ts';
import { inPool } from './chats.ts';
import { nowMs, parseToken } from './timed-responder.ts';

/** The same document both ways: only the events' own fields, so the gateway's plan is the primary fetch alone. */
export const REPLY_STREAM =
  'subscription Reply($messageId: ID!) { replyStream(messageId: $messageId) { kind sequence delta } }';

interface ReplyEvent {
  kind: string;
  sequence: number;
  delta: string | null;
}

export interface StreamResults {
  /** DELTA events received in order with a well-formed token. */
  delivered: number;
  /** Token latencies (ms), generation → receipt, `delivered` of them. */
  latencies: Float64Array;
  /** Streams that did not end with every token and COMPLETE (errors, closes, gaps, timeouts). */
  failedStreams: number;
  /** A few failure descriptions, for the log. */
  failures: string[];
  firstGeneratedAt: number;
  lastReceivedAt: number;
}

/**
 * N chat clients, one WebSocket (one graphql-ws client) per stream as real
 * chat clients have, each following one reply with `replyStream`. Records
 * every token's latency from the timestamp it carries.
 */
export class StreamSet {
  readonly #clients: Client[] = [];
  readonly #done: Array<Promise<void>> = [];
  readonly #latencies: Float64Array;
  #delivered = 0;
  #failed = 0;
  #ended = 0;
  readonly #failures: string[] = [];
  #firstGeneratedAt = Number.POSITIVE_INFINITY;
  #lastReceivedAt = 0;
  readonly #replies: readonly PendingReply[];
  readonly #tokens: number;
  readonly #perConnection: number;
  readonly #url: string;
  readonly #connectionParams: (reply: PendingReply) => Promise<Record<string, unknown>>;

  constructor(options: {
    replies: readonly PendingReply[];
    tokens: number;
    /** Streams sharing one WebSocket (one user's only: the credential is the connection's). Default 1. */
    perConnection?: number;
    /** ws:// URL of the gateway's or the subgraph's /graphql. */
    url: string;
    connectionParams: (reply: PendingReply) => Promise<Record<string, unknown>>;
  }) {
    this.#replies = options.replies;
    this.#tokens = options.tokens;
    this.#perConnection = options.perConnection ?? 1;
    this.#url = options.url;
    this.#connectionParams = options.connectionParams;
    this.#latencies = new Float64Array(options.replies.length * options.tokens);
  }

  /** Opens every stream (at most `concurrency` handshakes at once); resolves once each socket is acknowledged. */
  async open(concurrency = 200): Promise<void> {
    const byUser = new Map<string, PendingReply[]>();
    for (const reply of this.#replies) {
      const list = byUser.get(reply.user.userId) ?? [];
      list.push(reply);
      byUser.set(reply.user.userId, list);
    }
    const groups: PendingReply[][] = [];
    for (const list of byUser.values())
      for (let start = 0; start < list.length; start += this.#perConnection)
        groups.push(list.slice(start, start + this.#perConnection));
    await inPool(groups.length, concurrency, (index) => this.#openConnection(groups[index]!));
  }

  #fail(reason: string): void {
    this.#failed += 1;
    if (this.#failures.length < 5) this.#failures.push(reason);
  }

  #openConnection(group: readonly PendingReply[]): Promise<void> {
    let acknowledged: () => void = () => {};
    let refused: (error: Error) => void = () => {};
    const connected = new Promise<void>((resolve, reject) => {
      acknowledged = resolve;
      refused = reject;
    });
    const client = createClient({
      url: this.#url,
      webSocketImpl: WebSocket,
      lazy: true,
      retryAttempts: 0,
      connectionParams: () => this.#connectionParams(group[0]!),
      on: {
        connected: () => acknowledged(),
        closed: (event) => refused(new Error(`closed before acknowledged: ${describeClose(event)}`)),
      },
    });
    this.#clients.push(client);
    for (const reply of group) this.#follow(client, reply);
    return connected;
  }

  #follow(client: Client, reply: PendingReply): void {
    let expected = 1;
    let finished = false;
    this.#done.push(
      new Promise<void>((resolve) => {
        const end = (failure?: string) => {
          if (finished) return;
          finished = true;
          this.#ended += 1;
          if (failure) this.#fail(failure);
          resolve();
        };
        client.subscribe<{ replyStream: ReplyEvent }>(
          { query: REPLY_STREAM, variables: { messageId: reply.replyId } },
          {
            next: (result) => {
              const receivedAt = nowMs();
              if (result.errors) return end(`errors: ${JSON.stringify(result.errors).slice(0, 200)}`);
              const event = result.data?.replyStream;
              if (!event) return end('an event without data');
              if (event.kind === 'DELTA') {
                const token = parseToken(event.delta ?? '');
                if (!token || token.sequence !== expected || event.sequence !== expected)
                  return end(`token ${expected} expected, got ${JSON.stringify(event)}`);
                expected += 1;
                this.#latencies[this.#delivered++] = receivedAt - token.generatedAt;
                if (token.generatedAt < this.#firstGeneratedAt) this.#firstGeneratedAt = token.generatedAt;
                if (receivedAt > this.#lastReceivedAt) this.#lastReceivedAt = receivedAt;
              } else if (event.kind === 'COMPLETE') {
                if (expected !== this.#tokens + 1) end(`COMPLETE after ${expected - 1} of ${this.#tokens} tokens`);
              } else end(`${event.kind} event`);
            },
            error: (error) => end(`error: ${describeError(error)}`),
            complete: () => end(expected === this.#tokens + 1 ? undefined : `completed after ${expected - 1} tokens`),
          },
        );
      }),
    );
  }

  /** Resolves once every stream ended, or after `timeoutMs` (streams still open then count as failed). */
  async finished(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all(this.#done).then(() => true);
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([all, timedOut]);
    clearTimeout(timer);
    return result;
  }

  results(): StreamResults {
    return {
      delivered: this.#delivered,
      latencies: this.#latencies.subarray(0, this.#delivered),
      failedStreams: this.#failed + (this.#replies.length - this.#ended),
      failures: [...this.#failures],
      firstGeneratedAt: this.#firstGeneratedAt,
      lastReceivedAt: this.#lastReceivedAt,
    };
  }

  /** Closes every client (its socket, if still open). */
  async close(): Promise<void> {
    await Promise.all(this.#clients.map((client) => client.dispose()));
    this.#clients.length = 0;
  }
}

function describeClose(event: unknown): string {
  const close = event as { code?: number; reason?: string };
  return close && typeof close.code === 'number' ? `${close.code} ${close.reason ?? ''}`.trim() : String(event);
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) return JSON.stringify(error).slice(0, 200);
  return describeClose(error);
}
