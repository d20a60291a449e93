import type { ServerResponse } from 'node:http';
import type { ExecutionResult, GraphQLFormattedError } from 'graphql';
import { createLogger } from '@supergraph/platform';

const log = createLogger('gateway');

/** How one streaming protocol frames a subscription on the wire (SSE, multipart). */
export interface StreamFraming {
  readonly headers: Readonly<Record<string, string>>;
  /** Written with the headers, so the client knows at once that the stream is open. */
  readonly opening: string;
  /** Written while idle, so proxies and clients do not time the connection out. */
  readonly heartbeat: string;
  next(result: ExecutionResult): string;
  /** The stream broke inside the gateway (the core's iterator threw): one masked error, then `closing`. */
  failure(error: GraphQLFormattedError): string;
  readonly closing: string;
}

export interface StreamResultsOptions {
  heartbeatMs: number;
  /** Aborted when the client went away: nothing more is written and the results are returned (the upstream closes). */
  signal: AbortSignal;
}

const INTERNAL_ERROR: GraphQLFormattedError = Object.freeze({
  message: 'Internal server error',
  extensions: { code: 'INTERNAL_SERVER_ERROR' },
});

/**
 * Writes the core's results to `res` in `framing` until the stream ends (then
 * `closing`) or the client goes away. Waits for `drain` between results, so a
 * slow client slows its own stream instead of growing the gateway's memory.
 */
export async function streamResults(
  res: ServerResponse,
  results: AsyncIterableIterator<ExecutionResult>,
  framing: StreamFraming,
  options: StreamResultsOptions,
): Promise<void> {
  const { signal } = options;
  const stopReading = () => void results.return?.()?.catch(() => undefined);
  if (signal.aborted) return stopReading();
  signal.addEventListener('abort', stopReading, { once: true });
  res.writeHead(200, framing.headers);
  res.write(framing.opening);
  const heartbeat = setInterval(() => {
    if (!signal.aborted && !res.writableEnded) res.write(framing.heartbeat);
  }, options.heartbeatMs);
  try {
    for await (const result of results) {
      if (signal.aborted) break;
      await write(res, framing.next(result));
    }
  } catch (error) {
    if (!signal.aborted) {
      log.error({ err: error }, 'subscription stream failed');
      await write(res, framing.failure(INTERNAL_ERROR));
    }
  } finally {
    clearInterval(heartbeat);
    signal.removeEventListener('abort', stopReading);
    // A no-op on a finished iterator; releases one that threw without cleaning up after itself.
    stopReading();
  }
  if (!res.writableEnded) res.end(signal.aborted ? undefined : framing.closing);
}

/** Writes `chunk`, resolving once the socket took it (or went away). */
async function write(res: ServerResponse, chunk: string): Promise<void> {
  if (res.writableEnded || res.destroyed || res.write(chunk)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
