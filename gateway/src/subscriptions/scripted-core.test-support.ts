import type http from 'node:http';
import { ApolloServer } from '@apollo/server';
import type { ExecutionResult, FormattedExecutionResult } from 'graphql';
import {
  ANONYMOUS,
  closeServer,
  createGraphQLHttpServer,
  HttpError,
  listen,
  type Identity,
} from '@supergraph/platform';
import type { SubscriptionCore, SubscriptionRequest, SubscriptionSession } from './core.ts';
import { createHttpSubscriptions } from './http.ts';

/**
 * A `SubscriptionCore` whose streams the test drives (`emit`, `endAll`,
 * `failAll`): the transports' unit tests check their wire format against it,
 * the real core is exercised end to end in `test/e2e/subscriptions-http.e2e.ts`.
 */
export interface ScriptedCore extends SubscriptionCore {
  /** Yields `result` on every open stream (formatted errors are what reaches the wire either way). */
  emit(result: FormattedExecutionResult): void;
  endAll(): void;
  failAll(error: Error): void;
  /** Every subscribe call's request and session, in order. */
  readonly calls: Array<{ request: SubscriptionRequest; session: SubscriptionSession }>;
  /** Streams whose signal aborted (the client went away). */
  aborted(): number;
}

/** Refused by the scripted core with FORBIDDEN (403) before a stream starts. */
export const REFUSED_SUBSCRIPTION = 'subscription Refused { secret }';

export function createScriptedCore(): ScriptedCore {
  const open = new Set<Stream>();
  const calls: ScriptedCore['calls'] = [];
  let abortedCount = 0;
  return {
    calls,
    aborted: () => abortedCount,
    isSubscription: (request) => /^\s*subscription\b/.test(request.query ?? ''),
    openStreams: () => open.size,
    async subscribe(request, session, signal) {
      calls.push({ request, session });
      if (request.query === REFUSED_SUBSCRIPTION) {
        return {
          errors: [
            {
              message: 'You are not allowed to do this',
              extensions: { code: 'FORBIDDEN', http: { status: 403 } },
            },
          ] as unknown as ExecutionResult['errors'],
        };
      }
      const stream = new Stream(() => open.delete(stream));
      open.add(stream);
      signal.addEventListener('abort', () => {
        abortedCount += 1;
        stream.finish();
      });
      return stream;
    },
    emit: (result) => open.forEach((stream) => stream.push(result as ExecutionResult)),
    endAll: () => open.forEach((stream) => stream.finish()),
    failAll: (error) => open.forEach((stream) => stream.fail(error)),
    close: async () => open.forEach((stream) => stream.finish()),
  };
}

class Stream implements AsyncIterableIterator<ExecutionResult> {
  #queue: Array<ExecutionResult | Error> = [];
  #waiting: ((value: IteratorResult<ExecutionResult>) => void) | undefined;
  #failWaiting: ((error: Error) => void) | undefined;
  #done = false;
  #onDone: () => void;

  constructor(onDone: () => void) {
    this.#onDone = onDone;
  }

  push(item: ExecutionResult | Error): void {
    if (this.#done) return;
    const waiting = this.#waiting;
    const failWaiting = this.#failWaiting;
    this.#waiting = this.#failWaiting = undefined;
    if (!waiting || !failWaiting) this.#queue.push(item);
    else if (item instanceof Error) {
      this.finish();
      failWaiting(item);
    } else waiting({ done: false, value: item });
  }

  fail(error: Error): void {
    this.push(error);
  }

  finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#onDone();
    this.#waiting?.({ done: true, value: undefined });
    this.#waiting = this.#failWaiting = undefined;
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    const item = this.#queue.shift();
    if (item instanceof Error) {
      this.finish();
      return Promise.reject(item);
    }
    if (item) return Promise.resolve({ done: false, value: item });
    if (this.#done) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.#waiting = resolve;
      this.#failWaiting = reject;
    });
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    this.finish();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }
}

export interface ScriptedServer {
  url: string;
  core: ScriptedCore;
  http: http.Server;
  close(): Promise<void>;
}

/**
 * The platform's real HTTP edge (`createGraphQLHttpServer`) with a real Apollo
 * Server behind it and the subscription transports in its `stream` hook, over
 * the scripted core. `Authorization: Bearer bad` is refused with 401 as the
 * gateway's authenticator would.
 */
export async function startScriptedServer(
  options: { sseKeepAliveMs?: number; multipartHeartbeatMs?: number } = {},
): Promise<ScriptedServer> {
  const core = createScriptedCore();
  const apollo = new ApolloServer<{ identity: Identity }>({
    typeDefs: 'type Query { hello: String } type Subscription { tick: Int }',
    resolvers: { Query: { hello: () => 'world' } },
  });
  await apollo.start();
  const server = createGraphQLHttpServer({
    apollo,
    context: async () => ({ identity: ANONYMOUS }),
    stream: createHttpSubscriptions({
      core,
      ...options,
      session: async (req) => {
        if (req.headers.authorization === 'Bearer bad')
          throw new HttpError(401, 'UNAUTHENTICATED', 'Invalid or expired access token');
        return { identity: ANONYMOUS, requestId: 'test-request' };
      },
    }),
  });
  const base = await listen(server, 0);
  return {
    url: `${base}/graphql`,
    core,
    http: server,
    close: async () => {
      await core.close();
      await closeServer(server, 1_000);
      await apollo.stop();
    },
  };
}

/** Polls `condition` every 10 ms until it holds, failing after `timeoutMs` (generous: never a timing assertion). */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads `response`'s body as text chunks, appending to `received.text` until the body ends. */
export function collectBody(response: Response): { text: string; ended: Promise<void> } {
  const received = { text: '', ended: Promise.resolve() };
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  received.ended = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      received.text += value;
    }
  })();
  return received;
}
