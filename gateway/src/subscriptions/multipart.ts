import type { ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import { streamResults, type StreamFraming } from './response-stream.ts';

/** The part delimiter, as `boundary="graphql"` announces it. */
const DELIMITER = '\r\n--graphql';

/**
 * Each part is written with the delimiter that ends it: Apollo Client's
 * reader hands a part over only once it has seen the next delimiter, so a
 * part written on its own would wait for the next event or heartbeat. The
 * bytes are those of Apollo's multipart subscription protocol all the same:
 * `\r\n--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n<json>`
 * per part, `\r\n--graphql--\r\n` at the end.
 */
function part(json: unknown): string {
  return `\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${JSON.stringify(json)}${DELIMITER}`;
}

/**
 * Apollo's multipart HTTP subscription protocol
 * (https://www.apollographql.com/docs/graphos/routing/operations/subscriptions/multipart-protocol):
 * `{"payload": <result>}` per event, `{}` heartbeats, a transport-level error
 * as `{"payload": null, "errors": [...]}`, then the closing delimiter.
 */
export const MULTIPART_FRAMING: StreamFraming = {
  headers: {
    'content-type': 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  },
  opening: DELIMITER,
  heartbeat: part({}),
  next: (result: ExecutionResult) => part({ payload: result }),
  failure: (error) => part({ payload: null, errors: [error] }),
  closing: '--\r\n',
};

export interface MultipartOptions {
  /** Default 5 s, Apollo Router's interval. */
  heartbeatMs?: number;
  /** Aborted when the client disconnected. */
  signal: AbortSignal;
}

/** Streams a subscription's results to `res` in Apollo's multipart subscription protocol. */
export function streamMultipart(
  res: ServerResponse,
  results: AsyncIterableIterator<ExecutionResult>,
  options: MultipartOptions,
): Promise<void> {
  return streamResults(res, results, MULTIPART_FRAMING, {
    heartbeatMs: options.heartbeatMs ?? 5_000,
    signal: options.signal,
  });
}
