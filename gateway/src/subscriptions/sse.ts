import type { ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import { streamResults, type StreamFraming } from './response-stream.ts';

/**
 * graphql-sse's "distinct connections" mode
 * (https://github.com/enisdenjo/graphql-sse/blob/master/PROTOCOL.md): one
 * request, one operation; `event: next` per result, then `event: complete`
 * with an empty `data:`; a `:` comment right away (some browsers wait for a
 * first byte) and every keep-alive interval. Written by hand rather than with
 * graphql-sse's `createHandler`, which executes against a schema of its own
 * (ours is the core's), matches `Accept` only when it is exactly
 * `text/event-stream`, and brings single-connection reservations we do not serve.
 */
export const SSE_FRAMING: StreamFraming = {
  headers: {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    // nginx buffers proxied responses unless told not to.
    'x-accel-buffering': 'no',
  },
  opening: ':\n\n',
  heartbeat: ':\n\n',
  next: (result: ExecutionResult) => event('next', result),
  failure: (error) => event('next', { errors: [error] }),
  closing: 'event: complete\ndata:\n\n',
};

/** JSON never holds a raw line break, so one `data:` line carries the whole result. */
function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

export interface SseOptions {
  /** Default 12 s, graphql-sse's own interval. */
  keepAliveMs?: number;
  /** Aborted when the client disconnected. */
  signal: AbortSignal;
}

/** Streams a subscription's results to `res` as graphql-sse's distinct-connections event stream. */
export function streamSse(
  res: ServerResponse,
  results: AsyncIterableIterator<ExecutionResult>,
  options: SseOptions,
): Promise<void> {
  return streamResults(res, results, SSE_FRAMING, {
    heartbeatMs: options.keepAliveMs ?? 12_000,
    signal: options.signal,
  });
}
