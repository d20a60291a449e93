import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { decodeJwt } from 'jose';
import type { SubscriptionCore, SubscriptionRequest, SubscriptionSession } from './core.ts';
import { streamMultipart } from './multipart.ts';
import { streamSse } from './sse.ts';

/** The two streaming answers a client can ask `/graphql` for with its `Accept` header. */
export type StreamingProtocol = 'sse' | 'multipart';

export interface HttpSubscriptionsOptions {
  core: SubscriptionCore;
  /**
   * Establishes who subscribes exactly as the gateway's HTTP `context` does
   * (persisted-document policy, operation limits, authentication, client
   * address, budget, request id, `traceparent`). Throws `HttpError` (401,
   * 429, …) to refuse before the stream starts: the client gets the same
   * answer an HTTP query would.
   */
  session(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<SubscriptionSession>;
  /** SSE keep-alive comments (`:`) while idle. Default 12 s, as graphql-sse's own server. */
  sseKeepAliveMs?: number;
  /** Multipart heartbeat parts (`{}`) while idle. Default 5 s, as Apollo Router. */
  multipartHeartbeatMs?: number;
}

/**
 * The HTTP side of the gateway's subscriptions: picks the streaming protocol
 * from `Accept`, reads the request parameters (POST JSON body or GET query
 * string), authenticates like any HTTP request, and hands the core's stream to
 * the SSE or multipart writer. Answers false (Apollo handles the request, as
 * before) for everything that is not a subscription asking for a stream, so a
 * subscription over plain JSON keeps its 400 `SUBSCRIPTIONS_NOT_SUPPORTED`.
 *
 * @example
 * createGraphQLHttpServer({ ..., stream: createHttpSubscriptions({ core, session }) });
 */
export function createHttpSubscriptions(
  options: HttpSubscriptionsOptions,
): (req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<boolean> {
  const sseKeepAliveMs = options.sseKeepAliveMs ?? 12_000;
  const multipartHeartbeatMs = options.multipartHeartbeatMs ?? 5_000;
  return async (req, res, body) => {
    const protocol = streamingProtocolOf(req.headers.accept);
    if (!protocol) return false;
    const request = subscriptionRequestOf(
      req.method ?? 'GET',
      body,
      new URL(req.url ?? '/', 'http://localhost').search,
    );
    if (!request || !(options.core.isSubscription(request) || isUnparsable(request.query))) return false;

    const session = await options.session(req, res, body);
    const controller = new AbortController();
    // `res` closes when the answer is done or the client went away; only the latter aborts the upstream.
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const result = await options.core.subscribe(request, session, controller.signal);
    if (!isAsyncIterable(result)) {
      if (!controller.signal.aborted) sendRefusal(req, res, result);
      return true;
    }
    if (protocol === 'sse') await streamSse(res, result, { keepAliveMs: sseKeepAliveMs, signal: controller.signal });
    else await streamMultipart(res, result, { heartbeatMs: multipartHeartbeatMs, signal: controller.signal });
    return true;
  };
}

/**
 * `text/event-stream` → SSE; `multipart/mixed` with a `subscriptionSpec`
 * parameter (Apollo Client sends `multipart/mixed;boundary=graphql;subscriptionSpec=1.0`,
 * older ones combine it with `deferSpec=20220824`) → multipart. Media ranges
 * with `q=0` do not count. SSE wins when a client names both.
 */
export function streamingProtocolOf(accept: string | undefined): StreamingProtocol | undefined {
  let protocol: StreamingProtocol | undefined;
  for (const range of (accept ?? '').split(',')) {
    const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const named = new Map(
      parameters.map((parameter) => {
        const at = parameter.indexOf('=');
        const value = at < 0 ? '' : parameter.slice(at + 1).trim();
        return [at < 0 ? parameter : parameter.slice(0, at).trim(), value.replace(/^"(.*)"$/, '$1')];
      }),
    );
    if (named.has('q') && !(Number(named.get('q')) > 0)) continue;
    if (type === 'text/event-stream') return 'sse';
    if (type === 'multipart/mixed' && named.get('subscriptionspec') === '1.0') protocol = 'multipart';
  }
  return protocol;
}

/**
 * GraphQL-over-HTTP's request parameters: a POST's JSON object, or a GET's
 * `query`, `operationName`, `documentId` and JSON-encoded `variables` /
 * `extensions`. Undefined when they are malformed, so Apollo answers them with
 * its usual 400 `BAD_REQUEST`.
 */
export function subscriptionRequestOf(method: string, body: unknown, search: string): SubscriptionRequest | undefined {
  const verb = method.toUpperCase();
  if (verb === 'POST') return isRecord(body) ? requestOf(body) : undefined;
  if (verb !== 'GET') return undefined;
  const params = new URLSearchParams(search);
  const fields: Record<string, unknown> = {};
  for (const name of ['query', 'operationName', 'documentId']) {
    const value = params.get(name);
    if (value !== null) fields[name] = value;
  }
  for (const name of ['variables', 'extensions']) {
    const value = params.get(name);
    if (value === null || value === '') continue;
    try {
      fields[name] = JSON.parse(value) as unknown;
    } catch {
      return undefined;
    }
  }
  return requestOf(fields);
}

function requestOf(fields: Record<string, unknown>): SubscriptionRequest | undefined {
  const { query, variables, operationName, extensions, documentId } = fields;
  if (query !== undefined && typeof query !== 'string') return undefined;
  if (variables !== undefined && variables !== null && !isRecord(variables)) return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined;
  if (extensions !== undefined && extensions !== null && !isRecord(extensions)) return undefined;
  if (documentId !== undefined && typeof documentId !== 'string') return undefined;
  return { query, variables, operationName, extensions, documentId };
}

/**
 * When the request's access token expires (`exp`, in ms), so its stream ends
 * then instead of outliving it. Read only after the authenticator verified
 * the token; API keys and session tokens carry no expiry here.
 */
export function credentialExpiryOf(req: IncomingMessage): { credentialExpiresAt?: number } {
  const match = /^Bearer\s+([\w-]+\.[\w-]*\.[\w-]*)\s*$/i.exec(req.headers.authorization ?? '');
  if (!match?.[1]) return {};
  try {
    const { exp } = decodeJwt(match[1]);
    return typeof exp === 'number' ? { credentialExpiresAt: exp * 1000 } : {};
  } catch {
    return {};
  }
}

/** HTTP statuses of the codes a subscription can be refused with before it starts; every other code is the client's mistake (400). */
const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
};

/** The HTTP status of a refusal: the first error's `extensions.http.status`, else its code's, else 400. */
export function statusOfRefusal(errors: readonly GraphQLFormattedError[] | undefined): number {
  const extensions = errors?.[0]?.extensions;
  const http = extensions?.['http'] as { status?: unknown } | undefined;
  if (typeof http?.status === 'number' && http.status >= 400 && http.status < 600) return http.status;
  return STATUS_OF_CODE[String(extensions?.['code'])] ?? 400;
}

/**
 * A subscription refused before it started (bad document, limits, access
 * control, safelist) answers a plain GraphQL response with its status, as an
 * HTTP query would. `application/graphql-response+json` when the client
 * accepts it: Apollo Client then reads the errors (and their codes) from a
 * 4xx instead of reporting a bare `ServerError`; graphql-sse's client gets
 * `application/json` and sees the status.
 */
function sendRefusal(req: IncomingMessage, res: ServerResponse, result: ExecutionResult): void {
  const errors = (result.errors ?? []).map((error) => withoutHttp(toFormatted(error)));
  const status = result.errors?.length ? statusOfRefusal(result.errors.map(toFormatted)) : 200;
  const graphqlResponse = /application\/graphql-response\+json/i.test(req.headers.accept ?? '');
  if (res.headersSent) return void res.end();
  res.writeHead(status, {
    'content-type': `${graphqlResponse ? 'application/graphql-response+json' : 'application/json'}; charset=utf-8`,
    'cache-control': 'no-store',
  });
  res.end(JSON.stringify(errors.length ? { errors } : { data: result.data ?? null }));
}

function toFormatted(error: NonNullable<ExecutionResult['errors']>[number]): GraphQLFormattedError {
  return typeof error.toJSON === 'function' ? error.toJSON() : (error as GraphQLFormattedError);
}

function withoutHttp(error: GraphQLFormattedError): GraphQLFormattedError {
  if (!error.extensions || !('http' in error.extensions)) return error;
  const { http: _http, ...extensions } = error.extensions;
  return { ...error, extensions };
}

/**
 * A document that does not parse cannot say what it is: asked for a stream,
 * the core answers it (400 `GRAPHQL_PARSE_FAILED`) rather than Apollo, whose
 * answer to an event-stream `Accept` is a code-less 406.
 */
function isUnparsable(query: string | undefined): boolean {
  if (typeof query !== 'string') return false;
  try {
    parse(query, { noLocation: true });
    return false;
  } catch {
    return true;
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterableIterator<ExecutionResult> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === 'function';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
